"""What every command shares: the plugin manager, sources, output and progress."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click
import orjson

from twin.errors import CheckFailed, TwinInputError
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.textsafe import safe_json, safe_text

if TYPE_CHECKING:
    # Loaded inside the functions that use them: `twin --help` imports this module,
    # and needs neither Rich nor the journal (nor sqlite-utils and networkx behind it).
    from rich.console import Console

    from journal import Journal
    from twin.sources import Source

FORMAT_TABLE_JSONL = click.Choice(["table", "jsonl"])
FORMAT_TABLE_JSON = click.Choice(["table", "json"])


@attrs.define
class Settings:
    """Global options, shared by every command through click's context."""

    plugins_dir: Path | None = None
    disabled: tuple[str, ...] = ()
    _manager: TwinPluginManager | None = None

    @property
    def manager(self) -> TwinPluginManager:
        """The plugin manager, loaded on first use."""
        if self._manager is None:
            self._manager = TwinPluginManager(
                block=self.disabled, plugins_dir=self.plugins_dir
            ).load()
        return self._manager


def settings() -> Settings:
    """The current command's global settings."""
    obj = click.get_current_context().find_root().obj
    if not isinstance(obj, Settings):
        obj = Settings()
        click.get_current_context().find_root().obj = obj
    return obj


PIPED_WIDTH = 10_000
"""Console width when stdout is not a terminal: wide enough that no table cell is cut short."""


def _reader_gone() -> None:
    raise BrokenPipeError


def _console(**options: Any) -> Console:
    """Rich's console, except that a reader who stops reading (``twin log | head``) is not
    an error: Rich would exit 1; the broken pipe is passed on, and the command exits 0."""
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True, emoji=False, **options)
    console.on_broken_pipe = _reader_gone  # type: ignore[method-assign]
    return console


def out() -> Console:
    """Console for human output on stdout.

    On a terminal it fits the terminal. Piped or redirected, it is as wide as
    the content needs, so that tables never cut a number short (``1.968…``).

    Data never goes through Rich markup (or emoji codes): print it with
    :func:`say`, as ``rich.text.Text(safe_text(...))``, or inside markup as
    :func:`shown`.
    """
    if sys.stdout.isatty():
        return _console()
    return _console(width=PIPED_WIDTH)


def err() -> Console:
    """Console for messages on stderr (the same rules as :func:`out`)."""
    return _console(stderr=True)


def shown(value: object) -> str:
    """Text from data, safe to put inside a Rich markup string (terminal-safe and escaped)."""
    from rich.markup import escape

    return escape(safe_text(value))


def counted(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless it is one: "1 finding", "10 findings"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def say(text: object, console: Console | None = None) -> None:
    """Print a line built from data: terminal-safe, never read as markup."""
    (console or out()).print(safe_text(text), markup=False)


def write_lines(lines: list[str]) -> None:
    """Plain lines built from data on stdout: terminal-safe like :func:`say`, but with
    no Rich rendering (for the many rows of a long replay)."""
    if lines:
        sys.stdout.write("\n".join(safe_text(line) for line in lines) + "\n")


def write_json_line(data: Any) -> None:
    """One compact JSON object per line on stdout (the machine contract).

    Characters a terminal would act on are written as ``\\uXXXX`` escapes (same values).
    """
    sys.stdout.buffer.write(safe_json(orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)) + b"\n")


def write_json(data: Any) -> None:
    """A pretty JSON document on stdout (terminal-safe like :func:`write_json_line`)."""
    sys.stdout.buffer.write(
        safe_json(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)) + b"\n"
    )
    sys.stdout.flush()


PROGRESS_REFRESH_S = 0.1
"""The progress bar is redrawn when progress is reported, at most this often."""


@contextmanager
def progress_bar(label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr when it is a terminal; a no-op otherwise.

    Yields a function to call with the number of items done so far. The bar is
    redrawn by that function, not by a thread of its own: a process with a
    second thread cannot safely fork, and ``twin verify`` (and ``--verify``)
    forks to check the second half of a long journal at the same time
    (:func:`journal.verifying.check_split`); with a thread it would have to start
    a fresh interpreter instead, a second of CPU.
    """
    if not sys.stderr.isatty():
        yield lambda _done: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=err(), transient=True, auto_refresh=False) as bar:
        task = bar.add_task(shown(label), total=total)
        drawn = [time.monotonic()]

        def tick(done: int) -> None:
            now = time.monotonic()
            refresh = now - drawn[0] >= PROGRESS_REFRESH_S
            if refresh:
                drawn[0] = now
            bar.update(task, completed=done, refresh=refresh)

        bar.refresh()
        yield tick


def print_warnings(journal: Journal) -> None:
    """Print the journal's warnings so far on stderr, and every later one as it comes."""

    def show(message: str) -> None:
        say(f"twin: warning: {message}", err())

    for message in journal.warnings:
        show(message)
    journal.on_warning = show


def open_for_reading(path: str, branch: str | None = None, *, verify: bool = False) -> Source:
    """Open a journal or load an event file, with a progress bar while loading.

    Gateway output is read with the command's ``--input-format``/``--map``/...
    options (:mod:`twin.cli.import_options`); what was read is said on stderr.
    Readers check the cheap invariants as they stream (dense seqs, each row chained
    to the one before, the head anchor) and warn on stderr. With ``verify``
    (``--verify``), every hash of the view is recomputed first, and a journal that
    fails is not read at all.

    Raises:
        CheckFailed: ``verify`` and the chain is broken (exit 1).
    """
    from twin.cli.import_options import options_in_effect, print_report
    from twin.sources import open_source

    manager = settings().manager
    label = f"loading {Path(path).name}"
    with progress_bar(label, None) as tick:
        source = open_source(
            path, manager, branch=branch, progress=tick, import_options=options_in_effect()
        )
    print_warnings(source.journal)
    print_report(source.import_report)
    if verify and source.kind == "journal":
        try:
            with progress_bar("verifying", source.head()) as tick:
                result = source.journal.verify(branch=branch, progress=tick)
        except BaseException:
            source.close()
            raise
        if not result.ok:
            source.close()
            raise CheckFailed(
                f"{path}: verify FAILED at seq {result.first_bad_seq}: {result.problem}; "
                "nothing was read (run `twin verify` for every line)"
            )
    return source


def open_journal(path: Path, *, plugin_events: bool = True, wait: float | None = None) -> Journal:
    """Open a journal file (use it in a ``with`` block); its warnings go to stderr.

    Args:
        path: the journal.
        plugin_events: decode plugins' event types (loads the plugins); commands
            that never decode events (verify, snapshots) pass False.
        wait: seconds a write waits for another writer's lock (``--wait``).
    """
    from journal import Journal

    registry = settings().manager.event_registry() if plugin_events else None
    journal = Journal.open(path, registry=registry, wait=wait)
    print_warnings(journal)
    return journal


def choose_profile(choice: str | None) -> Profile:
    """The profile named by ``--profile`` (default ``seed``)."""
    return settings().manager.profile(choice)


def refuse_reversed(first: int | None, last: int | None, first_name: str, last_name: str) -> None:
    """Refuse a range given backwards (``--from 300 --to 200``) rather than swap it silently.

    Raises:
        TwinInputError: ``first`` is after ``last``.
    """
    if first is not None and last is not None and first > last:
        raise TwinInputError(
            f"{first} is after {last_name} {last}: give the earlier event first",
            field=first_name,
            value=first,
        )


def split_list(value: str | None) -> list[str] | None:
    """``"a,b"`` → ``["a", "b"]``; None stays None."""
    if value is None:
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


profile_option = click.option(
    "--profile",
    "profile",
    metavar="P",
    help="Parameter profile: 'seed' (the default), 'documented' (only numbers with a primary "
    "source; the rest from seed) or a profile .toml file.",
)
wait_option = click.option(
    "--wait",
    "wait",
    type=click.FloatRange(min=0, max=86_400),
    metavar="SECONDS",
    help="How long to wait for another writer's lock before giving up (exit 1; default 60).",
)
verify_option = click.option(
    "--verify",
    "verify",
    is_flag=True,
    help="Recompute every hash of the journal before reading it; refuse (exit 1) "
    "if the chain is broken. Without it, reading warns on the cheap signs of an edit.",
)
branch_option = click.option(
    "--branch", metavar="NAME", help="Read or write a what-if branch instead of the main line."
)
