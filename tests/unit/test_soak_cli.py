"""`python -m benchmarks.soak` parses its options, rejects bad ones with exit 2, and refuses
to send anywhere but loopback (checked before any connection is made). The soak is a
development tool of the source checkout: the product CLI `kefu` does not name it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.soak import cli as soak_cli
from services.cli import main as kefu_cli

CHECKOUT = Path(__file__).resolve().parents[2]


@pytest.fixture
def soak(capsys):
    def run(*argv: str) -> tuple[int, str]:
        try:
            code = soak_cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def test_defaults(monkeypatch):
    monkeypatch.setenv("KEFU_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    monkeypatch.delenv("KEFU_REDIS_URL", raising=False)
    args = soak_cli.build_parser().parse_args(["--rate", "300", "--minutes", "10"])
    assert args.rate == 300 and args.minutes == 10
    assert args.bootstrap == "127.0.0.1:19092" and args.redis_url is None
    assert (args.drain, args.interval, args.agents, args.partitions) == (60, 10, 20, 3)
    assert (args.seed, args.shops, args.policy, args.data_dir) == (2026, None, None, None)
    assert not args.embedded and not args.chaos
    assert args.metrics == [] and args.report is None
    assert args.pause is None
    paused = soak_cli.build_parser().parse_args(["--rate", "1", "--minutes", "10", "--pause",
                                                 "presale:30@300", "--pause", "router:5@60"])
    assert paused.pause == [("presale", 30.0, 300.0), ("router", 5.0, 60.0)]


def test_every_option_parses():
    args = soak_cli.build_parser().parse_args([
        "--rate", "2.5", "--minutes", "0.2", "--embedded", "--bootstrap", "127.0.0.1:9093",
        "--redis-url", "redis://127.0.0.1:6380/0", "--metrics", "router=http://127.0.0.1:8081",
        "http://127.0.0.1:8082", "--report", "out/soak.json", "--drain", "30",
        "--interval", "5", "--shops", "12", "--agents", "4", "--seed", "7", "--partitions", "2",
        "--policy", "policy.yaml", "--chaos", "--data-dir", "var/soak",
    ])
    assert (args.rate, args.minutes, args.drain, args.interval) == (2.5, 0.2, 30, 5)
    assert args.embedded and args.chaos
    assert (args.bootstrap, args.redis_url) == ("127.0.0.1:9093", "redis://127.0.0.1:6380/0")
    assert args.metrics == ["router=http://127.0.0.1:8081", "http://127.0.0.1:8082"]
    assert (args.shops, args.agents, args.seed, args.partitions) == (12, 4, 7, 2)
    assert args.report == Path("out/soak.json") and args.policy == Path("policy.yaml")
    assert args.data_dir == Path("var/soak")


@pytest.mark.parametrize("argv, needle", [
    (["--minutes", "1"], "--rate"),
    (["--rate", "10"], "--minutes"),
    (["--rate", "0", "--minutes", "1"], "must be positive"),
    (["--rate", "fast", "--minutes", "1"], "not a number"),
    (["--rate", "1", "--minutes", "1", "--pause", "presale@30"], "SERVICE:SECONDS@AT"),
    (["--rate", "1", "--minutes", "1", "--pause", "presale:-3@30"], "positive times"),
    (["--rate", "1", "--minutes", "1", "--chaos"], "--chaos needs --embedded"),
    (["--rate", "1", "--minutes", "1", "--chaos", "--embedded", "--policy", "p.yaml"],
     "drop --policy"),
    (["--rate", "1", "--minutes", "1", "--chaos", "--embedded", "--pause", "presale:3@3"],
     "drop --pause"),
])
def test_bad_usage_exits_2(soak, argv, needle):
    code, out = soak(*argv)
    assert code == 2 and needle in out


@pytest.mark.parametrize("extra", [
    ["--bootstrap", "kafka-1:9092"],
    ["--bootstrap", "127.0.0.1:9092", "--redis-url", "redis://redis.internal:6379/0"],
    ["--bootstrap", "127.0.0.1:9092", "--metrics", "router=http://10.1.2.3:8081"],
])
def test_only_loopback(soak, extra):
    code, out = soak("--rate", "10", "--minutes", "1", *extra)
    assert code == 2 and "loopback" in out


def test_python_dash_m_runs_it_from_the_checkout():
    """`python -m benchmarks.soak` from the repository (then refuses a non-loopback broker,
    as it should, before connecting anywhere)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.soak", "--rate", "1", "--minutes", "1",
         "--bootstrap", "kafka-1:9092"],
        cwd=CHECKOUT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "loopback" in done.stderr, done.stderr


def test_the_product_cli_does_not_name_the_soak(capsys):
    """The wheel leaves `benchmarks/` out, so `kefu` has no soak command: `kefu soak` is an
    ordinary invalid choice, and nothing under services/ imports the benchmarks."""
    assert "soak_cmd" not in kefu_cli.SUBCOMMANDS
    with pytest.raises(SystemExit) as exited:
        kefu_cli.main(["soak", "--rate", "1", "--minutes", "1"])
    assert exited.value.code == 2
    assert "invalid choice: 'soak'" in capsys.readouterr().err
    importers = [str(path.relative_to(CHECKOUT))
                 for path in sorted((CHECKOUT / "services").rglob("*.py"))
                 if re.search(r"^\s*(from|import) benchmarks\b",
                              path.read_text(encoding="utf-8"), re.MULTILINE)]
    assert importers == []
