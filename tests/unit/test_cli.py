"""CLI mistakes print what was wrong and exit non-zero."""

from __future__ import annotations

import os

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


def test_contracts_export_warns_of_nothing(tmp_path):
    """It builds every service to describe them, but runs none: their warnings about
    missing run-time secrets (analytics token, console key, ingest secret) do not apply."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "services.cli.main", "contracts", "export",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.startswith("KEFU_")})
    assert done.returncode == 0 and done.stdout.startswith("wrote ")
    assert done.stderr == ""


@pytest.mark.parametrize("argv", [["contracts"], ["topics"]])
def test_missing_action(capsys, argv):
    code, out = run(capsys, *argv)
    assert code == 2 and "required" in out


@pytest.mark.parametrize("argv", [["route", "--text", "在吗"], ["route", "--report"]])
def test_a_reader_that_went_away_ends_the_command_quietly(argv):
    """`kefu route --report | head`: once the pipe's reader is gone, kefu stops without a
    traceback or a made-up error (as cat does)."""
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails
    try:
        done = subprocess.run([sys.executable, "-m", "services.cli.main", *argv],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr == ""
