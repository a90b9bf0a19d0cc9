"""`kefu route`: classify buyer messages from the command line, print the accuracy
report, or train a shop's model.

    kefu route --text "..." [--stage shipped] [--sticky-role aftersale] [--policy F --shop S]
    echo '{"text": "在吗", "order_stage": "paid"}' | kefu route [--policy F]
    kefu route --report [CORPUS] [--policy F --shop S]
    kefu route --train FILE --policy F [--shop S]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from contracts.enums import OrderStage, Role
from services.cli.route_train import BUILTIN_TEST

_STAGES = tuple(stage.value for stage in OrderStage)
_ROLES = tuple(role.value for role in Role)

Keywords = Mapping[str, Sequence[str]] | None
Routing = tuple[Keywords, str | None]  # a shop's keywords and model file


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `route` subcommand to an argparse subparsers object (func=run)."""
    p = subparsers.add_parser("route", help="classify buyer messages (intent, role, priority)")
    p.add_argument("--text", help="one message; without it, JSON lines are read from stdin")
    p.add_argument("--stage", choices=_STAGES, help="order stage of the conversation")
    p.add_argument("--sticky-role", choices=_ROLES, help="the conversation's current role")
    p.add_argument("--policy", help="policy YAML file whose routing.keywords apply")
    p.add_argument("--shop", default="default", help="shop id in the policy (default: default)")
    p.add_argument("--report", nargs="?", const=BUILTIN_TEST, metavar="CORPUS",
                   help="print precision, recall, F1, confusion and calibration of rules, "
                        "model and both on a labelled JSON-lines file (default: the "
                        "built-in frozen test split)")
    p.add_argument("--train", metavar="FILE",
                   help="train the shop's model on the built-in corpus plus FILE (JSON "
                        "lines: text, intent, stage) into the policy's routing.model")
    p.set_defaults(func=run)
    return p


def _routing_source(policy_path: str | None) -> Callable[[str], Routing]:
    if not policy_path:
        return lambda shop: (None, None)
    from services.core.policy import load_policy  # lazy: written concurrently

    policy = load_policy(policy_path)
    return lambda shop: (policy.for_shop(shop).routing.keywords,
                         policy.for_shop(shop).routing.model)


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def _result(text: str, stage: str | None, sticky: str | None, routing: Routing) -> dict:
    from services.router.classify import classifier_for

    c = classifier_for(*routing).classify(text, order_stage=stage, sticky_role=sticky)
    return {"intent": c.intent, "role": c.role, "priority": c.priority,
            "confidence": c.confidence, "reason": c.reason}


def _check_line(obj: Any) -> str | None:
    """Return what is wrong with one stdin object, or None."""
    if not isinstance(obj, dict):
        return "expected a JSON object"
    if not isinstance(obj.get("text"), str):
        return "missing or non-string field 'text'"
    if obj.get("order_stage") is not None and obj["order_stage"] not in _STAGES:
        return f"unknown order_stage {obj['order_stage']!r}"
    if obj.get("sticky_role") is not None and obj["sticky_role"] not in _ROLES:
        return f"unknown sticky_role {obj['sticky_role']!r}"
    if obj.get("shop_id") is not None and not isinstance(obj["shop_id"], str):
        return "field 'shop_id' must be a string"
    return None


def run(args: argparse.Namespace) -> int:
    """Execute `kefu route`; returns the exit code (1 if any input line was bad)."""
    if getattr(args, "report", None) or getattr(args, "train", None):
        from services.cli.route_train import report, train

        return train(args) if getattr(args, "train", None) else report(args)
    try:
        keywords_for = _routing_source(getattr(args, "policy", None))
        shop = getattr(args, "shop", None) or "default"
        if getattr(args, "text", None) is not None:
            _emit(_result(args.text, args.stage, args.sticky_role, keywords_for(shop)))
            return 0
    except BrokenPipeError:
        raise  # the reader went away: main() ends quietly
    except Exception as e:  # policy file or shop keywords invalid: say so, don't trace
        print(f"kefu route: {type(e).__name__}: {e}", file=sys.stderr)
        return 2
    rc = 0
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            _emit({"line": n, "error": f"invalid JSON: {e}"})
            rc = 1
            continue
        problem = _check_line(obj)
        try:
            if problem is None:
                kw = keywords_for(obj.get("shop_id") or shop)
                _emit(_result(obj["text"], obj.get("order_stage"), obj.get("sticky_role"), kw))
                continue
        except Exception as e:  # e.g. unknown shop or bad keywords for that shop
            problem = f"{type(e).__name__}: {e}"
        _emit({"line": n, "error": problem})
        rc = 1
    return rc
