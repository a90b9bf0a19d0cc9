"""Pieces every benchmark shares: Kafka reads and writes on the embedded broker, the raw
passthrough baseline, service processes, and how figures are printed."""
