"""README keeps up with the code: every setting and every CLI command is documented there."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from geo311 import create_app
from geo311.config import Defaults

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
_FLASK_BUILTINS = {"run", "shell", "routes"}


@pytest.mark.parametrize("key", sorted(k for k in vars(Defaults) if k.isupper()))
def test_every_setting_is_in_the_readme(key):
    assert f"`{key}`" in README, f"setting {key} is not documented in README.md"


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        if not prefix and name in _FLASK_BUILTINS:
            continue
        full = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _commands(command, full + " ")
        else:
            yield full


def test_every_cli_command_is_in_the_readme():
    app = create_app({"TESTING": True})
    missing = [c for c in _commands(app.cli) if f"geo311 {c}" not in README]
    assert missing == [], f"CLI commands missing from README.md: {missing}"
