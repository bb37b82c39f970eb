"""Meters on a loopback socket for tests and the demo: virtual meters with a plausible load profile and
TCP servers that answer for them in the Mercury 206 and IEC 61107 (Energomera) protocols."""
