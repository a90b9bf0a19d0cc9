"""`kefu route` subcommand (services/cli/route_cmd.py)."""

from __future__ import annotations

import argparse
import io
import json
import sys
import types

import pytest

from services.cli import route_cmd


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kefu")
    route_cmd.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["route", *argv])


def _lines(out: str) -> list[dict]:
    return [json.loads(x) for x in out.splitlines() if x.strip()]


def test_text_prints_one_json_line(capsys):
    args = _parse("--text", "我的快递到哪了", "--stage", "shipped")
    assert args.func(args) == 0
    [out] = _lines(capsys.readouterr().out)
    assert out["intent"] == "logistics_inquiry" and out["role"] == "aftersale"
    assert set(out) == {"intent", "role", "priority", "confidence", "reason"}


def test_sticky_role(capsys):
    args = _parse("--text", "好的谢谢", "--sticky-role", "aftersale")
    assert args.func(args) == 0
    assert _lines(capsys.readouterr().out)[0]["role"] == "aftersale"


def test_stdin_lines_with_errors(capsys, monkeypatch):
    stdin = "\n".join([
        json.dumps({"text": "质量太差，我要投诉", "order_stage": "delivered"}),
        "{not json",
        json.dumps({"order_stage": "paid"}),
        json.dumps({"text": "hi", "order_stage": "teleported"}),
        "",
        json.dumps({"text": "when will you ship?", "sticky_role": "presale"}),
    ]) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    args = _parse()
    assert args.func(args) == 1
    out = _lines(capsys.readouterr().out)
    assert out[0]["intent"] == "complaint" and out[0]["priority"] == "urgent"
    assert out[1]["line"] == 2 and "invalid JSON" in out[1]["error"]
    assert out[2]["line"] == 3 and "text" in out[2]["error"]
    assert out[3]["line"] == 4 and "teleported" in out[3]["error"]
    assert out[4]["intent"] == "urge_shipment"
    assert len(out) == 5


def test_policy_keywords_per_shop(capsys, monkeypatch):
    shops = {"default": {}, "shop-1": {"return_refund": ["起球"]}}

    def load_policy(path):
        def for_shop(shop):
            routing = types.SimpleNamespace(keywords=shops[shop], model=None)
            return types.SimpleNamespace(routing=routing)
        return types.SimpleNamespace(for_shop=for_shop)

    fake = types.ModuleType("services.core.policy")
    fake.load_policy = load_policy
    monkeypatch.setitem(sys.modules, "services.core.policy", fake)
    stdin = "\n".join(json.dumps({"text": "毛衣起球了", "shop_id": s}) for s in shops) + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    args = _parse("--policy", "policy.yaml")
    assert args.func(args) == 0
    out = _lines(capsys.readouterr().out)
    assert [o["intent"] for o in out] == ["quality_issue", "return_refund"]
    args = _parse("--policy", "policy.yaml", "--shop", "shop-1", "--text", "起球")
    assert args.func(args) == 0
    assert _lines(capsys.readouterr().out)[0]["intent"] == "return_refund"


def test_report_defaults_to_the_frozen_test_split(capsys):
    args = _parse("--report")
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "messages of the frozen test split" in out
    for method in ("rules", "model", "combined"):
        assert f"{method}: intent" in out and f"{method} confusion" in out
        assert f"{method} calibration" in out
    assert "quality_issue" in out and "ECE" in out


def test_report_of_a_shop_file_and_its_mistakes(capsys, tmp_path):
    good = tmp_path / "mine.jsonl"
    good.write_text('{"text": "我要投诉", "intent": "complaint"}\n', encoding="utf-8")
    args = _parse("--report", str(good))
    assert args.func(args) == 0
    assert "1 messages of" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "intent": "chitchat"}\n', encoding="utf-8")
    for path, problem in [(bad, "bad.jsonl:1: unknown intent 'chitchat'"),
                          (tmp_path / "missing.jsonl", "cannot read")]:
        args = _parse("--report", str(path))
        assert args.func(args) == 2
        assert problem in capsys.readouterr().err


def test_a_report_names_the_worst_intent_among_those_the_file_has(capsys, tmp_path):
    """An intent with no message in the file has no F1 to judge: "worst" is one the file
    labels, not an absent one read as 0.000."""
    mine = tmp_path / "mine.jsonl"
    mine.write_text('{"text": "我要投诉你们", "intent": "complaint"}\n'
                    '{"text": "什么时候发货", "intent": "urge_shipment", "stage": "paid"}\n',
                    encoding="utf-8")
    args = _parse("--report", str(mine))
    assert args.func(args) == 0
    combined = next(line for line in capsys.readouterr().out.splitlines()
                    if line.startswith("combined "))
    assert "complaint" in combined or "urge_shipment" in combined, combined


@pytest.mark.parametrize("stage", ["created", "paid", "shipped", "delivered", "aftersale_open"])
def test_stage_choices(stage):
    assert _parse("--text", "x", "--stage", stage).stage == stage
