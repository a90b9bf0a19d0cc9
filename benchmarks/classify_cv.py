"""Out-of-fold accuracy of the whole classifier training on the TRAINING split.

    .venv/bin/python -m benchmarks.classify_cv [--seeds 7 11 23] [--first N] [--misses FILE]

For each seed, the training split is cut into five stratified folds; each fold is
classified by the router's combination (rules + model + stacking) trained with
`train.train` on the other four, so the stacking's own inner folds are nested inside.
Prints intent and role accuracy and per-intent F1 of rules, model and combined, the
accuracy on staged messages read without their stage, and the commonest confusions.
`--first N` scores only the first N lines (e.g. the messages of an older split, while
the newer lines still train); `--misses` writes the combined misses as JSON lines.
This is how the classifier's choices are made: the frozen test split is never read.
Needs scikit-learn (`pip install -e '.[train]'`); about 20 s per seed on one core.
"""

from __future__ import annotations

import argparse
import collections
import json

import numpy as np


def _f1(pairs: list[tuple[str, str]], intent: str) -> float:
    tp = sum(a == b == intent for a, b in pairs)
    predicted, support = sum(b == intent for _, b in pairs), sum(a == intent for a, _ in pairs)
    p, r = tp / predicted if predicted else 0.0, tp / support if support else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def run(seed: int, first: int | None, misses: list) -> None:
    from sklearn.model_selection import StratifiedKFold

    from services.router.classify.classifier import Classifier
    from services.router.classify.corpus import TRAIN_FILE, builtin_corpus
    from services.router.classify.lexicon import INTENTS
    from services.router.classify.model import _check
    from services.router.classify.report import evaluate
    from services.router.classify.train import train

    examples = builtin_corpus(TRAIN_FILE)
    rules = Classifier({}, model=None)
    y = [e.intent for e in examples]
    pairs: dict[str, list] = collections.defaultdict(list)
    roles: dict[str, list] = collections.defaultdict(list)
    unstaged = []
    for fit, held in StratifiedKFold(5, shuffle=True, random_state=seed).split(y, y):
        clf = Classifier({}, model=_check(train([examples[i] for i in fit], rules, "cv"), "cv"))
        held = [examples[i] for i in held if first is None or i < first]
        for ev in evaluate(held, clf):
            pairs[ev.method] += ev.pairs
            roles[ev.method] += ev.roles
            if ev.method == "combined":
                misses += [(e.intent, got, e.stage, e.lang, e.text)
                           for e, (_, got) in zip(held, ev.pairs, strict=True) if got != e.intent]
        unstaged += [clf.intent(e.text)[0] == e.intent for e in held if e.stage is not None]
    print(f"seed {seed}: {len(pairs['combined'])} messages")
    for method, got in pairs.items():
        f1 = " ".join(f"{i[:8]} {_f1(got, i):.3f}" for i in INTENTS)
        print(f"  {method:9} intent {np.mean([a == b for a, b in got]):.4f} "
              f"role {np.mean(roles[method]):.4f}  F1: {f1}")
    print(f"  staged messages read without their stage: {np.mean(unstaged):.4f}")
    confusions = collections.Counter((a, b) for a, b in pairs["combined"] if a != b)
    print("  commonest confusions:", ", ".join(f"{a}->{b} {n}"
                                               for (a, b), n in confusions.most_common(6)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 11, 23])
    parser.add_argument("--first", type=int, metavar="N")
    parser.add_argument("--misses", metavar="FILE")
    args = parser.parse_args()
    misses: list = []
    for seed in args.seeds:
        run(seed, args.first, misses)
    if args.misses:
        with open(args.misses, "w", encoding="utf-8") as out:
            out.writelines(json.dumps(m, ensure_ascii=False) + "\n" for m in misses)


if __name__ == "__main__":
    main()
