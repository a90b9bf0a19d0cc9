"""`kefu run SERVICE`: one service against KEFU_KAFKA_BOOTSTRAP and KEFU_REDIS_URL."""

from __future__ import annotations

import argparse
import asyncio
import sys

from services.cli.services import SERVICES, create_app, is_available


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run one service (what a container runs)",
        description="Run one service against KEFU_KAFKA_BOOTSTRAP and KEFU_REDIS_URL.",
    )
    parser.add_argument("service", choices=SERVICES)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from services.core.settings import Settings

    if not is_available(args.service):
        print(f"kefu: service {args.service!r} is not part of this build", file=sys.stderr)
        return 2
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"kefu: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    try:
        app = create_app(args.service, settings)
    except Exception as exc:  # PolicyError and friends: stop at start-up, say why
        print(f"kefu: {args.service} cannot start: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(app.run())
