"""Topics, scrape cadence and default ports shared by the soak modules."""

from __future__ import annotations

from contracts import topics

ROLE_SLOT = "kefu.role.*"
"""A conversation event may go to either role topic: its one expected output slot."""
ROLE_TOPICS = (topics.ROLE_PRESALE, topics.ROLE_AFTERSALE)
WATCHED_TOPICS = (*ROLE_TOPICS, topics.ORDERS, topics.ESCALATIONS, topics.DLQ)
SCRAPE_EVERY = 2.0
MAX_DRAIN = 600.0
DEFAULT_PORTS = {"router": 8081, "presale": 8082, "aftersale": 8083, "notifier": 8084}
