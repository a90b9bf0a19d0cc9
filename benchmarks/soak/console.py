"""Timestamped progress messages on stderr."""

from __future__ import annotations

import sys
from datetime import UTC, datetime


def say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)
