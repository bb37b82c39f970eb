"""Sending notifications: e-mail now, SMS later."""
