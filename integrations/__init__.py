"""Clients of outside systems. Plain classes: no Flask, no database."""
