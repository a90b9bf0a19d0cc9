"""The HTTP ingest gateway: signed HTTP requests in, `kefu.inbound` records out, and a
per-event answer that says truthfully what happened (accepted, duplicate, rejected).

Pure parts (auth, events, answers, budget) have no I/O; `claims`, `writer` and `probe`
talk to Redis and the broker; `ingest` puts them together; `api` is the thin HTTP layer;
`app` is the composition root (`kefu run gateway`)."""
