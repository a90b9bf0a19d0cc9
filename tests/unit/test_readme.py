"""The README stays true: every setting and every CLI command is documented."""

from __future__ import annotations

from pathlib import Path

from services.cli.main import build_parser
from services.core.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_settings_table():
    missing = []
    for name in Settings.model_fields:
        variable = f"KEFU_{name.upper()}"
        stem = variable.rsplit("_", 1)[0]
        if variable not in README and not (name.startswith("kafka_ssl_") and stem in README):
            missing.append(variable)
    assert not missing, f"README does not document {missing}"


def test_every_command_is_in_the_cli_table():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse has no public accessor
    missing = [name for name in commands if f"`kefu {name}" not in README]
    assert not missing, f"README does not document {missing}"


def test_quick_start_has_the_two_commands():
    assert "make run" in README and "make test" in README
