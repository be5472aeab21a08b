"""The ``twin`` command line.

Exit codes everywhere (contract §4): 0 success; 1 a check failed; 2 bad input
or usage (one line naming file, line and field); 3 an internal or plugin
error in strict mode.
"""

from __future__ import annotations

import io
import sqlite3
import sys
from pathlib import Path

import click

from journal.failures import translate
from twin import __version__
from twin.cli import (
    bisect_cmd,
    demo,
    journal_cmds,
    plan_cmds,
    plugin_cmds,
    replay_cmds,
    report_cmd,
    tui_cmd,
    whatif_cmd,
)
from twin.cli._common import Settings, err, shown
from twin.cli._errors import is_help_request, usage_line
from twin.engine import PluginError
from twin.errors import CheckFailed, ConflictError, JournalLockedError, TwinInputError
from twin.textsafe import safe_text


class TwinGroup(click.Group):
    """The top-level group: lists commands in the order a newcomer needs them."""

    ORDER = (
        "demo",
        "tui",
        "init",
        "import",
        "append",
        "log",
        "run",
        "state",
        "diff",
        "bisect",
        "report",
        "whatif",
        "branch",
        "plan",
        "verify",
        "export",
        "snapshots",
        "plugins",
        "rules",
        "profile",
    )

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in commands in workflow order, then plugin commands alphabetically."""
        names = list(self.commands)
        known = [n for n in self.ORDER if n in names]
        return known + sorted(n for n in names if n not in self.ORDER)


@click.group(cls=TwinGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="twin")
@click.option(
    "--plugins-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also load every *.py in DIR as a plugin (local, unpackaged rules).",
)
@click.option(
    "--disable-plugin",
    "disabled",
    multiple=True,
    metavar="NAME",
    help="Do not load plugin NAME (repeatable); see `twin plugins`.",
)
@click.pass_context
def cli(ctx: click.Context, plugins_dir: Path | None, disabled: tuple[str, ...]) -> None:
    """Maestro Twin: an event-sourced digital twin of a Check Point Maestro deployment.

    A journal (SQLite) records what happened to the deployment: members
    added, loads, upgrades, failures. The twin replays it and, after every
    event, its rules recompute capacity, sync traffic, memory, convergence and
    more, and raise findings. Every command that reads a journal also reads an
    event file (.jsonl or .csv).

    \b
    Start with:   twin demo
    Then:         twin run examples/incident-0412.jsonl --to 40
                  twin state examples/incident-0412.jsonl --at 120
                  twin rules     (what is computed)
                  twin profile   (every number, with its provenance)

    Plugins: TWIN_DISABLE_PLUGIN_AUTOLOAD=1 loads no third-party plugins,
    TWIN_PLUGINS=a,b only those, TWIN_STRICT_PLUGINS=1 makes plugin failures fatal.
    """
    given = Settings(plugins_dir=plugins_dir, disabled=disabled)
    loaded = ctx.obj
    # main() already loaded the plugins with these options (to add their commands).
    if isinstance(loaded, Settings) and (loaded.plugins_dir, loaded.disabled) == (
        plugins_dir,
        disabled,
    ):
        given = loaded
    ctx.obj = given


for module in (
    demo,
    tui_cmd,
    journal_cmds,
    replay_cmds,
    bisect_cmd,
    report_cmd,
    whatif_cmd,
    plan_cmds,
    plugin_cmds,
):
    for command in module.COMMANDS:
        cli.add_command(command)


def _global_options(argv: list[str]) -> Settings:
    """The plugin options given before the command, read ahead of click.

    Plugins must be loaded before click parses the command line, because they
    may add commands; loading them with the user's --disable-plugin and
    --plugins-dir means a disabled plugin is never imported.
    """
    disabled: list[str] = []
    plugins_dir: Path | None = None
    args = iter(argv)
    for arg in args:
        name, eq, value = arg.partition("=")
        if name in ("--disable-plugin", "--plugins-dir"):
            value = value if eq else next(args, "")
            if name == "--disable-plugin":
                disabled.append(value)
            else:
                plugins_dir = Path(value)
        elif not arg.startswith("-"):
            break  # the command: global options come before it
    return Settings(plugins_dir=plugins_dir, disabled=tuple(disabled))


def _add_plugin_commands(settings: Settings) -> None:
    try:
        settings.manager.add_commands(cli)
    except PluginError as exc:
        err().print(f"twin: {shown(exc)}")


def _show_click_error(exc: click.ClickException) -> None:
    """click's own message (usage errors echo what was typed), made terminal-safe."""
    buffer = io.StringIO()
    exc.show(file=buffer)
    click.echo(safe_text(buffer.getvalue().rstrip("\n"), keep_newlines=True), err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``twin`` console script."""
    args = sys.argv[1:] if argv is None else argv
    try:
        settings = _global_options(args)
        _add_plugin_commands(settings)
        code = cli.main(args=args, prog_name="twin", standalone_mode=False, obj=settings)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        err().print("twin: aborted")
        sys.exit(130)
    except click.UsageError as exc:
        if is_help_request(exc):
            _show_click_error(exc)
        else:
            click.echo(f"twin: error: {safe_text(usage_line(exc))}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _show_click_error(exc)
        sys.exit(exc.exit_code)
    except TwinInputError as exc:
        click.echo(f"twin: error: {exc.one_line()}", err=True)
        sys.exit(2)
    except (ConflictError, JournalLockedError) as exc:
        click.echo(f"twin: {safe_text(exc)}", err=True)
        sys.exit(1)
    except sqlite3.Error as exc:  # a damaged or vanished journal, met while reading
        click.echo(f"twin: error: {translate(exc, None)}", err=True)
        sys.exit(2)
    except CheckFailed as exc:
        if str(exc):
            click.echo(f"twin: {safe_text(exc)}", err=True)
        sys.exit(1)
    except PluginError as exc:
        click.echo(f"twin: plugin error: {safe_text(exc)}", err=True)
        sys.exit(3)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        click.echo("twin: interrupted", err=True)
        sys.exit(130)
