"""Reports and time series over the store: one JSON shape for `kefu report`, the HTTP
API and the supervisor console."""
