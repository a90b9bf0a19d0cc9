"""`kefu sql`: one read-only ClickHouse query over the analytics store (admin token)."""

from __future__ import annotations

import argparse
import json
import sys

from services.analytics.report.render import FORMATS
from services.cli.analytics_api import ApiError, add_api_arguments, call


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sql", help="a read-only SQL query over the analytics store",
        description="Run one read-only ClickHouse query (tables: messages, commerce, "
        "order_items, rounds, clocks, escalations, assignments, notifications, "
        "dead_letters). It needs the admin token: it reads every shop.")
    parser.add_argument("query", help="the SELECT to run, or - to read it from stdin")
    parser.add_argument("--format", choices=FORMATS, default="table")
    add_api_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from services.analytics.report.render import render_sql
    from services.analytics.store import QueryResult

    text = sys.stdin.read() if args.query == "-" else args.query
    if not text.strip():
        print("kefu: sql: the query is empty", file=sys.stderr)
        return 2
    try:
        body = call(args, "/api/v1/sql", body={"query": text})
    except ApiError as error:
        print(f"kefu: sql: {error}", file=sys.stderr)
        return 2 if error.usage else 1
    doc = json.loads(body)
    result = QueryResult(doc["columns"], doc["types"], doc["rows"])
    sys.stdout.write(render_sql(result, args.format))
    return 0
