"""`kefu route --train FILE`: a shop's own model from its labelled messages."""

from __future__ import annotations

import argparse
import contextlib
import io
import json

import pytest

from services.cli import route_cmd
from services.router.classify import classifier_for
from services.router.classify.model import load_model

TEA_SHOP = [  # a tea shop's words the built-in corpus never saw
    ("这批龙井有点闷味", "quality_issue"), ("茶汤发浑，像是受潮了", "quality_issue"),
    ("普洱饼压得太松，一碰就散", "quality_issue"), ("金骏眉泡出来一股烟熏味", "quality_issue"),
    ("白茶饼里有茶梗和杂质", "quality_issue"), ("茶叶罐瘪了一块，茶叶结块", "quality_issue"),
    ("这个滇红是今年的春茶吗", "product_inquiry"), ("铁观音是浓香型还是清香型", "product_inquiry"),
    ("几泡之后还有味道吗", "product_inquiry"), ("茶饼是357克的吗", "product_inquiry"),
]


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="kefu")
    route_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["route", *argv])
    return args.func(args)


def _write_shop_files(folder):
    data = folder / "tea.jsonl"
    data.write_text("".join(json.dumps({"text": t, "intent": i, "stage": "delivered"},
                                       ensure_ascii=False) + "\n" for t, i in TEA_SHOP),
                    encoding="utf-8")
    model = folder / "models" / "tea.npz"  # a folder that does not exist yet
    policy = folder / "policy.yaml"
    policy.write_text(f"shops:\n  tea-1:\n    routing:\n      model: {model}\n", encoding="utf-8")
    return data, model, policy


@pytest.fixture
def shop_files(tmp_path):
    return _write_shop_files(tmp_path)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The shop's files after one `kefu route --train` (a training takes seconds): its
    exit code, what it printed, and the model it wrote."""
    data, model, policy = _write_shop_files(tmp_path_factory.mktemp("shop"))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = _run("--train", str(data), "--policy", str(policy), "--shop", "tea-1")
    return (data, model, policy), code, printed.getvalue(), load_model(model)


def test_a_shop_trains_its_own_model_into_the_file_its_policy_names(trained):
    (_, model, _), code, out, model_read = trained
    assert code == 0
    assert f"wrote {model}: 10 messages" in out and "combined" in out
    assert model_read.meta["examples"] > 3500 and "tea.jsonl" in model_read.meta["trained_on"]
    shop = classifier_for(None, str(model))
    assert shop.intent("龙井泡出来一股闷味", stage="delivered")[0] == "quality_issue"
    assert shop.intent("where is my parcel", stage="shipped")[0] == "logistics_inquiry"


def test_training_is_deterministic(trained, tmp_path):
    (data, _, _), _, _, first = trained
    model = tmp_path / "again.npz"
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"shops:\n  tea-1:\n    routing:\n      model: {model}\n", encoding="utf-8")
    assert _run("--train", str(data), "--policy", str(policy), "--shop", "tea-1") == 0
    again = load_model(model)
    assert again.rows == first.rows and again.meta == first.meta


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--train", "{data}"], "--train needs --policy"),
        (["--train", "{data}", "--policy", "{policy}"], "shops.default.routing.model is not set"),
        (["--train", "{missing}", "--policy", "{policy}", "--shop", "tea-1"], "cannot read"),
        (["--train", "{bad}", "--policy", "{policy}", "--shop", "tea-1"], "bad.jsonl:1: "),
    ],
)
def test_a_training_mistake_says_what_was_wrong(shop_files, capsys, argv, problem):
    data, _, policy = shop_files
    bad = data.with_name("bad.jsonl")
    bad.write_text('{"text": "hi", "intent": "smalltalk"}\n', encoding="utf-8")
    names = {"data": data, "policy": policy, "missing": data.with_name("no.jsonl"), "bad": bad}
    assert _run(*(a.format(**names) for a in argv)) == 2
    assert problem in capsys.readouterr().err


def test_without_scikit_learn_training_says_how_to_get_it(shop_files, capsys, monkeypatch):
    import sys as _sys

    data, model, policy = shop_files
    for name in ("sklearn", "sklearn.svm", "sklearn.model_selection"):
        monkeypatch.setitem(_sys.modules, name, None)  # import -> ImportError
    assert _run("--train", str(data), "--policy", str(policy), "--shop", "tea-1") == 2
    assert "pip install -e '.[train]'" in capsys.readouterr().err
    assert not model.exists()


def test_a_message_whose_keywords_change_with_the_stage_is_not_learned_without_it():
    """Staged messages are also learned without their stage, except those the keywords
    read otherwise without it: 换成红色 is an order change before shipment and a
    return once the stage is unknown (lexicon.yaml `_exchange`)."""
    from services.router.classify.classifier import Classifier
    from services.router.classify.corpus import Example
    from services.router.classify.train import _unstaged

    examples = [Example("能换成红色的吗", "order_change", "paid"),
                Example("帮我改个地址", "order_change", "paid"),
                Example("在吗", "greeting", None),
                Example("收到是坏的", "quality_issue", "delivered")]
    copies, origin = _unstaged(examples, Classifier({}, model=None))
    assert origin.tolist() == [1, 3]
    assert [(c.text, c.stage) for c in copies] == [("帮我改个地址", None), ("收到是坏的", None)]


def test_the_order_stage_is_a_prior_of_the_combination():
    """The stacked combination reads the stage as a vector of its own (before shipment,
    after, cancelled, unknown), whatever the message's length."""
    from services.router.classify.combine import STAGES
    from services.router.classify.model import builtin_model

    stage = builtin_model().meta["stage"]
    assert len(stage) == len(STAGES) == 4 and {len(row) for row in stage} == {9}
    clf = classifier_for(None)
    chatter = "你好 我想问一下 我前几天在你们家买的那个东西 " * 3
    for slow in ("怎么这么慢", "still nothing?"):
        assert clf.intent(chatter + slow, stage="paid")[0] == "urge_shipment"
        assert clf.intent(chatter + slow, stage="shipped")[0] == "logistics_inquiry"
