"""Built-in commands load lazily, and `twin --help` lists them as their own help says."""

from __future__ import annotations

import importlib

import click
import pytest

from twin.cli import cli
from twin.cli._registry import BUILTIN_COMMANDS

MODULES = sorted({module for module, _line in BUILTIN_COMMANDS.values()})


@pytest.mark.parametrize("module_name", MODULES)
def test_every_command_of_a_module_is_listed_with_its_own_first_line(module_name: str) -> None:
    module = importlib.import_module(module_name)
    listed = {name for name, (where, _line) in BUILTIN_COMMANDS.items() if where == module_name}
    defined = {command.name for command in module.COMMANDS}
    assert defined == listed, f"twin/cli/_registry.py and {module_name}.COMMANDS disagree"
    for command in module.COMMANDS:
        assert command.name is not None
        line = BUILTIN_COMMANDS[command.name][1]
        stand_in = click.Command(command.name, help=line)
        for limit in (30, 45, 74, 200):  # as `twin --help` shows it at any terminal width
            assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit), (
                f"update the line of {command.name!r} in twin/cli/_registry.py"
            )


def test_every_command_module_is_in_the_registry() -> None:
    from pathlib import Path

    folder = Path(importlib.import_module("twin.cli").__file__ or "").parent
    with_commands = {
        f"twin.cli.{path.stem}"
        for path in folder.glob("*.py")
        if "\nCOMMANDS = " in path.read_text(encoding="utf-8")
    }
    assert with_commands == set(MODULES)


def test_a_command_resolves_to_the_one_its_module_defines() -> None:
    context = click.Context(cli)
    for name, (module_name, _line) in BUILTIN_COMMANDS.items():
        command = cli.get_command(context, name)
        module = importlib.import_module(module_name)
        assert command in module.COMMANDS
    assert cli.get_command(context, "no-such-command") is None
