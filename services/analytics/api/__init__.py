"""The analytics HTTP API (FastAPI): reports, time series, SQL, and the OpenAPI document
at /api/v1/openapi.json."""
