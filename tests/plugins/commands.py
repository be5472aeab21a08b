"""Sample plugin that adds a ``twin acme-hello`` command."""

from __future__ import annotations

import click

from twin.api import hookimpl


@hookimpl
def twin_register_commands(cli: click.Group) -> None:
    @cli.command(name="acme-hello")
    @click.argument("who", default="operator")
    def acme_hello(who: str) -> None:
        """Say hello (a sample plugin command)."""
        click.echo(f"hello, {who}, from acme")
