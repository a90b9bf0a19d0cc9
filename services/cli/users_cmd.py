"""`kefu users`: the supervisor console's accounts, kept in Redis (KEFU_REDIS_URL, else
the Redis that `kefu up` wrote to <data-dir>/console.json)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

CONSOLE_FILE = "console.json"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "users", help="supervisor console accounts",
        description="Add, list or remove the supervisor console's users. A password is "
        "read from stdin with --password-stdin, else a new one is made and printed once.")
    parser.add_argument("--redis-url", help="default: KEFU_REDIS_URL, else kefu up's Redis")
    parser.add_argument("--data-dir", type=Path, default=Path("var"),
                        help="where kefu up keeps its data (default ./var)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                    parser_class=type(parser))
    add = actions.add_parser("add", help="create a user (or replace one: new role, shops, "
                             "password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=("supervisor", "analyst", "admin"))
    add.add_argument("--shop", action="append", default=[], dest="shops",
                     help="a shop the user runs (repeat for several); admins see every shop")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of stdin")
    remove = actions.add_parser("remove", help="delete a user (their sessions end at once)")
    remove.add_argument("name")
    actions.add_parser("list", help="every user with role and shops")
    parser.set_defaults(func=run)


def redis_url(args: argparse.Namespace) -> str:
    if args.redis_url:
        return args.redis_url
    if os.environ.get("KEFU_REDIS_URL"):
        return os.environ["KEFU_REDIS_URL"]
    written = args.data_dir / CONSOLE_FILE
    if written.is_file():
        return json.loads(written.read_text(encoding="utf-8"))["redis_url"]
    return "redis://127.0.0.1:6379/0"


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from services.console.users import UserError, Users, new_password
    from services.core.redis import shown_url

    redis = Redis.from_url(redis_url(args))
    users = Users(redis)
    try:
        if args.action == "add":
            password = sys.stdin.readline().rstrip("\n") if args.password_stdin \
                else new_password()
            user = await users.add(args.name, password, args.role, args.shops)
            print(f"user {user.name}: {user.role}, shops {', '.join(sorted(user.shops)) or '*'}")
            if not args.password_stdin:
                print(f"password: {password}")
        elif args.action == "remove":
            if not await users.remove(args.name):
                print(f"kefu: no user {args.name!r}", file=sys.stderr)
                return 1
            print(f"user {args.name} removed")
        else:
            for name in await users.names():
                user = await users.get(name)
                if user is not None:
                    print(f"{user.name}\t{user.role}\t{','.join(sorted(user.shops)) or '*'}")
        return 0
    except UserError as bad:
        print(f"kefu: {bad}", file=sys.stderr)
        return 2
    except (RedisError, OSError) as down:
        print(f"kefu: cannot reach Redis at {shown_url(redis_url(args))}: {down}",
              file=sys.stderr)
        return 1
    finally:
        await redis.aclose()
