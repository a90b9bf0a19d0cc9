"""`kefu route --report` and `kefu route --train`: the accuracy report and a shop's
own model. Mistakes (unreadable files, a policy without `routing.model`, no
scikit-learn) print what was wrong and return 2."""

from __future__ import annotations

import argparse
import sys

BUILTIN_TEST = "built-in"


class _Usage(Exception):
    """A mistake on the command line or in its files: the message says which."""


def _shop_routing(args: argparse.Namespace):
    """(keywords, model path, policy source) of --shop in --policy (defaults without)."""
    if not getattr(args, "policy", None):
        return None, None, None
    from services.core.policy import PolicyError, load_policy

    try:
        policy = load_policy(args.policy)
    except PolicyError as e:
        raise _Usage(str(e)) from e
    routing = policy.for_shop(getattr(args, "shop", None) or "default").routing
    return routing.keywords, routing.model, policy.source


def _examples(path: str):
    from services.router.classify.corpus import TEST_FILE, CorpusError, builtin_corpus, read_corpus

    if path == BUILTIN_TEST:
        return builtin_corpus(TEST_FILE), f"the frozen test split ({TEST_FILE})"
    try:
        return read_corpus(path), path
    except CorpusError as e:
        raise _Usage(str(e)) from e


def _fail(command: str, e: Exception) -> int:
    print(f"kefu route {command}: {e}", file=sys.stderr)
    return 2


def report(args: argparse.Namespace) -> int:
    """Print the report of rules, model and both on a labelled file."""
    from services.router.classify import classifier_for
    from services.router.classify.model import ModelError
    from services.router.classify.report import evaluate
    from services.router.classify.report_text import full_report

    try:
        keywords, model, _ = _shop_routing(args)
        examples, name = _examples(args.report)
        clf = classifier_for(keywords, model)
    except (_Usage, ModelError, ValueError) as e:
        return _fail("--report", e)
    if not examples:
        return _fail("--report", f"{name} has no labelled messages")
    print(full_report(evaluate(examples, clf), f"{len(examples)} messages of {name}"))
    return 0


def train(args: argparse.Namespace) -> int:
    """Train on the built-in training split plus the shop's file; write the file the
    policy's `routing.model` names for --shop, then print the test-split summary."""
    from services.router.classify.classifier import Classifier
    from services.router.classify.corpus import TRAIN_FILE, builtin_corpus
    from services.router.classify.model import load_model
    from services.router.classify.report import evaluate
    from services.router.classify.report_text import summary
    from services.router.classify.train import TrainingUnavailable, write_model
    from services.router.classify.train import train as fit

    shop = getattr(args, "shop", None) or "default"
    try:
        if not getattr(args, "policy", None):
            raise _Usage("--train needs --policy: the shop's routing.model names the output")
        keywords, out, source = _shop_routing(args)
        if not out:
            raise _Usage(f"{source}: shops.{shop}.routing.model is not set: name the file "
                         "the model is written to")
        own, name = _examples(args.train)
        if not own:
            raise _Usage(f"{name} has no labelled messages")
        rules = Classifier(keywords, model=None)
        arrays = fit([*builtin_corpus(TRAIN_FILE), *own], rules,
                     f"built-in {TRAIN_FILE} + {name}")
        write_model(arrays, out)
    except (_Usage, TrainingUnavailable, ValueError, OSError) as e:
        return _fail("--train", e)
    test, test_name = _examples(BUILTIN_TEST)
    print(f"wrote {out}: {len(own)} messages of {name} + the built-in training split")
    print(f"on {test_name}:\n" + summary(evaluate(test, Classifier(keywords, load_model(out)))))
    return 0
