"""``twin bisect``: the first event at which a condition holds, found by bisection."""

from __future__ import annotations

from typing import Any

import click

from twin.bisect import (
    BisectResult,
    Condition,
    Probe,
    bisect,
    parse_when,
    rule_condition,
)
from twin.cli._common import (
    branch_option,
    choose_profile,
    open_for_reading,
    out,
    profile_option,
    progress_bar,
    say,
    settings,
    write_json,
)
from twin.cli._known import known_subjects, metric_units, rule_ids
from twin.cli.import_options import gateway_options
from twin.engine import CRASHED, UNKNOWN_TYPE
from twin.errors import CheckFailed, TwinInputError
from twin.replay import Replay
from twin.suggest import check_known
from twin.units import format_field, format_value

GLYPH = {"error": "✖", "warning": "⚠", "info": "ℹ"}


def _condition(rule: str | None, subject: str | None, when: str | None) -> Condition:
    if (rule is None) == (when is None):
        raise TwinInputError(
            "give exactly one of --rule ID or --when 'METRIC[@SUBJECT] OP VALUE'", field="--rule"
        )
    manager = settings().manager
    if rule is not None:
        return rule_condition(rule, subject, [*rule_ids(manager), CRASHED, UNKNOWN_TYPE])
    if subject is not None:
        raise TwinInputError(
            "--subject goes with --rule; with --when write METRIC@SUBJECT", field="--subject"
        )
    assert when is not None
    units = metric_units(manager)
    return parse_when(
        when, units, fmt=lambda name, value: format_value(value, units.get(name), name=name)
    )


def _subject_of(condition: Condition) -> str | None:
    subject = getattr(condition, "subject", None)
    return None if subject in (None, "system") else str(subject)


@click.command("bisect")
@click.argument("source", metavar="SOURCE")
@gateway_options()
@click.option("--rule", metavar="ID", help="Find where a finding of rule ID becomes active.")
@click.option("--subject", metavar="S", help="With --rule: only findings on S (member:1_03).")
@click.option(
    "--when",
    metavar="'METRIC[@SUBJECT] OP VALUE'",
    help="Find where a metric comparison holds, e.g. 'load.cpu_pct@member:1_03 > 80' "
    "(OP: > >= < <= == !=; 80% means 0.8 for a ratio).",
)
@click.option("--from", "start", type=int, default=1, metavar="N", help="Search from event N.")
@click.option("--to", "stop", type=int, metavar="N", help="Search up to event N (default: last).")
@click.option(
    "--no-scan",
    "no_scan",
    is_flag=True,
    help="Bisection only: skip the scan that checks for an earlier stretch (faster on long "
    "journals; the answer is then the last rise before --to).",
)
@profile_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@branch_option
def bisect_cmd(
    source: str,
    rule: str | None,
    subject: str | None,
    when: str | None,
    start: int,
    stop: int | None,
    no_scan: bool,
    profile: str | None,
    fmt: str,
    branch: str | None,
) -> None:
    """The first event at which a condition holds, found by bisection.

    The condition is a rule's finding being active (--rule, optionally on one
    --subject) or a metric comparison (--when). Each probe seeks the twin to
    one event (from the nearest snapshot) and checks the condition; the probes
    are printed as they are made. Bisection assumes that the condition, once
    it holds, keeps holding; the events before the final bracket are then
    scanned once, so a condition that holds, clears and holds again is
    reported as not monotone, with its first holding event.

    Exit 0 with the event found; exit 1 if the condition never holds in the range.

    \b
    Examples:
      twin bisect examples/incident-0412.jsonl --rule convergence.cpu-overload
      twin bisect examples/incident-0412.jsonl --when 'load.cpu_pct@member:1_03 > 80'
      twin bisect examples/incident-0412.jsonl --when 'members.active < 12' --from 60 --format json
    """
    condition = _condition(rule, subject, when)
    chosen = choose_profile(profile)
    manager = settings().manager
    console = out()
    text = fmt == "text"
    with open_for_reading(source, branch) as src:
        replay = Replay(src.journal, manager, chosen, branch=src.branch)
        head = replay.head()
        last = head if stop is None else stop
        wanted = _subject_of(condition)
        if wanted is not None and 0 <= start <= last <= head:
            check_known(
                [wanted],
                known_subjects(src.journal, src.branch, (start, last)),
                field="--subject" if rule else "--when",
                what="subject",
            )
        if text:
            say(f"bisect {src.label} #{start}–#{last}: {condition.text}", console)

        def shown(probe: Probe, left: int) -> None:
            if text:
                verdict = "holds" if probe.holds else "does not hold"
                tail = f"  ({left} step{'s' if left > 1 else ''} left)" if left else ""
                say(f"  probe #{probe.seq:<6} {verdict:<14} {probe.detail}{tail}", console)

        with progress_bar("scanning", None) as tick:
            result = bisect(
                replay,
                condition,
                start,
                stop,
                scan=not no_scan,
                on_probe=shown,
                on_scan=lambda done, _total: tick(done),
            )
    if fmt == "json":
        write_json(result.to_json())
    else:
        _print_result(console, result)
    if result.seq is None:
        raise CheckFailed("")


def _print_result(console: Any, result: BisectResult) -> None:
    if result.scanned:
        where = (
            f"#{result.start + 1}–#{result.start + result.scanned}"
            if result.scanned > 1
            else f"#{result.start + 1}"
        )
        say(f"  scanned {where} in order for an earlier holding event", console)
    if result.seq is None:
        if result.verified:
            say(f"never holds in #{result.start}–#{result.stop}: {result.condition}", console)
        else:
            say(f"does not hold at #{result.stop} (the scan was skipped: --no-scan)", console)
        return
    frame = result.frame
    assert frame is not None
    env = frame.envelope
    details = " ".join(f"{k}={v}" for k, v in env.data.items())
    actor = f" ({env.actor})" if env.actor else ""
    say(f"first holding event: #{env.seq} {env.occurred_at} {env.type} {details}{actor}", console)
    if env.reason:
        say(f"  reason: {env.reason}", console)
    for subject, field, before, after in frame.changes.fields:
        say(
            f"  changed {subject} {field}: {format_field(field, before)} → "
            f"{format_field(field, after)}",
            console,
        )
    for note in frame.changes.notes:
        say(f"  note: {note}", console)
    for active in frame.raised:
        f = active.finding
        say(f"  raised {GLYPH[f.severity.value]} {f.rule} {f.subject}: {f.message}", console)
    if result.monotone is False and result.earlier is not None:
        first, cleared = result.earlier
        where = f"clears at #{cleared}" if cleared is not None else "still holds"
        again = (
            f" and holds again from #{result.last_rise}"
            if result.last_rise is not None
            else f" and does not hold at #{result.stop}"
        )
        say(
            f"not monotone: it holds from #{first}, {where}{again}; "
            f"#{first} is the first holding event",
            console,
        )
    elif not result.verified:
        say(
            f"not checked for an earlier stretch (--no-scan): #{result.seq} is where it last "
            "started to hold",
            console,
        )


COMMANDS = [bisect_cmd]
