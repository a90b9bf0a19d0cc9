"""Benchmarks that run on the embedded stack: `python -m benchmarks.<name>`."""
