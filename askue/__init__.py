"""Metering data: protocol clients, ASKUE sources, ingest, validation and substitution, 80020 exchange
files and the meter simulators."""
