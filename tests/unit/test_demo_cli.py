"""`kefu demo`: arguments, and a clear one-line error (exit 1) when Kafka is unreachable."""

from __future__ import annotations

import pytest

from services.cli.main import build_parser, main
from services.core.embedded import free_port


def test_demo_subcommand_and_defaults() -> None:
    args = build_parser().parse_args(["demo"])
    assert args.command == "demo" and callable(args.func)
    assert (args.speed, args.duration, args.seed, args.once) == (60.0, None, None, False)
    args = build_parser().parse_args(
        ["demo", "--speed", "600", "--duration", "30", "--seed", "7", "--once"])
    assert (args.speed, args.duration, args.seed, args.once) == (600.0, 30.0, 7, True)


@pytest.mark.parametrize("bad", [["--speed", "0"], ["--speed", "-3"], ["--duration", "0"],
                                 ["--seed", "x"]])
def test_bad_arguments_exit_2(bad: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", *bad])
    assert exited.value.code == 2
    assert "kefu: error" in capsys.readouterr().err


def test_unreachable_broker_is_one_clear_line_and_exit_1(monkeypatch, capsys) -> None:
    monkeypatch.setenv("KEFU_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    code = main(["demo", "--once", "--connect-timeout", "1"])
    out = capsys.readouterr()
    assert code == 1
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err
    assert "cannot reach Kafka" in lines[0] and "KEFU_KAFKA_BOOTSTRAP" in lines[0]
    assert "within 1 s" in lines[0], "it gave up after --connect-timeout, as it says"
    assert out.out == ""
