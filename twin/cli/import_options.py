"""The options that read gateway output, shared by ``twin import`` and every SOURCE command.

``--input-format NAME`` (``twin import`` also takes ``--format``), ``--map
NAME=MEMBER`` (repeatable), ``--create-members``, ``--year YYYY``, ``--tz
ZONE`` and ``--strict``. A command takes them all with one decorator,
:func:`gateway_options`; the values go to the click context, where
:func:`options_in_effect` finds them, so a command's own signature does not
change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from twin.text_import import ImportOptions, ImportReport, parse_map, parse_zone
from twin.textsafe import safe_text

F = TypeVar("F", bound=Callable[..., Any])

_META = "twin.gateway_options"


def _store(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if param.name is not None:
        ctx.meta.setdefault(_META, {})[param.name] = value
    return value


def _year(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and not 1990 <= value <= 2100:
        raise click.BadParameter("give a four-digit year such as 2026", ctx, param)
    _store(ctx, param, value)
    return value


HELP_MAP = (
    "Place what the output calls NAME (a hostname, or a cluster member number such as 2) "
    "on member MEMBER, e.g. cor-fw02=1_02 (repeatable)."
)


def gateway_options(*, format_alias: bool = False) -> Callable[[F], F]:
    """Decorator: add the gateway-output options to a command that reads a SOURCE.

    Args:
        format_alias: also accept ``--format`` for ``--input-format`` (``twin import``,
            whose output has no format of its own).
    """
    names = ["--input-format", "--format"] if format_alias else ["--input-format"]

    def decorate(command: F) -> F:
        options = [
            click.option(
                *names,
                "input_format",
                metavar="NAME",
                expose_value=False,
                callback=_store,
                help="Read the file as this format (twin import --list-formats); "
                "default: by its name (.jsonl, .csv) or, for gateway output, by its content.",
            ),
            click.option(
                "--map",
                "member_map",
                metavar="NAME=MEMBER",
                multiple=True,
                expose_value=False,
                callback=_store,
                help=HELP_MAP,
            ),
            click.option(
                "--create-members",
                is_flag=True,
                expose_value=False,
                callback=_store,
                help="Add members the journal does not have yet (group 1, site 1 unless the "
                "output says otherwise), so an excerpt needs no topology.",
            ),
            click.option(
                "--year",
                type=int,
                metavar="YYYY",
                expose_value=False,
                callback=_year,
                help="The year of times printed without one (syslog).",
            ),
            click.option(
                "--tz",
                metavar="ZONE",
                expose_value=False,
                callback=_store,
                help="The zone of times printed without one: Europe/Berlin, UTC or +02:00 "
                "(default UTC).",
            ),
            click.option(
                "--strict",
                is_flag=True,
                expose_value=False,
                callback=_store,
                help="Refuse the file if any line is not understood (default: skip and count).",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def options_in_effect() -> ImportOptions:
    """The gateway-output options of the running command (defaults if it has none).

    Raises:
        TwinInputError: a bad ``--map`` or ``--tz``.
    """
    ctx = click.get_current_context(silent=True)
    given: dict[str, Any] = {} if ctx is None else dict(ctx.meta.get(_META, {}))
    return ImportOptions(
        format=given.get("input_format"),
        member_map=parse_map(given.get("member_map") or ()),
        create_members=bool(given.get("create_members")),
        year=given.get("year"),
        tz=parse_zone(given.get("tz")),
        strict=bool(given.get("strict")),
    )


def report_lines(report: ImportReport, *, written: bool = True) -> list[str]:
    """The import report as terminal-safe lines (a detected format is named first);
    ``written=False`` for a dry run."""
    lines = [f"detected format: {report.format}"] if report.detected else []
    lines.extend(report.summary_lines(written=written))
    return [safe_text(line) for line in lines]


def print_report(report: ImportReport | None) -> None:
    """What was read of gateway output, on stderr (``twin: …`` lines); nothing for None."""
    if report is None:
        return
    from twin.cli._common import err, say

    console = err()
    for line in report_lines(report):
        say(f"twin: {line}", console)


# -- twin import -----------------------------------------------------------------------------


def list_formats() -> None:
    """Print every format ``twin import`` reads: gateway output and event files."""
    from rich.text import Text

    from twin.cli._common import out, settings
    from twin.sources import all_importers
    from twin.text_import import is_text_importer

    console = out()
    importers = all_importers(settings().manager)
    gateway = [i for i in importers if is_text_importer(i)]
    files = [i for i in importers if not is_text_importer(i)]
    console.print("[bold]gateway output[/] (found by content, or --format NAME):")
    for importer in sorted(gateway, key=lambda i: i.name):
        line = Text(f"  {importer.name:<18} ")
        line.append(safe_text(getattr(importer, "summary", "")))
        console.print(line)
    console.print("[bold]event files[/] (found by name):")
    for importer in sorted(files, key=lambda i: i.name):
        suffixes = " ".join(importer.suffixes)
        console.print(Text(f"  {importer.name:<18} {safe_text(suffixes)}"))


def _dry_run_rows(
    journal_path: Any, events: list[Any], branch: str | None, expect_head: int | None
) -> tuple[list[dict[str, Any]], int]:
    """Append ``events`` to a throw-away copy of the journal; the rows ``twin log`` would print."""
    import sqlite3
    import tempfile
    from pathlib import Path

    from journal import Journal
    from twin.cli._common import settings

    registry = settings().manager.event_registry()
    with tempfile.TemporaryDirectory(prefix="twin-dry-run-") as folder:
        copy = Path(folder) / "journal.db"
        source = sqlite3.connect(f"{Path(journal_path).resolve().as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        with Journal.open(copy, registry=registry) as journal:
            result = journal.append(events, branch=branch, expect_head=expect_head)
            rows = []
            if result.appended:
                for env in journal.read(result.first_seq, result.last_seq, branch=branch):
                    row = env.to_json()
                    row.pop("prev_hash", None)
                    rows.append(row)
    return rows, result.skipped


def run_import(
    journal_path: Any,
    event_file: Any,
    *,
    expect_head: int | None,
    allow_unknown: bool,
    branch: str | None,
    dry_run: bool,
    wait: float | None = None,
) -> None:
    """``twin import``: an event file or gateway output into a journal, all or nothing."""
    from pathlib import Path

    from twin.cli._common import err, open_journal, progress_bar, say, settings, write_json_line
    from twin.errors import TwinInputError
    from twin.event_files import read_event_file, to_new_event
    from twin.input_files import check_input_file
    from twin.sources import all_importers, find_importer, is_event_file, no_text_options
    from twin.text_import import (
        detect_format,
        import_text,
        is_text_importer,
        refuse_nothing_read,
    )

    manager = settings().manager
    options = options_in_effect()
    path = Path(event_file)
    shown = str(path)
    # A folder, FIFO or device is refused in one line here, before any reader tries it.
    check_input_file(path, "event file or gateway output", limit=None)
    if not Path(journal_path).exists():
        raise TwinInputError(
            "no such journal; create it with `twin init JOURNAL [--topology FILE]`",
            source=str(journal_path),
        )
    chosen = (
        None if options.format is None else find_importer(options.format, all_importers(manager))
    )
    detected = False
    if chosen is None and not is_event_file(path, manager.importers()):
        chosen = detect_format(path, manager.importers())
        detected = True
        if chosen is None:
            raise TwinInputError(
                "not an event file (.jsonl, .csv) or gateway output a format recognises; "
                "give --format NAME (twin import --list-formats)",
                source=shown,
            )
    report = None
    with open_journal(Path(journal_path), wait=wait) as journal:
        registry = journal.registry
        if chosen is not None and is_text_importer(chosen):
            state = journal.state_at(None, branch=branch)
            events, report = import_text(path, chosen, options, state, registry)
            report.detected = detected
            if not detected:
                refuse_nothing_read(report, path, manager.importers(), "--format")
        elif chosen is not None:
            no_text_options(options, f"read as {chosen.name}")
            try:
                events = [
                    to_new_event(r, registry, source=shown, allow_unknown=allow_unknown)
                    for r in chosen.read(path)
                ]
            except TwinInputError as exc:
                raise exc.located(shown) from None
        else:
            no_text_options(options, "an event file")
            if not dry_run:
                with progress_bar(f"importing {path.name}", None) as tick:
                    result = journal.import_file(
                        path,
                        branch=branch,
                        expect_head=expect_head,
                        allow_unknown=allow_unknown,
                        importers=manager.importers(),
                        progress=tick,
                    )
                _say_result(result, branch)
                return
            events = list(
                read_event_file(
                    path, registry, importers=manager.importers(), allow_unknown=allow_unknown
                )
            )
        if dry_run:
            rows, skipped = _dry_run_rows(journal_path, events, branch, expect_head)
            for row in rows:
                write_json_line(row)
            console = err()
            lines = [] if report is None else report_lines(report, written=False)
            tail = f"; {skipped} already in the journal" if skipped else ""
            lines.append(f"dry run: would append {len(rows)} events{tail}; nothing written")
            for line in lines:
                console.print(f"twin: {safe_text(line)}", markup=False)
            return
        with progress_bar(f"importing {path.name}", None) as tick:
            result = journal.append(events, branch=branch, expect_head=expect_head, progress=tick)
    if report is not None:
        for line in report_lines(report):
            say(line)
    _say_result(result, branch)


def _say_result(result: Any, branch: str | None) -> None:
    """What ``twin import`` appended, and the new head (``head N:HASH``)."""
    from twin.cli._common import counted, say

    where = f" on branch {branch}" if branch else ""
    if result.appended:
        span = f"#{result.first_seq}–#{result.last_seq}"
        msg = f"imported {counted(result.appended, 'event')} ({span}){where}"
    else:
        msg = f"imported nothing new{where}"
    if result.skipped:
        msg += f"; skipped {result.skipped} already in the journal"
    say(msg)
    say(f"head {result.last_seq}:{result.head_hash}")
