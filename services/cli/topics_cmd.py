"""`kefu topics create`: idempotent provisioning of every topic in the contract."""

from __future__ import annotations

import argparse
import asyncio


def register(subparsers) -> None:
    parser = subparsers.add_parser("topics", help="manage the contract's topics")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create", help="create every missing kefu topic (existing ones are left alone)"
    )
    create.add_argument(
        "--partitions",
        type=int,
        default=None,
        help="partitions per new topic (default KEFU_TOPIC_PARTITIONS, 6)",
    )
    create.set_defaults(func=run_create)


def run_create(args: argparse.Namespace) -> int:
    from contracts.topics import ALL_TOPICS
    from services.core.kafka import create_topics
    from services.core.settings import Settings

    if args.partitions is not None and args.partitions < 1:
        print("kefu: --partitions must be at least 1")
        return 2
    settings = Settings()
    created = asyncio.run(create_topics(settings, list(ALL_TOPICS), args.partitions))
    for topic in ALL_TOPICS:
        print(f"{topic}: {'created' if topic in created else 'exists'}")
    return 0
