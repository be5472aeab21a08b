"""Commands that evaluate a journal: run, state, diff, demo."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from twin.cli._common import (
    FORMAT_TABLE_JSON,
    FORMAT_TABLE_JSONL,
    branch_option,
    choose_profile,
    counted,
    open_for_reading,
    out,
    profile_option,
    progress_bar,
    refuse_reversed,
    say,
    settings,
    split_list,
    verify_option,
    write_json,
    write_json_line,
    write_lines,
)
from twin.cli._known import known_subjects, metric_units
from twin.cli.import_options import gateway_options
from twin.diff import diff_between
from twin.engine import Engine
from twin.errors import TwinInputError, no_event_text
from twin.frames import Frame
from twin.observed import observation_rows
from twin.rules import ActiveFinding
from twin.sources import replay_of
from twin.state import member_sort_key
from twin.suggest import check_known
from twin.textsafe import safe_text
from twin.units import (
    format_band,
    format_delta,
    format_field,
    format_percent_change,
    format_value,
    has_band,
)

GLYPH = {"error": "✖", "warning": "⚠", "info": "ℹ"}
HEADLINE = (
    ("members.active", "active", "count"),
    ("capacity.utilization", "cap util", "ratio"),
    ("sync.traffic_gbps", "sync", "Gbps"),
    ("convergence.failover_s", "failover", "s"),
)


def _finding_line(active: ActiveFinding) -> str:
    """One finding for people: terminal-safe, to be printed without markup."""
    f = active.finding
    return safe_text(
        f"{GLYPH[f.severity.value]} {f.rule} {f.subject}: {f.message} (since #{active.since})"
    )


def _cell(value: object) -> Text:
    """A table cell or tree label from data: terminal-safe, never read as markup."""
    return Text(safe_text(value))


@click.command("run")
@click.argument("source", metavar="SOURCE")
@gateway_options()
@click.option("--from", "start", type=int, default=1, metavar="N", help="First event to print.")
@click.option("--to", "stop", type=int, metavar="N", help="Last event to evaluate and print.")
@profile_option
@click.option("--metrics", "metrics", metavar="NAME,…", help="Only print these metrics.")
@click.option("--subjects", "subjects", metavar="SUBJECT,…", help="Only these subjects.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSONL, default="table", show_default=True)
@click.option(
    "--changes-only",
    "changes_only",
    is_flag=True,
    help="jsonl: each line carries the findings raised and cleared by its event instead of "
    "every active finding (much smaller; rebuild the active set by folding them).",
)
@branch_option
@verify_option
def run_cmd(
    source: str,
    start: int,
    stop: int | None,
    profile: str | None,
    metrics: str | None,
    subjects: str | None,
    fmt: str,
    changes_only: bool,
    branch: str | None,
    verify: bool,
) -> None:
    """Replay events and print metrics and findings after each one.

    jsonl prints one object per event: seq, type, occurred_at, metrics by
    subject (value/low/high) and the findings active after it (always all of
    them); --metrics and --subjects narrow the metrics printed. With
    --changes-only, each line has "raised" and "cleared" (the findings that
    event raised and cleared) instead of "findings": use it for long
    replays, and the full form when each line must stand alone. The table
    shows a few headline metrics and the findings each event raised (+) or
    cleared (-).
    """
    names = split_list(metrics)
    wanted = split_list(subjects)
    manager = settings().manager
    units = metric_units(manager)
    if names is not None:
        check_known(names, units, field="--metrics", what="metric")
    refuse_reversed(start, stop, "--from", "--to")
    chosen = choose_profile(profile)
    with open_for_reading(source, branch, verify=verify) as src:
        replay = replay_of(src, settings().manager, chosen)
        head = replay.head()
        if not 0 <= start <= max(head, 1):  # nothing to print: never what was meant
            raise TwinInputError(no_event_text(start, head, first=1), field="--from", value=start)
        last = head if stop is None else min(stop, head)
        if wanted is not None:
            edges = {min(max(start, 0), head), last}
            check_known(
                wanted,
                known_subjects(src.journal, src.branch, edges),
                field="--subjects",
                what="subject",
            )
        console = out()
        cols = [h for h in HEADLINE if names is None or h[0] in names]
        if fmt == "table":
            console.print(
                Text(
                    safe_text(
                        f"{src.label}: events {start}–{last} of {head}, profile {chosen.name}"
                    ),
                    "dim",
                )
            )
            header = "".join(f"{label:>11}" for _n, label, _u in cols)
            console.print(f"[bold]{'#':>6}  {'occurred_at':<20}  {'type':<28}{header}[/bold]")
        frame: Frame | None = None
        # An unchanged set of active findings is the same tuple: serialise it once.
        shown: tuple[ActiveFinding, ...] | None = None
        findings_json = orjson.Fragment(b"[]")
        with progress_bar("replaying", last) as tick:
            for frame in replay.frames(start, last):
                if fmt == "jsonl":
                    env = frame.envelope
                    row: dict[str, Any] = {
                        "seq": frame.seq,
                        "type": env.type,
                        "occurred_at": env.occurred_at,
                        "metrics": frame.metrics.to_json(names, wanted),
                    }
                    if changes_only:
                        row["raised"] = [a.to_json() for a in frame.raised]
                        row["cleared"] = [a.to_json() for a in frame.cleared]
                    else:
                        if frame.findings is not shown:
                            shown = frame.findings
                            findings_json = orjson.Fragment(
                                orjson.dumps([f.to_json() for f in shown])
                            )
                        row["findings"] = findings_json
                    row["profile"] = chosen.name
                    write_json_line(row)
                else:
                    write_lines(_run_row(frame, cols))
                if frame.seq % 1000 == 0:
                    tick(frame.seq)
        if fmt == "table" and frame is not None:
            console.print(
                f"\n[bold]active after #{frame.seq}:[/] {counted(len(frame.findings), 'finding')}"
            )
            for active in frame.findings:
                say("  " + _finding_line(active), console)


def _run_row(frame: Frame, cols: Any) -> list[str]:
    """The table's lines for one event: its row, then the findings raised and cleared."""
    values = "".join(
        f"{format_value(_value(frame, name), unit, name=name, compact=True):>11}"
        for name, _label, unit in cols
    )
    env = frame.envelope
    lines = [f"{env.seq:>6}  {env.occurred_at:<20}  {env.type:<28}{values}"]
    for active in frame.raised:
        lines.append(f"{'':>8}+ {_finding_line(active)}")
    for active in frame.cleared:
        f = active.finding
        lines.append(f"{'':>8}- {GLYPH[f.severity.value]} {f.rule} {f.subject} cleared")
    return lines


def _value(frame: Frame, name: str) -> float | None:
    value = frame.metrics.value("system", name, _MISSING)
    return None if value is _MISSING else value


_MISSING = float("nan")


@click.command("state")
@click.argument("source", metavar="SOURCE")
@gateway_options()
@click.option("--at", "at", type=int, metavar="N", help="After event N (default: the last).")
@profile_option
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@branch_option
@verify_option
def state_cmd(
    source: str, at: int | None, profile: str | None, fmt: str, branch: str | None, verify: bool
) -> None:
    """The twin at one point: topology, metrics and active findings."""
    chosen = choose_profile(profile)
    with open_for_reading(source, branch, verify=verify) as src:
        replay = replay_of(src, settings().manager, chosen)
        frame = replay.at(at)
        engine = replay.engine
        if fmt == "json":
            data: dict[str, Any] = (
                frame.to_json()
                if frame is not None
                else {"seq": 0, "type": None, "occurred_at": None, "metrics": {}, "findings": []}
            )
            data["profile"] = chosen.name
            data["observed"] = observation_rows(engine.state, engine.metrics)
            data["topology"] = engine.state.node_link_data()
            if engine.state.plugin_state:  # plugins' own parts of the state (plugin API 0.2)
                data["plugin_state"] = engine.state.to_canonical()["plugin_state"]
            write_json(data)
            return
        _print_state(src.label, frame, engine, chosen.name)


def _print_state(label: str, frame: Frame | None, engine: Engine, profile: str) -> None:
    console = out()
    state = engine.state
    if frame is None:
        say(f"{label}: #0, before the first event (nothing applied yet)", console)
        return
    env = frame.envelope
    console.print(
        Text.assemble(
            (safe_text(label), "bold"),
            safe_text(f" after #{env.seq} {env.type} at {env.occurred_at} (profile {profile})"),
        )
    )
    tree = Tree("deployment")
    for number in sorted(state.sites):
        site = state.sites[number]
        branch = tree.add(
            _cell(f"site {number} {site['name']} — {'ACTIVE' if site['active'] else 'standby'}")
        )
        for orch in sorted(state.orchestrators):
            o = state.orchestrators[orch]
            if o["site"] == number:
                branch.add(_cell(f"{'●' if o['up'] else '✖'} {orch} {o['model']}"))
    for group_id in sorted(state.groups):
        group = state.groups[group_id]
        hypersync = "on" if group["hypersync"] else "off"
        g = tree.add(
            _cell(
                f"group {group_id} ({group['mode']}, HyperSync {hypersync}),"
                f" SMO {state.smo_master(group_id) or '—'}"
            )
        )
        for member_id in sorted(group["members"], key=member_sort_key):
            m = state.members[member_id]
            glyph = {"UP": "●", "DOWN": "✖", "DOWN_ADMIN": "○", "UPGRADING": "◐"}[m["state"]]
            cause = f"  ({m['cause']})" if m.get("cause") else ""
            g.add(
                _cell(
                    f"{glyph} {member_id} {m['state']:<10} {m['version']:<8} "
                    f"cpu {m['cpu_pct']:5.1f}%  conns {m['connections']:>12,.0f}{cause}"
                )
            )
    console.print(tree)
    units = metric_units(settings().manager)
    table = Table(title="system metrics", title_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("band", justify="right", no_wrap=True)
    for name, metric in sorted(engine.metrics.by_subject.get("system", {}).items()):
        unit = units.get(name)
        band = (
            format_band(metric.low, metric.high, unit, name=name, compact=True)
            if has_band(metric.low, metric.value, metric.high)
            else ""
        )
        table.add_row(_cell(name), format_value(metric.value, unit, name=name, compact=True), band)
    console.print(table)
    _print_observed(console, state, engine, units)
    console.print(f"[bold]{counted(len(frame.findings), 'active finding')}[/]")
    for active in frame.findings:
        say("  " + _finding_line(active), console)


def _print_observed(console: Any, state: Any, engine: Engine, units: dict[str, str]) -> None:
    """What gateways showed beside what the model predicts (``metric_observed``)."""
    rows = observation_rows(state, engine.metrics)
    if not rows:
        return
    table = Table(title="observed beside predicted", title_justify="left")
    for col in ("subject", "metric", "observed", "model now", "error", "seen at"):
        table.add_column(
            col, no_wrap=True, justify="left" if col in ("subject", "metric") else "right"
        )
    for row in rows:
        name, unit = row["metric"], units.get(row["metric"])
        model = row["predicted"]
        if model is None:
            predicted = "–"
        elif has_band(model["low"], model["value"], model["high"]):
            predicted = format_band(model["low"], model["high"], unit, name=name, compact=True)
        else:
            predicted = format_value(model["value"], unit, name=name, compact=True)
        error = "–" if row["error_then"] is None else f"{row['error_then']:.0%}"
        table.add_row(
            _cell(row["subject"]),
            _cell(name),
            format_value(row["observed"], unit, name=name, compact=True),
            predicted,
            error,
            _cell(f"#{row['seq']} {row['occurred_at']}"),
        )
    console.print(table)
    say("  error: |observed − model| ÷ observed when it was observed (twin.model_error)", console)


@click.command("diff")
@click.argument("source", metavar="SOURCE")
@gateway_options()
@click.argument("a", type=int)
@click.argument("b", type=int)
@profile_option
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@branch_option
@verify_option
def diff_cmd(
    source: str, a: int, b: int, profile: str | None, fmt: str, branch: str | None, verify: bool
) -> None:
    """What changed between event A and event B: topology, metrics, findings, events.

    A must not be after B (the command refuses rather than swap them). Values
    are shown in their units; changes smaller than float noise are not changes.
    """
    refuse_reversed(a, b, "A", "B")
    chosen = choose_profile(profile)
    with open_for_reading(source, branch, verify=verify) as src:
        replay = replay_of(src, settings().manager, chosen)
        head = replay.head()
        for name, value in (("A", a), ("B", b)):
            if not 0 <= value <= head:
                raise TwinInputError(
                    no_event_text(value, head),
                    field=name,
                    value=value,
                )
        result = diff_between(replay, a, b, label=src.label)
    if fmt == "json":
        write_json(result)
        return
    _print_diff(result)


def _topology_value(row: dict[str, Any], side: str) -> str:
    """A topology row's A or B for people: units, yes/no, and a default weight as its value."""
    value = row.get(side)
    text = format_field(row["change"], value)
    if row.get(f"{side}_default"):
        text += " (default)"
    return text


MAX_TERMINAL_ROWS = 60


def _print_diff(result: dict[str, Any]) -> None:
    console = out()
    units = metric_units(settings().manager)
    console.print(f"[bold]#{result['a']} → #{result['b']}[/]")
    events = ", ".join(f"{t} ×{n}" for t, n in result["events"].items()) or "none"
    say(f"events between: {events}", console)
    if result["topology"]:
        table = Table(title="topology", title_justify="left")
        for col in ("kind", "id", "change", "A", "B"):
            table.add_column(col, no_wrap=col in ("kind", "id", "change"))
        for row in result["topology"]:
            table.add_row(
                _cell(row["kind"]),
                _cell(row["id"]),
                _cell(row["change"]),
                _cell(_topology_value(row, "a")),
                _cell(_topology_value(row, "b")),
            )
        console.print(table)
    rows = result["metrics"]
    if rows:
        # On a terminal, the largest changes; piped, every row (nothing is ever cut).
        shown = rows[:MAX_TERMINAL_ROWS] if sys.stdout.isatty() else rows
        table = Table(title="metrics (largest change first)", title_justify="left")
        for col in ("subject", "metric", "A", "B", "Δ", "Δ%"):
            left = col in ("subject", "metric")
            table.add_column(col, justify="left" if left else "right", no_wrap=True)
        for row in shown:
            unit, name = units.get(row["metric"]), row["metric"]
            table.add_row(
                _cell(row["subject"]),
                _cell(name),
                format_value(row["a"], unit, name=name, compact=True),
                format_value(row["b"], unit, name=name, compact=True),
                format_delta(row["delta"], unit, name=name, compact=True),
                format_percent_change(row["pct"]),
            )
        console.print(table)
        if len(shown) < len(rows):
            console.print(f"… and {len(rows) - len(shown)} more (pipe it, or --format json)")
    for word, sign in (("raised", "+"), ("resolved", "-")):
        for f in result["findings"][word]:
            say(
                f"{sign} {GLYPH[f['severity']]} {f['rule']} {f['subject']}: {f['message']}", console
            )


COMMANDS = [run_cmd, state_cmd, diff_cmd]
