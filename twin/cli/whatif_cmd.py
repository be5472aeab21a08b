"""``twin whatif``: what if we had acted differently at event N? Two timelines side by side."""

from __future__ import annotations

from typing import Any

import click

from twin.cli._common import (
    choose_profile,
    out,
    profile_option,
    progress_bar,
    say,
    settings,
    split_list,
    write_json,
)
from twin.cli._known import metric_units
from twin.cli.import_options import gateway_options, options_in_effect, print_report
from twin.errors import TwinInputError
from twin.suggest import check_known
from twin.timeline import MOMENT_TYPES, FindingSpan, peak_rows
from twin.units import format_value
from twin.whatif import FRAME_METRICS, Counterfactual, Step, run_whatif

GLYPH = {"error": "✖", "warning": "⚠", "info": "ℹ"}


def _fields(items: tuple[str, ...]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TwinInputError(
                "give the action's fields as key=value, e.g. member=1_03 up=false",
                field="KEY=VALUE",
                value=item,
            )
        fields[key.strip()] = value
    return fields


@click.command("whatif")
@click.argument("source", metavar="SOURCE")
@gateway_options()
@click.argument("event_type", metavar="EVENT")
@click.argument("fields", metavar="KEY=VALUE...", nargs=-1)
@click.option("--at", "at", type=int, required=True, metavar="N", help="Act right after event N.")
@click.option("--label", metavar="L", help="A name for the what-if (also the action's reason).")
@click.option(
    "--keep",
    metavar="BRANCH",
    help="Keep the what-if as a branch of the journal (open it with --branch, or compare "
    "it in `twin report --compare`). Needs a journal, not an event file.",
)
@click.option("--branch", metavar="NAME", help="Fork this branch instead of the main line.")
@click.option(
    "--metrics",
    "metrics",
    metavar="NAME,…",
    help="json: the metrics each frame carries (default: the key system metrics and CPU).",
)
@profile_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def whatif_cmd(
    source: str,
    event_type: str,
    fields: tuple[str, ...],
    at: int,
    label: str | None,
    keep: str | None,
    branch: str | None,
    metrics: str | None,
    profile: str | None,
    fmt: str,
) -> None:
    """What if we had acted differently right after event N?

    Forks the timeline after event N (a journal is not written, an event file
    is only read), applies the action EVENT KEY=VALUE... (same syntax as `twin
    append`), then replays the rest of the original timeline on top of it and
    compares the two, event for event. A group load is demand: the work it
    measured is spread over the members serving on the what-if. Events that no
    longer apply there (a member's own load sample once it no longer serves, an
    event the what-if's state refuses) are reported and skipped.

    Prints the two timelines side by side (failover time, the hottest member's
    CPU, error findings, and what each event raised or cleared), where they
    diverge, and which findings the action avoided or caused.

    \b
    Examples:
      twin whatif examples/incident-0412.jsonl --at 205 \\
          member_added member=1_07 group=1 site=1 cores=32
      twin whatif examples/incident-0412.jsonl --at 205 site_failover site=2 \\
          --label "drain site 1"
      twin whatif prod.db --at 205 member_admin_changed member=1_03 up=false \\
          --keep drain-1_03
    """
    manager = settings().manager
    names = split_list(metrics)
    if names is not None:
        check_known(names, metric_units(manager), field="--metrics", what="metric")
    chosen = choose_profile(profile)
    with progress_bar("replaying", None) as tick:
        result = run_whatif(
            source,
            manager,
            chosen,
            at=at,
            event_type=event_type,
            fields=_fields(fields),
            label=label,
            branch=branch,
            keep=keep,
            metrics=FRAME_METRICS if names is None else names,
            progress=lambda _what, done, _total: tick(done),
            import_options=options_in_effect(),
        )
    print_report(result.import_report)
    if fmt == "json":
        write_json(result.to_json())
        return
    _print(result)


def _cell(summary: dict[str, Any] | None) -> str:
    if summary is None:
        return f"{'(skipped)':<26}"
    failover = format_value(summary["failover_s"], "s")
    cpu = format_value(summary["cpu_max"], "%")
    who = summary["cpu_max_member"] or ""
    return f"{failover:>7} {cpu:>6} {who:<5} ✖{summary['errors']:<3}"


def _changes(summary: dict[str, Any] | None) -> str:
    if summary is None:
        return ""
    parts = []
    for sign, key in (("+", "raised"), ("−", "cleared")):
        grouped: dict[tuple[str, str], list[str]] = {}
        for severity, rule, subject in summary[key]:
            if severity == "info" and not rule.startswith("members."):
                continue
            grouped.setdefault((severity, rule), []).append(subject)
        for (severity, rule), subjects in grouped.items():
            who = subjects[0] if len(subjects) == 1 else f"×{len(subjects)}"
            parts.append(f"{sign}{GLYPH[severity]} {rule} {who}")
    return "; ".join(parts)


def _shown(step: Step, diverged: int | None) -> bool:
    if step.seq is None or step.skipped or step.seq == diverged:
        return True
    if step.type in MOMENT_TYPES:
        return True
    return bool(_changes(step.original) or _changes(step.whatif))


def _span(span: FindingSpan, fork_at: int) -> str:
    start = "the action" if span.raised_seq == fork_at else f"#{span.raised_seq}"
    end = "the end" if span.cleared_seq is None else f"#{span.cleared_seq}"
    return f"{GLYPH[span.severity]} {span.rule} {span.subject} ({start} → {end})"


def _print(r: Counterfactual) -> None:
    console = out()
    say(f"what-if {r.label!r} on {r.source}", console)
    say(f"  after #{r.fork_at}: {r.action_text}", console)
    replayed = sum(1 for s in r.steps if s.seq is not None)
    say(
        f"  then the original's #{r.fork_at + 1}–#{r.fork_at + replayed} replayed on top: "
        f"{replayed - len(r.skipped)} applied, {len(r.skipped)} skipped",
        console,
    )
    say("", console)
    head = f"{'failover':>7} {'CPU max':>6} {'':<5} {'err':<4}"
    say(f"{'#':>6}  {'time':<8}  {'original':<26}  {'what-if':<26}  event", console)
    say(f"{'':>6}  {'':<8}  {head:<26}  {head:<26}", console)
    for step in r.steps:
        if not _shown(step, r.diverged_at):
            continue
        seq = "action" if step.seq is None else f"#{step.seq}"
        mark = "≠" if step.seq is not None and step.seq == r.diverged_at else " "
        original = " " * 26 if step.original is None else _cell(step.original)
        say(
            f"{seq:>6}{mark} {step.occurred_at[11:19]:<8}  {original}  {_cell(step.whatif)}  "
            f"{step.text}",
            console,
        )
        before, after = _changes(step.original), _changes(step.whatif)
        if before and before == after:
            say(f"{'':>17}both:     {before}", console)
        else:
            for side, text in (("original", before), ("what-if ", after)):
                if text:
                    say(f"{'':>17}{side}: {text}", console)
        if step.skipped:
            say(f"{'':>17}skipped: {step.skipped}", console)
    say("", console)
    if r.diverged_at is None:
        say("the two timelines never diverge: the action changes nothing the rules see", console)
    else:
        say(
            f"diverged at #{r.diverged_at} (≠ above): from there metrics or findings differ",
            console,
        )
    if r.original is not None and r.whatif is not None:
        say("", console)
        say(f"after #{r.fork_at}{'':<22}{'original':>12}{'what-if':>12}", console)
        for label, original, whatif in peak_rows(r.original, r.whatif, r.fork_at):
            say(f"  {label:<28}{original:>12}{whatif:>12}", console)
    for title, spans in (
        ("avoided (active on the original after the fork, never on the what-if)", r.avoided),
        ("caused (active on the what-if, never on the original after the fork)", r.caused),
    ):
        say("", console)
        say(f"{title}: {len(spans) or 'none'}", console)
        for span in spans:
            say(f"  {_span(span, r.fork_at)}", console)
    if r.skipped:
        say("", console)
        say(f"skipped ({len(r.skipped)}): events of the original that do not apply here", console)
        for s in r.skipped:
            say(f"  #{s.seq} {s.type}: {s.why}", console)
    if r.kept is not None:
        say("", console)
        say(
            f"kept as branch {r.kept.name} (forks at #{r.kept.fork_seq}, head #{r.kept.head}): "
            f"twin report {r.source} -o whatif.html --compare {r.kept.name}",
            console,
        )


COMMANDS = [whatif_cmd]
