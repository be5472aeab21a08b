"""How plan results look on a terminal: the step table, the summary, the comparison.

All number formatting goes through :func:`value_text`, :func:`band_text` and
:func:`delta_text`, so that switching to the team's shared unit formatting is
one edit. Text from data (labels, subjects, messages, file names) is made
terminal-safe and printed as :class:`rich.text.Text`, never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from twin.plan.check import PlanResult, StepResult, Watched
from twin.plan.model import Expectation
from twin.rules import ActiveFinding
from twin.textsafe import safe_text
from twin.units import (
    MULTIPLIER,
    PERCENT,
    PERCENT_OF_ONE,
    SILENT,
    display_unit,
    format_band,
    format_delta,
    format_value,
    has_band,
    same,
)

GLYPH = {"error": "✖", "warning": "⚠", "info": "ℹ"}
SHORT = {
    "members.active": "active",
    "capacity.utilization": "cap util",
    "sync.traffic_gbps": "sync",
    "convergence.failover_s": "failover",
}


# -- numbers ------------------------------------------------------------------------------------
#
# Every number goes through twin.units (the team's one way to write numbers for people). In the
# step table the column header names the unit, so cells leave it off, except percentages and
# multipliers, whose sign is part of the number.

_CELL_KEEPS = PERCENT | PERCENT_OF_ONE | MULTIPLIER


def _cell_suffix(unit: str, name: str | None) -> str | None:
    """The unit suffix a table cell leaves off (None: it keeps its suffix)."""
    shown = display_unit(unit, name)
    if not shown or shown in _CELL_KEEPS or shown in SILENT:
        return None
    return " " + shown


def value_text(
    value: float | None, unit: str, *, name: str | None = None, compact: bool = False
) -> str:
    """A value in its unit (``24.1%``, ``0.30 s``, ``3.10 Gbps``); ``compact`` for table cells."""
    if compact and _cell_suffix(unit, name) is not None:
        return format_value(value, unit, name=name, suffix=False)
    return format_value(value, unit, name=name, compact=compact)


def _strip(text: str, unit: str, name: str | None, compact: bool) -> str:
    suffix = _cell_suffix(unit, name) if compact else None
    return text[: -len(suffix)] if suffix and text.endswith(suffix) else text


def band_text(
    low: float, high: float, unit: str, *, name: str | None = None, compact: bool = False
) -> str:
    """A band: ``7.0–9.0 s`` (``7.0–9.0`` in a table cell)."""
    return _strip(format_band(low, high, unit, name=name, compact=compact), unit, name, compact)


def delta_text(delta: float, unit: str, *, name: str | None = None, compact: bool = False) -> str:
    """A change: ``+1``, ``-0.20 s``, ``+12.5 pp``; empty when it is float noise."""
    if same(delta, 0.0):
        return ""
    text = format_delta(delta, unit, name=name, compact=compact)
    return "" if text == "0" else _strip(text, unit, name, compact)


def observed_text(observed: Any, unit: str) -> str:
    """What an expectation saw, for people."""
    if observed is None:
        return "none"
    if isinstance(observed, bool):
        return "yes" if observed else "no"
    if isinstance(observed, int | float):
        return value_text(float(observed), unit)
    if (
        isinstance(observed, list)
        and len(observed) == 2
        and all(isinstance(x, int | float) for x in observed)
    ):
        return band_text(float(observed[0]), float(observed[1]), unit)
    if isinstance(observed, list):
        return ", ".join(safe_text(x) for x in observed) or "nowhere"
    return safe_text(observed)


def expectation_text(e: Expectation, units: Mapping[str, str]) -> str:
    """An expectation for people, its limits in the metric's unit (``capacity.utilization
    < 80.0%``); the JSON keeps them as the plan wrote them (``Expectation.text``)."""
    if e.metric is None:
        return e.text
    unit = units.get(e.metric, "")
    return e.text_with(lambda limit: value_text(limit, unit, name=e.metric))


# -- cells --------------------------------------------------------------------------------------


def _metric_cell(step: StepResult, before: StepResult | None, pair: Watched, unit: str) -> Text:
    subject, name = pair
    now = step.metric(subject, name)
    if now is None:
        return Text("–", style="dim")
    cell = Text(value_text(now["value"], unit, name=name, compact=True))
    prev = before.metric(subject, name) if before is not None else None
    if prev is not None:
        delta = delta_text(now["value"] - prev["value"], unit, name=name, compact=True)
        if delta:
            cell.append("\n" + delta, style="cyan")
    if has_band(now["low"], now["value"], now["high"]):
        band = band_text(now["low"], now["high"], unit, name=name, compact=True)
        cell.append("\n" + band, style="dim")
    return cell


def finding_line(sign: str, active: ActiveFinding) -> Text:
    """``+ ✖ convergence.cpu-overload member:1_03``."""
    f = active.finding
    style = {"error": "red", "warning": "yellow", "info": "blue"}[f.severity.value]
    line = Text(f"{sign} {GLYPH[f.severity.value]} ", style=style if sign != "-" else "dim")
    line.append(safe_text(f"{f.rule} {f.subject}"), style=None if sign != "-" else "dim")
    return line


def _active_cell(step: StepResult, most: int = 5) -> Text:
    """The base row: the findings already active (``=`` marks them)."""
    lines = [finding_line("=", a) for a in step.findings[:most]]
    if len(step.findings) > most:
        lines.append(Text(f"  … and {len(step.findings) - most} more", style="dim"))
    return Text("\n").join(lines) if lines else Text("none active", style="dim")


def _findings_cell(step: StepResult) -> Text:
    lines = [finding_line("+", a) for a in step.raised]
    lines += [finding_line("-", a) for a in step.cleared]
    lines += [Text(safe_text(f"note: {n}"), style="italic") for n in step.notes]
    return Text("\n").join(lines) if lines else Text("")


def expectation_list(result: PlanResult, units: Mapping[str, str]) -> Text:
    """``E1 convergence.failover_s < 1.0 s (band), every step`` — one line per expectation."""
    if not result.plan.expectations:
        return Text(
            "expectations: none ([[expect]] tables say what must hold; without them the "
            "plan cannot fail)",
            style="bold",
        )
    lines = [Text("expectations:", style="bold")]
    for e in result.plan.expectations:
        when = e.when
        number = e.step if e.step is not None else e.after
        if isinstance(number, int) and result.plan.steps[number - 1].label:
            when += f" ({result.plan.steps[number - 1].label})"
        line = Text(f"  E{e.index} ", style="bold")
        line.append(safe_text(f"{expectation_text(e, units)}, {when}"))
        lines.append(line)
    return Text("\n").join(lines)


def _verdicts_cell(step: StepResult, units: Mapping[str, str]) -> Text:
    """``✔ E1 E2 E3`` for what holds, then one ``✖ E4 saw 8.0 s`` line per failure."""
    holding = [v for v in step.verdicts if v.holds]
    lines: list[Text] = []
    if holding:
        lines.append(
            Text("✔ ", style="green") + Text(" ".join(f"E{v.expectation.index}" for v in holding))
        )
    for v in step.verdicts:
        if v.holds is False:
            unit = units.get(v.expectation.metric or "", "")
            line = Text(f"✖ E{v.expectation.index} ", style="bold red")
            line.append(f"saw {observed_text(v.observed, unit)}", style="red")
            lines.append(line)
    missing = [v for v in step.verdicts if v.holds is None]
    if missing:
        names = " ".join(f"E{v.expectation.index}" for v in missing)
        lines.append(Text(f"– {names} no value", style="dim"))
    return Text("\n").join(lines) if lines else Text("")


def _step_name(step: StepResult) -> Text:
    if step.number == 0:
        return Text("base", style="bold")
    text = Text(safe_text(step.label or step.type or ""), style="bold")
    if step.label:
        text.append("\n" + safe_text(step.type or ""), style="dim")
    return text


def _column_label(pair: Watched, unit: str) -> Text:
    subject, name = pair
    label = Text(safe_text(SHORT.get(name, name) if subject == "system" else name))
    if subject != "system":
        label.append("\n" + safe_text(subject.split(":", 1)[-1]))
    suffix = _cell_suffix(unit, name)
    if suffix:
        label.append("\n" + suffix.strip(), style="dim")
    return label


# -- the check table ----------------------------------------------------------------------------


def header_lines(result: PlanResult) -> Text:
    """Which plan, on what base, at which point, with which profile."""
    plan = result.plan
    text = Text("plan ", style="bold")
    text.append(safe_text(plan.name), style="bold")
    text.append(safe_text(f"  ({plan.path})"), style="dim")
    base = "an empty twin" if result.base_kind == "empty" else result.base_label
    text.append("\n")
    text.append(
        safe_text(
            f"base {base} at #{result.at} ({result.base.occurred_at}), "
            f"profile {result.profile}, {_count(len(result.steps), 'step')}"
        ),
        style="dim",
    )
    return text


def check_table(result: PlanResult, units: Mapping[str, str]) -> Table:
    """One row per step (and the base): the watched metrics, findings, verdicts."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False, show_edge=False)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("step", min_width=12, max_width=24)
    for pair in result.watched:
        table.add_column(_column_label(pair, units.get(pair[1], "")), justify="right", no_wrap=True)
    table.add_column("findings (+ raised, - cleared)", min_width=20, max_width=56)
    table.add_column("expected", min_width=10, max_width=30)
    rows: list[StepResult] = [result.base, *result.steps]
    before: StepResult | None = None
    for step in rows:
        cells = [
            _metric_cell(step, before, pair, units.get(pair[1], "")) for pair in result.watched
        ]
        findings = _findings_cell(step)
        if step.number == 0:
            findings = _active_cell(step)
        table.add_row(
            str(step.number),
            _step_name(step),
            *cells,
            findings,
            _verdicts_cell(step, units),
            end_section=True,
        )
        before = step
    return table


def summary(result: PlanResult, units: Mapping[str, str]) -> Group:
    """The worst value of each expected metric, the failures, and the verdict."""
    parts: list[Any] = []
    worst = result.worst()
    if worst:
        table = Table(title="worst value of each expected metric", title_justify="left")
        for col in ("", "expectation", "worst", "at step", ""):
            table.add_column(col, justify="right" if col == "worst" else "left")
        for w in worst:
            unit = units.get(w.expectation.metric or "", "")
            step = result.steps[w.step - 1]
            where = f"{w.step} ({step.label})" if step.label else str(w.step)
            table.add_row(
                f"E{w.expectation.index}",
                Text(safe_text(expectation_text(w.expectation, units))),
                observed_text(w.observed, unit),
                Text(safe_text(where)),
                Text("✔", style="green") if w.holds else Text("✖", style="bold red"),
            )
        parts.append(table)
    failed = result.failed
    expectations = len(result.plan.expectations)
    if failed:
        broken = sorted({v.expectation.index for _s, v in failed})
        parts.append(Text("failed:", style="bold red"))
        for index in broken:
            e = next(x for x in result.plan.expectations if x.index == index)
            steps = [n for n, v in failed if v.expectation.index == index]
            unit = units.get(e.metric or "", "")
            first = result.steps[steps[0] - 1]
            seen = next(v for n, v in failed if n == steps[0] and v.expectation.index == index)
            where = f"step {first.number}" + (f" ({first.label})" if first.label else "")
            line = (
                f"  E{index} {expectation_text(e, units)}: fails at {step_ranges(steps)}; "
                f"first at {where}, "
                f"saw {observed_text(seen.observed, unit)}"
            )
            parts.append(Text(safe_text(line), style="red"))
        parts.append(
            Text(
                f"✖ PLAN FAILS: {len(broken)} of {_count(expectations, 'expectation')} "
                f"broken ({len(failed)} of {_count(result.checks, 'check')})",
                style="bold red",
            )
        )
    elif not expectations:
        parts.append(Text("✔ PLAN APPLIES: every step fits; no expectation to check"))
    else:
        parts.append(
            Text(
                f"✔ PLAN HOLDS: {_count(expectations, 'expectation')}, "
                f"{_count(result.checks, 'check')}, all hold",
                style="bold green",
            )
        )
    if result.kept is not None:
        kept = result.kept
        parts.append(
            Text(
                safe_text(
                    f"kept as branch {kept.name} (forks #{kept.fork_seq}, head #{kept.head}): "
                    f"twin diff {result.base_label} {kept.fork_seq} {kept.head} "
                    f"--branch {kept.name}"
                )
            )
        )
    return Group(*parts)


def _count(n: int, word: str) -> str:
    """``1 check``, ``2 checks``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def step_ranges(numbers: list[int]) -> str:
    """``[3, 4, 5, 9]`` → ``steps 3–5, 9``."""
    spans: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    word = "step" if len(numbers) == 1 else "steps"
    return f"{word} {', '.join(spans)}"


def print_check(console: Console, result: PlanResult, units: Mapping[str, str]) -> None:
    """The whole ``twin plan check`` table output."""
    console.print(header_lines(result))
    console.print(expectation_list(result, units))
    console.print()
    console.print(check_table(result, units))
    console.print()
    console.print(summary(result, units))


# -- compare ------------------------------------------------------------------------------------


def print_compare(
    console: Console,
    a: PlanResult,
    b: PlanResult,
    comparison: Mapping[str, Any],
    units: Mapping[str, str],
) -> None:
    """Two plans side by side: worst values, findings only one raises, broken expectations."""
    title = Text("A ", style="bold")
    title.append(safe_text(f"{a.plan.name} ({a.plan.path})"))
    title.append("\n")
    title.append("B ", style="bold")
    title.append(safe_text(f"{b.plan.name} ({b.plan.path})"))
    base = "an empty twin" if a.base_kind == "empty" else a.base_label
    title.append("\n")
    title.append(safe_text(f"base {base} at #{a.at}, profile {a.profile}"), style="dim")
    console.print(title)
    table = Table(title="worst value of each expected metric", title_justify="left")
    for col in ("metric", "A worst", "A step", "B worst", "B step"):
        table.add_column(col, justify="left" if col == "metric" else "right")
    for row in comparison["metrics"]:
        unit = units.get(row["metric"], "")
        name = row["metric"] + ("" if row["subject"] == "system" else f" @{row['subject']}")
        cells: list[Any] = [Text(safe_text(name))]
        for side in ("a", "b"):
            seen = row[side]
            if seen is None:
                cells += [Text("–", style="dim"), Text("")]
            else:
                cells += [observed_text(seen["observed"], unit), _step_ref(seen)]
        table.add_row(*cells)
    console.print(table)
    for side, other, key in (("A", "B", "only_a"), ("B", "A", "only_b")):
        found = comparison[key]
        if found:
            console.print(Text(f"findings {side} raises that {other} does not:", style="bold"))
            for item in found:
                glyph = GLYPH.get(item["severity"], "")
                console.print(Text(safe_text(f"  {glyph} {item['rule']} {item['subject']}")))
    for side, result in (("A", a), ("B", b)):
        first: dict[int, tuple[int, Any]] = {}
        for step, verdict in result.failed:  # the order of comparison["broken"]
            first.setdefault(verdict.expectation.index, (step, verdict))
        if first:
            console.print(Text(f"{side} breaks:", style="bold red"))
            for index in sorted(first):
                step, verdict = first[index]
                e = verdict.expectation
                seen = observed_text(verdict.observed, units.get(e.metric or "", ""))
                line = f"  {expectation_text(e, units)} (first at step {step}, saw {seen})"
                console.print(Text(safe_text(line), style="red"))
        else:
            console.print(
                Text(
                    f"{side} keeps all {len(result.plan.expectations)} expectations", style="green"
                )
            )


def _step_ref(seen: Mapping[str, Any]) -> Text:
    label = seen.get("label")
    return Text(safe_text(f"{seen['step']}" + (f" ({label})" if label else "")))
