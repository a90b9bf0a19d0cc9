"""The vendored front-end assets are the versions VERSIONS names, byte for byte, each
with its licence: the page works offline and a reviewer can check what it runs."""

from __future__ import annotations

import hashlib
from importlib.resources import files

VENDOR = files("services.console") / "static" / "vendor"


def test_every_vendored_asset_matches_its_recorded_version_and_has_its_licence() -> None:
    rows = [line.split() for line in (VENDOR / "VERSIONS").read_text().splitlines()
            if line and not line.startswith("#")]
    assert {row[0] for row in rows} == {"htmx.min.js", "htmx-ext-sse.min.js", "echarts.min.js"}
    for name, package, _version, _licence, sha in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha, name
        assert (VENDOR / f"LICENSE.{package.removesuffix('.org')}").is_file(), package
