"""`kefu soak` parses its options, rejects bad ones with exit 2, and refuses to send
anywhere but loopback (checked before any connection is made)."""

from __future__ import annotations

import pytest

from services.cli import main as cli


@pytest.fixture
def kefu(monkeypatch, capsys):
    if "soak_cmd" not in cli.SUBCOMMANDS:
        monkeypatch.setattr(cli, "SUBCOMMANDS", (*cli.SUBCOMMANDS, "soak_cmd"))

    def run(*argv: str) -> tuple[int, str]:
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def test_defaults(monkeypatch):
    monkeypatch.setenv("KEFU_KAFKA_BOOTSTRAP", "127.0.0.1:19092")
    monkeypatch.delenv("KEFU_REDIS_URL", raising=False)
    if "soak_cmd" not in cli.SUBCOMMANDS:
        monkeypatch.setattr(cli, "SUBCOMMANDS", (*cli.SUBCOMMANDS, "soak_cmd"))
    args = cli.build_parser().parse_args(["soak", "--rate", "300", "--minutes", "10"])
    assert args.rate == 300 and args.minutes == 10
    assert args.bootstrap == "127.0.0.1:19092" and args.redis_url is None
    assert (args.drain, args.interval, args.agents, args.partitions) == (60, 10, 20, 3)
    assert not args.embedded and args.metrics == [] and args.report is None
    assert args.pause is None
    paused = cli.build_parser().parse_args(["soak", "--rate", "1", "--minutes", "10", "--pause",
                                            "presale:30@300", "--pause", "router:5@60"])
    assert paused.pause == [("presale", 30.0, 300.0), ("router", 5.0, 60.0)]
    from services.cli.soak_cmd import run

    assert args.func is run


@pytest.mark.parametrize("argv, needle", [
    (["soak", "--minutes", "1"], "--rate"),
    (["soak", "--rate", "10"], "--minutes"),
    (["soak", "--rate", "0", "--minutes", "1"], "must be positive"),
    (["soak", "--rate", "fast", "--minutes", "1"], "not a number"),
    (["soak", "--rate", "1", "--minutes", "1", "--pause", "presale@30"], "SERVICE:SECONDS@AT"),
    (["soak", "--rate", "1", "--minutes", "1", "--pause", "presale:-3@30"], "positive times"),
    (["soak", "--rate", "1", "--minutes", "1", "--chaos"], "--chaos needs --embedded"),
    (["soak", "--rate", "1", "--minutes", "1", "--chaos", "--embedded", "--policy", "p.yaml"],
     "drop --policy"),
    (["soak", "--rate", "1", "--minutes", "1", "--chaos", "--embedded", "--pause",
      "presale:3@3"], "drop --pause"),
])
def test_bad_usage_exits_2(kefu, argv, needle):
    code, out = kefu(*argv)
    assert code == 2 and needle in out


@pytest.mark.parametrize("extra", [
    ["--bootstrap", "kafka-1:9092"],
    ["--bootstrap", "127.0.0.1:9092", "--redis-url", "redis://redis.internal:6379/0"],
    ["--bootstrap", "127.0.0.1:9092", "--metrics", "router=http://10.1.2.3:8081"],
])
def test_only_loopback(kefu, extra):
    code, out = kefu("soak", "--rate", "10", "--minutes", "1", *extra)
    assert code == 2 and "loopback" in out


def test_the_kefu_entry_point_finds_the_soak_of_its_source_checkout(tmp_path):
    """`kefu soak` runs from a console script, whose sys.path holds neither the
    repository nor the working directory: it must still find benchmarks/soak/ of the
    checkout it is installed from (then refuse a non-loopback broker, as it should)."""
    import subprocess
    import sys

    script = ("import sys; from services.cli.main import main; "
              "sys.exit(main(['soak', '--rate', '1', '--minutes', '1', "
              "'--bootstrap', 'kafka-1:9092']))")
    done = subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "loopback" in done.stderr, done.stderr
