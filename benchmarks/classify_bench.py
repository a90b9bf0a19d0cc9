"""CPU per buyer message of the router's classifier (no broker, no Redis).

    .venv/bin/python -m benchmarks.classify_bench [--passes 7] [--corpus FILE ...]
    .venv/bin/python -m benchmarks.classify_bench --router-texts 5000

Classifies every message of the labelled corpus (both splits, ~4,500 messages, with
their order stages), or N chat lines of router_bench's workload generator, per pass,
and prints the median CPU time (process_time) per message over the passes:
- "uncached": the per-text LRU is cleared before each pass, so every message is
  classified from scratch (normalise, keyword scan, features, model, combination);
- "cached": the same messages again without clearing, the path of a recurring short
  message ("在吗", template questions).
It prints numbers only; a shared machine is too noisy for assertions. To compare with
an older tree, run this file with that tree first on PYTHONPATH.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "services" / "router" / "classify" / "data"
CORPORA = [DATA / "intent_train.jsonl", DATA / "intent_test.jsonl"]


def _messages(paths: list[Path]) -> list[tuple[str, str | None]]:
    rows = [json.loads(line) for p in paths for line in p.read_text("utf-8").splitlines()]
    return [(r["text"], r.get("stage", r.get("order_stage"))) for r in rows]


def _router_texts(n: int) -> list[tuple[str, str | None]]:
    from benchmarks.router_bench import EventFactory

    factory = EventFactory(7, max(50, n // 8), "classify-bench")
    convs = factory.conversations
    return [(factory._text(convs[i % len(convs)]), None) for i in range(n)]


def _pass(classify, messages) -> float:
    start = time.process_time_ns()
    for text, stage in messages:
        classify(text, order_stage=stage)
    return (time.process_time_ns() - start) / len(messages) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=7)
    parser.add_argument("--corpus", type=Path, nargs="*", default=CORPORA)
    parser.add_argument("--router-texts", type=int, metavar="N",
                        help="N chat lines of router_bench's generator instead of the corpus")
    args = parser.parse_args()
    from services.router.classify import classifier as module
    from services.router.classify import classifier_for

    messages = _router_texts(args.router_texts) if args.router_texts else _messages(args.corpus)
    classify = classifier_for(None).classify
    _pass(classify, messages)  # warm: imports, automata, model
    uncached, cached = [], []
    for _ in range(args.passes):
        module._recent_intent.cache_clear()
        uncached.append(_pass(classify, messages))
        cached.append(_pass(classify, messages))
    print(f"{len(messages)} messages, {args.passes} passes, CPU per message (median, min)")
    for name, runs in (("uncached", uncached), ("cached", cached)):
        print(f"  {name:<9} {statistics.median(runs):7.1f} us  {min(runs):7.1f} us")


if __name__ == "__main__":
    main()
