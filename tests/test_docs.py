"""Docs that cannot rot: every setting and every CLI command is documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from xinyong.cli import app
from xinyong.core.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    missing = [f"XINYONG_{name.upper()}" for name in Settings.model_fields if f"XINYONG_{name.upper()}" not in README]
    assert not missing, f"undocumented settings: {missing}"


def _commands(group: typer.Typer, prefix: str = "xinyong") -> list[str]:
    click_group = typer.main.get_command(group)
    names: list[str] = []

    def walk(command: object, path: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, f"{path} {name}")
        else:
            names.append(path)

    walk(click_group, prefix)
    return names


def test_every_command_is_in_the_readme() -> None:
    missing = [name for name in _commands(app) if f"`{name}" not in README]
    assert not missing, f"undocumented commands: {missing}"
