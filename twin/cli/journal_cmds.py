"""Commands that write or check the journal: init, import, append, log, branch, verify."""

from __future__ import annotations

from pathlib import Path

import attrs
import click

from journal import Journal
from journal.snapshots import KEYS_KEPT
from twin.cli._common import (
    FORMAT_TABLE_JSONL,
    branch_option,
    counted,
    err,
    open_for_reading,
    open_journal,
    out,
    progress_bar,
    refuse_reversed,
    say,
    settings,
    split_list,
    verify_option,
    wait_option,
    write_json_line,
)
from twin.cli._known import event_types
from twin.cli.import_options import gateway_options, run_import
from twin.cli.import_options import list_formats as show_formats
from twin.envelope import Envelope
from twin.errors import CheckFailed, TwinInputError
from twin.event_files import Record, to_new_event
from twin.suggest import check_known
from twin.topology import read_topology


@click.command("init")
@click.argument("journal_path", metavar="JOURNAL", type=click.Path(path_type=Path))
@click.option(
    "--topology",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A topology .toml whose sites, orchestrators, groups, members and links "
    "become the journal's first events.",
)
@wait_option
def init_cmd(journal_path: Path, topology: Path | None, wait: float | None) -> None:
    """Create a new journal (an SQLite file; .db recommended).

    \b
    Example:
      twin init prod.db --topology examples/dual-site.toml
    """
    manager = settings().manager
    registry = manager.event_registry()
    genesis = read_topology(topology, registry) if topology is not None else []
    journal = Journal.create(journal_path, registry=registry, wait=wait)  # refuses an existing file
    try:
        if genesis:
            journal.append(genesis, actor="twin init")
        head = journal.head()
    except BaseException:
        # Nothing half-made is left behind (a full disk, an interrupted init).
        journal.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{journal_path}{suffix}").unlink(missing_ok=True)
        raise
    journal.close()
    detail = f" with {head} genesis events from {topology}" if genesis else " (empty)"
    say(f"created {journal_path}{detail}")


@click.command("import")
@click.argument("journal_path", metavar="JOURNAL", required=False, type=click.Path(path_type=Path))
@click.argument("event_file", metavar="FILE", required=False, type=click.Path(path_type=Path))
@click.option("--expect-head", type=int, metavar="N", help="Refuse (exit 1) unless the head is N.")
@click.option("--allow-unknown", is_flag=True, help="Keep events of types no plugin knows.")
@gateway_options(format_alias=True)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print the events it would append (as `twin log --format jsonl` would) and write nothing.",
)
@click.option("--list-formats", is_flag=True, help="List the formats it reads, and stop.")
@branch_option
@wait_option
def import_cmd(
    journal_path: Path | None,
    event_file: Path | None,
    expect_head: int | None,
    allow_unknown: bool,
    dry_run: bool,
    list_formats: bool,
    branch: str | None,
    wait: float | None,
) -> None:
    """Append an event file or gateway output to a journal, all or nothing.

    FILE is an event file (.jsonl, .csv), or what a Check Point gateway
    printed: /var/log/messages (clusterxl-syslog), `cphaprob state` captures
    (cphaprob-state), `asg stat -v` captures (asg-stat). Gateway output is
    recognised by its content (the format found is printed) unless --format
    names it. Its members are placed by --map NAME=MEMBER, by the hostname on
    a member's member_added, or by the member ids the output prints; a line
    about a member that cannot be placed refuses the file, unless
    --create-members adds the member. Lines that are not understood are
    counted by kind and reported (--strict refuses the file instead).

    A bad line refuses the whole file (file:line: field: problem, exit 2)
    and nothing is written. Events that carry an event_id already in the
    journal with the same content are skipped, so importing the same file
    twice is harmless (gateway output gets ids derived from its lines); an
    event_id reused for a different event is refused.

    \b
    Examples:
      twin import prod.db changes.jsonl
      twin import prod.db messages.log --map cor-fw01=1_01 --map cor-fw02=1_02
      twin import prod.db messages.log --year 2026 --tz Europe/Berlin --dry-run
      twin import --list-formats
    """
    if list_formats:
        show_formats()
        return
    if journal_path is None or event_file is None:
        raise click.UsageError("give JOURNAL and FILE (or --list-formats)")
    run_import(
        journal_path,
        event_file,
        expect_head=expect_head,
        allow_unknown=allow_unknown,
        branch=branch,
        dry_run=dry_run,
        wait=wait,
    )


@click.command("append", context_settings={"ignore_unknown_options": False})
@click.argument("journal_path", metavar="JOURNAL", type=click.Path(path_type=Path))
@click.argument("event_type", metavar="TYPE")
@click.argument("fields", metavar="KEY=VALUE...", nargs=-1)
@click.option("--expect-head", type=int, metavar="N", help="Refuse (exit 1) unless the head is N.")
@click.option("--ts", help="When it happened (ISO 8601; default: now).")
@click.option("--actor", help="Who records it (default: $USER).")
@click.option("--reason", help="Why.")
@click.option("--correlation-id", help="Plan or incident id.")
@click.option("--allow-unknown", is_flag=True, help="Accept a type no plugin knows.")
@branch_option
@wait_option
def append_cmd(
    journal_path: Path,
    event_type: str,
    fields: tuple[str, ...],
    expect_head: int | None,
    ts: str | None,
    actor: str | None,
    reason: str | None,
    correlation_id: str | None,
    allow_unknown: bool,
    branch: str | None,
    wait: float | None,
) -> None:
    """Append one event: an operator records a change.

    \b
    Examples:
      twin append prod.db member_failed member=1_03 cause="pnote:Interface Active Check"
      twin append prod.db load_changed group=1 connections=4500000 cpu_pct=71
      twin append prod.db member_admin_changed member=1_02 up=false --reason "swap PSU"
    """
    import os
    from datetime import UTC, datetime

    record_fields: dict[str, object] = {"type": event_type}
    for item in fields:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise TwinInputError(
                "give fields as key=value, e.g. member=1_03", field="KEY=VALUE", value=item
            )
        key = key.strip()
        if key == "type":
            raise TwinInputError(
                "the event type is the second argument, not a field", field=key, value=value
            )
        if key in record_fields:
            raise TwinInputError(
                f"given twice ({record_fields[key]!r} and {value!r}); give each field once",
                field=key,
                value=value,
            )
        record_fields[key] = value
    for key, option, given in (
        ("ts", "--ts", ts),
        ("actor", "--actor", actor),
        ("reason", "--reason", reason),
        ("correlation_id", "--correlation-id", correlation_id),
    ):
        if given and key in record_fields:
            raise TwinInputError(f"give it once: as {option} or as {key}=, not both", field=key)
        if given:
            record_fields[key] = given
    ts_defaulted = "ts" not in record_fields
    record_fields.setdefault("ts", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    user = os.environ.get("USER")
    if user:
        record_fields.setdefault("actor", user)
    manager = settings().manager
    registry = manager.event_registry()
    try:
        new = to_new_event(
            Record(1, record_fields, text=True), registry, allow_unknown=allow_unknown
        )
    except TwinInputError as exc:
        # One event from the command line: no file and no line to name.
        raise TwinInputError(exc.problem, field=exc.field, value=exc.value) from None
    new = attrs.evolve(new, line=None)
    with open_journal(journal_path, wait=wait) as journal:
        stored = (
            None if new.event_id is None else journal.seq_of_event_id(new.event_id, branch=branch)
        )
        if stored is not None and ts_defaulted:
            # A retry of the same command: "now" has moved on, the event has not.
            new = attrs.evolve(new, occurred_at=None)
        result = journal.append([new], branch=branch, expect_head=expect_head)
    if result.appended == 0 and stored is not None:
        say(f"event_id {new.event_id!r} is already in the journal as #{stored}; nothing appended")
    else:
        say(f"appended #{result.last_seq} {event_type}")


def _summary(env: Envelope) -> str:
    return " ".join(f"{k}={v}" for k, v in env.data.items())


@click.command("log")
@click.argument("source", metavar="SOURCE")
@gateway_options()
@click.option("--from", "start", type=int, default=1, metavar="N", help="First seq to list.")
@click.option("--to", "stop", type=int, metavar="N", help="Last seq to list.")
@click.option("--type", "types", metavar="TYPE[,TYPE]", help="Only these event types.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSONL, default="table", show_default=True)
@branch_option
@verify_option
def log_cmd(
    source: str,
    start: int,
    stop: int | None,
    types: str | None,
    fmt: str,
    branch: str | None,
    verify: bool,
) -> None:
    """List the events of a journal or event file.

    jsonl prints one envelope per line (seq, event_id, type, schema,
    occurred_at, recorded_at, actor, reason, correlation_id, causation_id,
    hash, data): the machine-readable contract.
    """
    wanted = set(split_list(types) or []) if types else None
    if wanted is not None:
        check_known(
            sorted(wanted), event_types(settings().manager), field="--type", what="event type"
        )
    refuse_reversed(start, stop, "--from", "--to")
    with open_for_reading(source, branch, verify=verify) as src:
        console = out()
        if fmt == "table":
            console.print(f"[bold]{'#':>6}  {'occurred_at':<27}  {'type':<28}  details[/bold]")
        for env in src.journal.read(start, stop, branch=branch):
            if wanted is not None and env.type not in wanted:
                continue
            if fmt == "jsonl":
                row = env.to_json()
                row.pop("prev_hash", None)
                write_json_line(row)
            else:
                actor = f"  ({env.actor})" if env.actor else ""
                say(
                    f"{env.seq:>6}  {env.occurred_at:<27}  {env.type:<28}  {_summary(env)}{actor}",
                    console,
                )


@click.command("branch")
@click.argument("journal_path", metavar="JOURNAL", type=click.Path(path_type=Path))
@click.argument("name", required=False)
@click.option("--at", "at", type=int, metavar="N", help="Fork after event N (default: the head).")
@click.option("--from-branch", "parent", metavar="NAME", help="Fork another branch, not main.")
@wait_option
def branch_cmd(
    journal_path: Path, name: str | None, at: int | None, parent: str | None, wait: float | None
) -> None:
    """Fork a what-if branch at event N, or list branches (no NAME).

    A branch shares the journal up to N and then has events of its own;
    select it elsewhere with --branch NAME. The main line never changes.
    """
    with open_journal(journal_path, wait=wait) as journal:
        if name is None:
            console = out()
            branches = journal.branches()
            if not branches:
                console.print("no branches; create one with `twin branch JOURNAL NAME --at N`")
            for b in branches:
                if b.problem:
                    say(f"{b.name}  BROKEN: {b.problem}", console)
                    continue
                say(
                    f"{b.name}  from {b.parent or 'main'} at #{b.fork_seq}, head #{b.head}", console
                )
            return
        fork = journal.head(branch=parent) if at is None else at
        info = journal.create_branch(name, at=fork, parent=parent)
    say(
        f"branch {info.name} forks {info.parent or 'main'} at #{info.fork_seq}; "
        f"use --branch {info.name}"
    )


@click.command("verify")
@click.argument("journal_path", metavar="JOURNAL", type=click.Path(path_type=Path))
@branch_option
@click.option(
    "--head",
    "recorded_head",
    metavar="SEQ:HASH",
    help="Also check that the main line still holds this head, recorded elsewhere "
    "(`twin import` prints it): catches a history rewritten along with its anchor.",
)
def verify_cmd(journal_path: Path, branch: str | None, recorded_head: str | None) -> None:
    """Check the hash chains; name the first bad seq of each broken line (exit 1).

    Checks the main line and every what-if branch (each stored event once),
    or only the view of --branch NAME. Every event is re-hashed; a missing,
    inserted or edited event breaks the chain, and events deleted from the end
    are caught by the head anchor each append records. A history rewritten
    together with its anchor is only caught against a head kept elsewhere:
    --head SEQ:HASH.
    """
    with open_journal(journal_path, plugin_events=False) as journal:
        if branch is not None:
            total = journal.head(branch=branch)
            with progress_bar("verifying", total) as tick:
                results = [journal.verify(branch=branch, progress=tick)]
        else:
            total = journal.head() + sum(
                max(0, b.head - b.fork_seq) for b in journal.branches() if not b.problem
            )
            with progress_bar("verifying", total) as tick:
                results = journal.verify_all(progress=tick)
        head_problem = None
        if recorded_head is not None and results[0].ok:
            head_problem = journal.check_recorded_head(recorded_head)
    failed = [r for r in results if not r.ok]
    for r in failed:
        where = f" on branch {r.branch}" if r.branch else ""
        at = f" at seq {r.first_bad_seq}" if r.first_bad_seq is not None else ""
        say(
            f"twin: verify FAILED{where}{at}: {r.problem} ({r.checked} events checked)",
            err(),
        )
    if head_problem is not None:
        say(f"twin: verify FAILED against the recorded head: {head_problem}", err())
    if failed or head_problem is not None:
        raise CheckFailed("")
    main, *others = results
    if not others:
        say(f"ok: {counted(main.checked, 'event')}, hash chain intact")
    else:
        own = sum(r.checked for r in others)
        say(
            f"ok: {main.checked} events on main and {own} on {len(others)} "
            f"branch{'es' if len(others) > 1 else ''}, hash chains intact"
        )
    if recorded_head is not None:
        say(f"ok: the recorded head {recorded_head.strip()} is in the history")


@click.command("snapshots")
@click.argument("journal_path", metavar="JOURNAL", type=click.Path(path_type=Path))
@click.option("--drop", is_flag=True, help="Delete them all (they are rebuilt when needed).")
@wait_option
def snapshots_cmd(journal_path: Path, drop: bool, wait: float | None) -> None:
    """List (or drop) the cached snapshots kept inside a journal file.

    Replaying commands (run, state, diff, tui) store snapshots of the twin
    in the journal so that seeking is fast. They are a cache, keyed by the
    code version, the profile and the installed rules, and never change the
    events. The cache is bounded: of each kind of key (state, engine,
    history), only the ones written most recently are kept; writing
    snapshots for another profile evicts the oldest. Drop them to reclaim
    space or to rule them out.
    """
    with open_journal(journal_path, plugin_events=False, wait=wait) as journal:
        if drop:
            say(f"dropped {journal.drop_snapshots()} snapshots")
            return
        summary = journal.snapshot_summary()
    if not summary:
        say("no snapshots")
    for key, count, size in summary:
        say(f"{key}: {counted(count, 'snapshot')}, {size / 1e3:,.0f} kB")
    if summary:
        total = sum(size for _key, _count, size in summary)
        say(
            f"total {total / 1e6:,.1f} MB; kept: the {KEYS_KEPT} keys of each kind written "
            "most recently (older ones are evicted when snapshots are written); "
            "`--drop` empties the cache"
        )


@click.command("export")
@click.argument("journal_path", metavar="JOURNAL", type=click.Path(path_type=Path))
@click.argument("target", metavar="OUT", type=click.Path(path_type=Path))
@click.option(
    "--keep-snapshots",
    is_flag=True,
    help="Keep the snapshot cache (sealed for you alone; dropped by default: a smaller copy).",
)
def export_cmd(journal_path: Path, target: Path, keep_snapshots: bool) -> None:
    """Write a checkpointed single-file copy of a journal (to copy, mail or archive).

    A journal is written in WAL mode: its newest events may still be in
    JOURNAL-wal beside it, so copying JOURNAL alone (while it is in use, or
    after a crash) can lose them. export copies everything committed into one
    self-contained file, checks the copy's hash chains and prints its head.

    \b
    Example:
      twin export prod.db postmortem-0412.db
    """
    with open_journal(journal_path, plugin_events=False) as journal:
        written = journal.export(target, keep_snapshots=keep_snapshots)
    with Journal.open(written, read_only=True) as copy:  # read-only: it stays one file
        results = copy.verify_all()
        head = copy.head()
        head_hash = copy.get(head).hash if head else "0" * 64
        lines = len(results)
    failed = [r for r in results if not r.ok]
    if failed:
        raise CheckFailed(
            f"{written}: the copy does not verify ({failed[0].problem}); the journal itself "
            f"may be damaged: run `twin verify {journal_path}`"
        )
    branches_note = f" and {lines - 1} branch{'es' if lines > 2 else ''}" if lines > 1 else ""
    say(f"exported {journal_path} to {written}: {head} events{branches_note}, verified")
    say(f"head {head}:{head_hash}")


COMMANDS = [
    init_cmd,
    import_cmd,
    append_cmd,
    log_cmd,
    branch_cmd,
    verify_cmd,
    export_cmd,
    snapshots_cmd,
]
