"""`kefu run SERVICE`: one service against KEFU_KAFKA_BOOTSTRAP and KEFU_REDIS_URL."""

from __future__ import annotations

import argparse
import asyncio
import errno
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
    return asyncio.run(_serve(app, settings))


BIND_ERRORS = {errno.EADDRINUSE: "KEFU_HTTP_PORT", errno.EACCES: "KEFU_HTTP_PORT",
               errno.EADDRNOTAVAIL: "KEFU_HTTP_HOST"}


async def _serve(app, settings) -> int:
    """Run the service; if its HTTP endpoint cannot listen (the port is taken, or not
    allowed, or the host is not ours), say so in one line naming the setting, close
    what was opened and exit 2."""
    try:
        return await app.run()
    except OSError as exc:
        setting = BIND_ERRORS.get(exc.errno)
        if setting is None:
            raise
        where = f"{settings.http_host}:{settings.http_port_for(app.name)}"
        app.log.error(f"cannot listen on {where} ({exc.strerror or exc}): set {setting} "
                      f"to a free address", setting=setting)
        try:
            await app.stop()
        except Exception:  # noqa: BLE001 - exiting anyway; the line above says why
            pass
        return 2
