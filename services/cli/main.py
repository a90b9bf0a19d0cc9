"""`kefu`: the command line. Each subcommand lives in its own module with `register()`."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

SUBCOMMANDS = (
    "up_cmd", "run_cmd", "topics_cmd", "demo_cmd", "contracts_cmd", "route_cmd",
    "report_cmd", "sql_cmd", "users_cmd",
)


class KefuArgumentParser(argparse.ArgumentParser):
    """Wrong usage prints what was wrong (and the usage) and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"kefu: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = KefuArgumentParser(
        prog="kefu", description="kefu: event-driven customer-service backbone (Kafka + Redis)"
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=KefuArgumentParser
    )
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"services.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"services.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # The reader of the output went away (`kefu route --report | head`): stop quietly,
        # as cat does; stdout goes nowhere so that the exit's flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
