"""`kefu report`: the data analyst's report of one shop, from the analytics API."""

from __future__ import annotations

import argparse
import sys

from services.analytics.report.render import FORMATS
from services.analytics.report.request import GROUPS
from services.cli.analytics_api import ApiError, add_api_arguments, call


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help="a shop's analytics report (response times, SLA, demand, products)",
        description="Rounds and response times, SLA attainment, escalations, demand, "
        "products, conversion and pipe health of one shop over a window. Dates are the "
        "shop's local days (--to included); RFC 3339 times are instants (--to excluded).")
    parser.add_argument("--shop", required=True, help="shop id")
    parser.add_argument("--from", dest="start", metavar="FROM",
                        help="first day (YYYY-MM-DD) or time (default: 7 days before --to)")
    parser.add_argument("--to", dest="end", metavar="TO",
                        help="last day or end time (default: now)")
    parser.add_argument("--by", choices=GROUPS, default="agent",
                        help="one row per agent, role, intent, hour, day or item (default agent)")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--intent", help="count only this intent in the demand heatmap")
    parser.add_argument("--limit", type=int, default=20, help="products listed (default 20)")
    add_api_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    params = {"shop": args.shop, "from": args.start, "to": args.end, "by": args.by,
              "intent": args.intent, "limit": args.limit, "format": args.format}
    try:
        body = call(args, "/api/v1/report", params=params)
    except ApiError as error:
        print(f"kefu: report: {error}", file=sys.stderr)
        return 2 if error.usage else 1
    sys.stdout.write(body.decode("utf-8"))
    return 0
