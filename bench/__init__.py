"""Benchmarks: `python -m bench.<name>`; each ends with a line `BENCH <name> key=value ...`."""
