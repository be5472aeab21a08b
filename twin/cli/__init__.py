"""The ``twin`` command line.

Exit codes everywhere (contract §4): 0 success; 1 a check failed; 2 bad input
or usage (one line naming file, line and field); 3 an internal or plugin
error in strict mode.
"""

from __future__ import annotations

import difflib
import errno
import functools
import importlib
import io
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from twin import __version__
from twin.cli._common import Settings, err, shown
from twin.cli._errors import is_help_request, usage_line
from twin.cli._registry import BUILTIN_COMMANDS
from twin.engine import PluginError
from twin.errors import CheckFailed, ConflictError, JournalLockedError, TwinInputError
from twin.textsafe import safe_text


class ReaderGone(Exception):
    """Whoever read our output closed the pipe (``twin log | head``): stop, exit 0."""


class TwinGroup(click.Group):
    """The top-level group: lists commands in the order a newcomer needs them.

    Built-in commands load lazily (:mod:`twin.cli._registry`): a command's
    module is imported when the command is looked up, and ``twin --help``
    lists them without importing any.
    """

    ORDER = tuple(BUILTIN_COMMANDS)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Built-in commands in workflow order, then plugin commands alphabetically."""
        return [*self.ORDER, *sorted(n for n in self.commands if n not in BUILTIN_COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, importing a built-in's module on first use."""
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in BUILTIN_COMMANDS:
            module = importlib.import_module(BUILTIN_COMMANDS[cmd_name][0])
            for defined in module.COMMANDS:
                # A plugin's command of the same name, added this run, stays in place.
                self.commands.setdefault(defined.name, defined)
            command = self.commands.get(cmd_name)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, but a typo is matched against every command, loaded or not."""
        name = click.utils.make_str(args[0]) if args else ""
        if (
            name
            and not name.startswith("-")
            and not ctx.resilient_parsing
            and self.get_command(ctx, name) is None
        ):
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands section of ``twin --help``; built-ins not loaded yet stay unloaded."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows: list[tuple[str, str]] = []
        for name in names:
            if name not in self.commands and name in BUILTIN_COMMANDS:
                listed = click.Command(name, help=BUILTIN_COMMANDS[name][1])  # not loaded yet
                rows.append((name, listed.get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    _own_commands: dict[str, click.Command] | None = None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Load the plugins, parse ARGS and run the command, as the ``twin`` script does.

        Plugins are loaded first, with the ``--plugins-dir``/``--disable-plugin``
        given before the command, because they may add commands. In standalone
        mode (the default; what click's ``CliRunner`` uses) every error a user
        can cause is printed as one line and becomes the exit code
        (:func:`exit_code_of`), and this exits with it. With
        ``standalone_mode=False`` the exceptions propagate instead.
        """
        argv = list(sys.argv[1:] if args is None else args)
        given = extra.pop("obj", None)
        invoke = functools.partial(
            super().main, argv, prog_name or "twin", complete_var, standalone_mode=False, **extra
        )

        def run() -> Any:
            settings = given if isinstance(given, Settings) else _global_options(argv)
            self._forget_plugin_commands()
            if _command_of(argv) not in INTEGRITY_COMMANDS:
                self._add_plugin_commands(settings)
            return invoke(obj=settings)

        if not standalone_mode:
            return run()
        sys.exit(exit_code_of(run))

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a reader that stops reading (``twin log | head``) is no error.

        click would turn the broken pipe into exit code 1: it is passed on as
        :class:`ReaderGone` instead, which :func:`exit_code_of` turns into 0.
        """
        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno != errno.EPIPE:
                raise
            raise ReaderGone from None

    def _forget_plugin_commands(self) -> None:
        """Drop the commands an earlier run's plugins added (a run in the same process)."""
        if self._own_commands is None:
            self._own_commands = dict(self.commands)
        else:
            self.commands = dict(self._own_commands)

    def _add_plugin_commands(self, settings: Settings) -> None:
        """This run's plugin commands, over the built-in ones."""
        from twin.source_context import SourceContext

        try:
            settings.manager.add_commands(self, SourceContext(lambda: settings.manager))
        except PluginError as exc:
            err().print(f"twin: {shown(exc)}")


@click.group("twin", cls=TwinGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    # TwinGroup.main already loaded the plugins with these options (to add their commands).
    if isinstance(loaded, Settings) and (loaded.plugins_dir, loaded.disabled) == (
        plugins_dir,
        disabled,
    ):
        given = loaded
    ctx.obj = given


INTEGRITY_COMMANDS = frozenset({"verify", "export", "snapshots"})
"""Commands that only check or copy a journal: they load no plugin at all, so no plugin
code (not even a --plugins-dir module) runs while a journal's integrity is judged."""


def _command_of(argv: list[str]) -> str | None:
    """The command word of ``argv`` (after the global options), or None."""
    args = iter(argv)
    for arg in args:
        name, eq, _value = arg.partition("=")
        if name in ("--disable-plugin", "--plugins-dir"):
            if not eq:
                next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


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


def _show_click_error(exc: click.ClickException) -> None:
    """click's own message (usage errors echo what was typed), made terminal-safe."""
    buffer = io.StringIO()
    exc.show(file=buffer)
    click.echo(safe_text(buffer.getvalue().rstrip("\n"), keep_newlines=True), err=True)


def exit_code_of(run: Callable[[], object]) -> int:
    """Run a command; every error a user can cause becomes one line and an exit code.

    This is the one mapping from exceptions to exit codes (contract §4). It
    prints what the user sees (on stderr) and returns the code; anything it
    does not know escapes as a traceback (a bug, exit 1 from Python).
    """
    try:
        code = run()
        return code if isinstance(code, int) else 0
    except click.exceptions.Abort:
        err().print("twin: aborted")
        return 130
    except click.UsageError as exc:
        if is_help_request(exc):
            _show_click_error(exc)
        else:
            click.echo(f"twin: error: {safe_text(usage_line(exc))}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        _show_click_error(exc)
        return exc.exit_code
    except TwinInputError as exc:
        click.echo(f"twin: error: {exc.one_line()}", err=True)
        return 2
    except (ConflictError, JournalLockedError) as exc:
        click.echo(f"twin: {safe_text(exc)}", err=True)
        return 1
    except sqlite3.Error as exc:  # a damaged or vanished journal, met while reading
        from journal.failures import translate  # the journal loads only when a command needs it

        click.echo(f"twin: error: {translate(exc, None)}", err=True)
        return 2
    except CheckFailed as exc:
        if str(exc):
            click.echo(f"twin: {safe_text(exc)}", err=True)
        return 1
    except PluginError as exc:
        click.echo(f"twin: plugin error: {safe_text(exc)}", err=True)
        return 3
    except (BrokenPipeError, ReaderGone):
        # The reader stopped reading (`twin log | head`): not an error. Point stdout at
        # /dev/null so that Python's final flush does not fail on the closed pipe.
        _quiet_stdout()
        return 0
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
            raise
        _quiet_stdout()
        click.echo(f"twin: error: cannot write the output: {exc.strerror}", err=True)
        return 2
    except KeyboardInterrupt:
        click.echo("twin: interrupted", err=True)
        return 130


def _quiet_stdout() -> None:
    """Send whatever is still buffered for stdout to /dev/null (it cannot be written)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture stdout)
        pass


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``twin`` console script."""
    cli.main(args=sys.argv[1:] if argv is None else argv, prog_name="twin")
