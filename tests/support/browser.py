"""Debian's Chromium driven by Playwright (Playwright cannot download a browser here),
headless, with the flags a closed network needs; screenshots go to the test artifacts
(`KEFU_TEST_ARTIFACTS`, default var/test-artifacts)."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
INSTALL = "apt-get install -y chromium fonts-wqy-microhei"


def chromium() -> str:
    """The browser's path; a missing browser fails the test (CI always has it: `make
    test` installs it), with the command that installs it."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"the browser tests need Debian's chromium at {CHROMIUM}: run "
                           f"`sudo {INSTALL}` (make test does it when run as root)")
    return CHROMIUM


def artifact(name: str) -> Path:
    directory = Path(os.environ.get("KEFU_TEST_ARTIFACTS", "var/test-artifacts"))
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name
