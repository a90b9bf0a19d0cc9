"""Ingestion: kefu's topics -> one row per fact in the store, rounds and clocks decided at
ingest from event times and the shop's business hours of that time."""
