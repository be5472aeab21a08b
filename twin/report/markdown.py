"""The report as Markdown, with its plots as PNG files beside it (``<stem>-<plot>.png``)."""

from __future__ import annotations

import re

from twin.report import sections
from twin.report.model import Report
from twin.report.plots import Plot
from twin.textsafe import safe_text

_SPECIAL = re.compile(r"([\\`*\[\]<>|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")


def md(text: object) -> str:
    """Escape data for Markdown: a table cell stays one cell; no HTML, link, code or emphasis.

    Brackets, backticks, asterisks, pipes, angle brackets, tildes and backslashes are
    escaped, and underscores where they could open or close emphasis (not inside
    ``1_03``). Text is never at the start of a line, so ``#``, ``+`` and ``-`` are safe.
    """
    return _SPECIAL.sub(r"\\\1", safe_text(text)).replace("\n", " ")


def _table(head: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    right = right or set()
    lines = ["| " + " | ".join(head) + " |"]
    lines.append(
        "| " + " | ".join("---:" if i in right else "---" for i in range(len(head))) + " |"
    )
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def png_name(stem: str, plot: Plot) -> str:
    """The PNG file a plot is written to, beside the Markdown file."""
    return f"{stem}-{plot.name}.png"


def render(report: Report, plots: list[Plot], stem: str) -> str:
    """The whole document; ``stem`` names the PNG files (``report`` → ``report-cpu.png``)."""
    t = report.timeline
    out = [
        f"# {md(report.title)}",
        "",
        f"_{md(sections.window_line(t, report.profile, report.version))}_",
        "",
    ]
    out += ["## Summary", ""]
    for fact in sections.summary(report):
        detail = f" — {md(fact.detail)}" if fact.detail else ""
        out.append(f"- **{md(fact.label)}:** {md(fact.text)}{detail}")
    out += ["", "## Key moments", ""]
    out.append(
        "Faults, failovers, links, notes, and every event that raised or cleared a warning or "
        "an error finding (+ raised, − cleared)."
    )
    out.append("")
    out.append(
        _table(
            ["#", "time", "what happened", "who", "findings"],
            [
                [
                    f"#{m.seq}",
                    sections.clock(m.occurred_at),
                    md(m.text),
                    md(m.actor or ""),
                    md(sections.moment_findings(m)),
                ]
                for m in t.moments
            ],
            right={0},
        )
    )
    out += ["", "## Key metrics over time", ""]
    for plot in plots:
        out += [
            f"### {md(plot.title)}",
            "",
            f"![{md(plot.title)}]({png_name(stem, plot)})",
            "",
            f"_{md(plot.caption)}_",
            "",
        ]
    out += ["## Findings", ""]
    out.append(
        _table(
            ["severity", "finding", "subject", "raised", "cleared", "active for", "message"],
            [
                [
                    f"{r['glyph']} {r['severity']}",
                    f"`{r['rule']}`",
                    f"`{r['subject']}`",
                    r["raised"],
                    r["cleared"],
                    r["duration"],
                    md(r["message"]),
                ]
                for r in sections.finding_rows(t)
            ],
            right={5},
        )
    )
    c = report.comparison
    if c is not None:
        out += ["", f"## What-if: `{md(c.branch)}` beside the original", ""]
        out.append(
            f"The branch shares events #1–#{c.fork_seq} with the original. In the plots the "
            "original is solid blue and the branch dashed orange."
        )
        out.append("")
        out.append(
            _table(
                ["after the fork", "original", f"what-if {md(c.branch)}"],
                [[md(r.label), r.original, r.branch] for r in sections.side_by_side(report)],
                right={1, 2},
            )
        )
        for title, items, empty in (
            ("Avoided on the branch", c.avoided, "nothing"),
            ("Caused on the branch", c.caused, "nothing"),
        ):
            out += ["", f"### {title}", ""]
            out += [f"- {md(sections.span_line(s))}" for s in items] or [empty]
    out += ["", "## Parameters the findings depend on", ""]
    out.append(
        f"Profile `{md(report.profile)}`: every number the rules behind these findings read, "
        "with where it comes from. `seed` numbers are unverified; calibrate them with a profile "
        "file (`twin profile`)."
    )
    out.append("")
    out.append(
        _table(
            ["parameter", "value", "band", "provenance", "source", "findings that use it"],
            [
                [
                    f"`{p.name}`",
                    md(p.value),
                    md(p.band),
                    p.provenance,
                    md(p.source),
                    md(", ".join(p.used_by)),
                ]
                for p in report.parameters
            ],
            right={1, 2},
        )
    )
    out += [
        "",
        f"_Made by `{safe_text(report.command or 'twin report').replace('`', '')}` from "
        f"{md(report.source)}. Times are journal time (UTC)._",
        "",
    ]
    return "\n".join(out)
