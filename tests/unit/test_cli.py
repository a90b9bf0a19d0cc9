"""CLI mistakes print what was wrong and exit non-zero."""

from __future__ import annotations

import pytest

from services.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_no_command_prints_help(capsys):
    code, out = run(capsys)
    assert code == 2 and "COMMAND" in out


def test_unknown_service_is_named(capsys):
    code, out = run(capsys, "run", "cashier")
    assert code == 2 and "invalid choice: 'cashier'" in out


def test_unknown_command_is_named(capsys):
    code, out = run(capsys, "launch")
    assert code == 2 and "launch" in out


def test_bad_partitions(capsys):
    code, out = run(capsys, "topics", "create", "--partitions", "zero")
    assert code == 2 and "--partitions" in out


def test_invalid_policy_stops_up_before_anything_starts(capsys, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("shops:\n  default:\n    sla:\n      ship_by: soon\n")
    code, out = run(capsys, "up", "--policy", str(policy), "--data-dir", str(tmp_path))
    assert code == 2
    assert "shops.default.sla.ship_by" in out


def test_contracts_export_writes_schemas_and_asyncapi(capsys, tmp_path):
    import json

    code, out = run(capsys, "contracts", "export", str(tmp_path / "out"))
    assert code == 0, out
    doc = json.loads((tmp_path / "out" / "asyncapi.json").read_text())
    addresses = {channel["address"] for channel in doc["channels"].values()}
    assert {"kefu.inbound", "kefu.role.presale", "kefu.dlq"} <= addresses
    inbound = json.loads((tmp_path / "out" / "inbound" / "buyer.message.json").read_text())
    assert "payload" in inbound["properties"]


@pytest.mark.parametrize("argv", [["contracts"], ["topics"]])
def test_missing_action(capsys, argv):
    code, out = run(capsys, *argv)
    assert code == 2 and "required" in out
