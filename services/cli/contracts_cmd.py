"""`kefu contracts export DIR`: JSON Schemas of every message and the AsyncAPI document."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("contracts", help="export the wire contract")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser(
        "export", help="write JSON Schemas (inbound/, outputs/) and asyncapi.json into DIR"
    )
    export.add_argument("directory", type=Path, metavar="DIR")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from importlib.metadata import version

    from contracts.schema import write_json_schemas
    from services.cli.services import available_services, create_app
    from services.core.asyncapi import build_asyncapi
    from services.core.settings import Settings

    directory: Path = args.directory
    if directory.exists() and not directory.is_dir():
        print(f"kefu: {directory} exists and is not a directory", file=sys.stderr)
        return 2
    directory.mkdir(parents=True, exist_ok=True)
    written = write_json_schemas(directory)
    # Every service is built to be described, none runs: warnings about run-time
    # configuration (a missing token or secret) would only mislead here.
    settings = Settings(log_format="console", log_level="ERROR")
    runtimes = [create_app(name, settings) for name in available_services()]
    doc = build_asyncapi(runtimes, version=version("kefu"))
    target = directory / "asyncapi.json"
    target.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    written.append(target)
    print(f"wrote {len(written)} files to {directory}")
    for path in written:
        print(f"  {path.relative_to(directory)}")
    return 0
