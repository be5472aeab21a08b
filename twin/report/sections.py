"""The report's content as plain rows and sentences, shared by the HTML and Markdown renderers.

Everything here is plain text made terminal-safe (:func:`twin.textsafe.safe_text`);
each renderer escapes it for its own format.
"""

from __future__ import annotations

from typing import Any

import attrs

from twin.report.model import Report, upgrade_explains
from twin.textsafe import safe_text
from twin.timeline import (
    FindingSpan,
    Moment,
    Timeline,
    describe,
    format_duration,
    peak_rows,
    seconds_between,
)
from twin.units import format_value

GLYPH = {"error": "✖", "warning": "⚠", "info": "ℹ"}


def clock(at: str | None) -> str:
    """``2026-04-12T02:11:40Z`` → ``02:11:40``; the text as it is when it is not ISO."""
    if not at:
        return ""
    return at[11:19] if len(at) >= 19 and at[10] == "T" else at


def day(at: str) -> str:
    """The date part of an ISO time."""
    return at[:10] if len(at) >= 10 else at


@attrs.frozen
class Fact:
    """One line of the summary: a label, what it says, and a detail line (may be empty)."""

    label: str
    text: str
    detail: str = ""


def window_line(t: Timeline, profile: str, version: str) -> str:
    """``#1–#450 · 2026-04-12 00:55:00 → 03:50:00 UTC (2 h 55 min) · …``."""
    span = format_duration(seconds_between(t.first_at, t.last_at))
    when = f"{day(t.first_at)} {clock(t.first_at)} → {clock(t.last_at)} UTC ({span})"
    if day(t.first_at) != day(t.last_at):
        when = f"{day(t.first_at)} {clock(t.first_at)} → {day(t.last_at)} {clock(t.last_at)} UTC"
    return safe_text(
        f"events #{t.start}–#{t.stop} · {when} · {t.members} members in {t.groups} "
        f"group{'s' if t.groups != 1 else ''} over {t.sites} site{'s' if t.sites != 1 else ''}"
        f" · profile {profile} · maestro-twin {version}"
    )


def summary(report: Report) -> list[Fact]:
    """The summary: what went wrong first, the worst moment, errors in order, the end state."""
    t = report.timeline
    facts: list[Fact] = []
    first = report.first_error
    if first is None:
        facts.append(Fact("What went wrong", "no error finding was raised in this window"))
    else:
        found = report.first_error_bisect
        how = ""
        if found is not None and found.frame is not None:
            env = found.frame.envelope
            probes = ", ".join(f"#{p.seq}" for p in found.probes)
            how = (
                f" Raised by #{env.seq} ({clock(env.occurred_at)}): {describe(env)}. "
                f"Found by bisection in {len(found.probes)} probes ({probes})."
            )
        own = ""
        if upgrade_explains(first, t):
            own = (
                " These are the upgrade's own mixed versions: members were upgraded from the "
                "version the others still run (versions.mixed-outside-window never joined "
                "it), as a Multi-Version Cluster upgrade does until it is finished or "
                "rolled back."
            )
        facts.append(
            Fact(
                "What went wrong first",
                safe_text(
                    f"{first.rule} on {first.subject} at #{first.raised_seq} "
                    f"({clock(first.raised_at)})" + (", the upgrade in progress" if own else "")
                ),
                safe_text(f"{first.message}.{own}{how}"),
            )
        )
        later = report.first_unexplained
        if later is not None:
            facts.append(
                Fact(
                    "First error no upgrade explains",
                    safe_text(
                        f"{later.rule} on {later.subject} at #{later.raised_seq} "
                        f"({clock(later.raised_at)})"
                    ),
                    safe_text(
                        f"{later.message}. Raised by #{later.raised_seq}: "
                        f"{report.first_unexplained_event}."
                    ),
                )
            )
        elif own:
            facts.append(
                Fact(
                    "First error no upgrade explains",
                    "none: every error finding of this window is the upgrade's own",
                )
            )
    if t.worst is not None and t.worst[2] > 0:
        seq, at, errors = t.worst
        facts.append(
            Fact(
                "Worst moment",
                f"#{seq} ({clock(at)}): {errors} error findings active at once",
            )
        )
    order: list[str] = []
    seen: set[str] = set()
    for span in t.spans:
        if span.severity == "error" and span.rule not in seen and span.raised_seq >= t.start:
            seen.add(span.rule)
            mark = ", the upgrade's" if upgrade_explains(span, t) else ""
            order.append(f"{span.rule} (#{span.raised_seq}, {clock(span.raised_at)}{mark})")
    if order:
        facts.append(Fact("Errors, in the order raised", safe_text(" → ".join(order))))
    hot = t.series.get("load.cpu_pct@hottest")
    peak = None if hot is None else hot.peak()
    if hot is not None and peak is not None:
        who = hot.who[hot.seqs.index(peak[0])].removeprefix("member:")
        facts.append(
            Fact(
                "Hottest CPU",
                safe_text(f"{format_value(peak[1], '%')} on {who} after #{peak[0]}"),
            )
        )
    active = [f for f in t.final if f["severity"] != "info"]
    facts.append(
        Fact(
            "At the end",
            safe_text(
                "; ".join(f"{f['rule']} on {f['subject']} (since #{f['since']})" for f in active)
                or "no warning or error finding active"
            ),
        )
    )
    if report.comparison is not None:
        c = report.comparison
        facts.append(
            Fact(
                f"What-if {c.branch}",
                safe_text(
                    f"forks at #{c.fork_seq}; avoids {len(c.avoided)} finding"
                    f"{'s' if len(c.avoided) != 1 else ''} and causes {len(c.caused)}"
                ),
            )
        )
    return facts


def moment_findings(moment: Moment) -> str:
    """``+ ✖ members.down member:1_03; − ✖ convergence.cpu-overload ×5``."""
    parts = []
    for sign, items in (("+", moment.raised), ("−", moment.cleared)):
        grouped: dict[tuple[str, str], list[str]] = {}
        for severity, rule, subject in items:
            grouped.setdefault((severity, rule), []).append(subject)
        for (severity, rule), subjects in grouped.items():
            who = subjects[0] if len(subjects) == 1 else f"×{len(subjects)}"
            parts.append(f"{sign} {GLYPH.get(severity, '')} {rule} {who}")
    return safe_text("; ".join(parts))


def finding_rows(t: Timeline) -> list[dict[str, Any]]:
    """One row per finding span, in the order raised."""
    rows = []
    for span in t.spans:
        rows.append(
            {
                "severity": span.severity,
                "glyph": GLYPH.get(span.severity, ""),
                "rule": safe_text(span.rule),
                "subject": safe_text(span.subject),
                "raised": f"#{span.raised_seq} {clock(span.raised_at)}",
                "cleared": "still active"
                if span.cleared_seq is None
                else f"#{span.cleared_seq} {clock(span.cleared_at)}",
                "duration": format_duration(span.duration_s(t.last_at))
                + ("+" if span.cleared_seq is None else ""),
                "message": safe_text(span.message),
            }
        )
    return rows


@attrs.frozen
class SideBySide:
    """One row of the comparison: a measure on the original and on the branch."""

    label: str
    original: str
    branch: str


def side_by_side(report: Report) -> list[SideBySide]:
    """Headline numbers of both timelines after the fork."""
    c = report.comparison
    if c is None:
        return []
    return [SideBySide(*row) for row in peak_rows(report.timeline, c.timeline, c.fork_seq)]


def span_line(span: FindingSpan) -> str:
    """``✖ convergence.cpu-overload on member:1_01 (#234–#267)``."""
    end = "…" if span.cleared_seq is None else f"#{span.cleared_seq}"
    return safe_text(
        f"{GLYPH.get(span.severity, '')} {span.rule} on {span.subject} (#{span.raised_seq}–{end})"
    )
