"""Reading plan files: TOML to a :class:`~twin.plan.model.Plan`, every mistake located.

Errors are one :class:`~twin.errors.TwinInputError` naming the file and line
(of the key when it can be found, else of its table), the step or
expectation, the field, and what would be valid; unknown keys get a "did you
mean". Nothing here touches a journal: the steps are decoded and their fields
checked, but whether they fit the base is for :mod:`twin.plan.check` to say.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import attrs

from twin.errors import TwinInputError
from twin.event_files import Record, normalise_time, to_new_event
from twin.events import EventRegistry
from twin.input_files import read_input_text
from twin.plan.model import DEFAULT_STEP_S, LAST, Expectation, Plan, Step
from twin.rules import Severity
from twin.suggest import closest
from twin.toml_lines import TomlTable, parse_toml, scan

PLAN_KEYS: dict[str, str] = {
    "name": "what the plan does, for people",
    "description": "more words, for people",
    "base": "the journal or event file it starts from, relative to the plan (none: empty)",
    "at": 'the seq to start after, or "end" (default)',
    "profile": "a profile name or .toml file, relative to the plan (default: seed)",
    "start": "the domain time the plan starts at (default: the base's last event's)",
}
STEP_KEYS: dict[str, str] = {
    "type": "the event type (e.g. member_added; plugin types too)",
    "label": 'a name for the step, for people and for after = "label"',
    "duration": 'how long the step takes, e.g. "20m", "90s", "1h30m" (default: 1m)',
    "expect": "expectations checked after this step only",
    "actor": "who would do it",
    "reason": "why",
}
EXPECT_KEYS: dict[str, str] = {
    "metric": "a metric name (see `twin rules`)",
    "subject": 'the metric\'s subject (default "system"); for rules: only this subject',
    "below": "the value must be below this",
    "above": "the value must be above this",
    "between": "[low, high]: the value must be within",
    "band": "true: check the band's worst end, not just the value",
    "max_severity": "info, warning or error: no active finding worse than this",
    "absent": "a rule id that must not be active",
    "present": "a rule id that must be active",
    "after": 'a step number, a step\'s label, or "last" (default: every step)',
}
TABLES = ("plan", "step", "expect")
KINDS = ("metric", "max_severity", "absent", "present")

_DURATION = re.compile(
    r"^\s*(?:(?P<d>\d+(?:\.\d+)?)\s*d)?\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s)?\s*$"
)
_SUBJECT = re.compile(r"^(system|(site|group|member|link|orchestrator|vs):[^\s:]+)\Z")


def parse_duration(text: Any) -> float:
    """``"20m"`` → 1200.0 seconds (``d``, ``h``, ``m``, ``s``, combined: ``"1h30m"``).

    Raises:
        ValueError: not such a duration.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(text)
    found = _DURATION.match(text)
    if found is None or not any(found.groupdict().values()):
        raise ValueError(text)
    parts = {k: float(v) for k, v in found.groupdict().items() if v}
    seconds = (
        parts.get("d", 0.0) * 86400
        + parts.get("h", 0.0) * 3600
        + parts.get("m", 0.0) * 60
        + parts.get("s", 0.0)
    )
    if seconds <= 0:
        raise ValueError(text)
    return seconds


class _Where:
    """The lines of the plan's tables, matched to the parsed document."""

    def __init__(self, tables: list[TomlTable]) -> None:
        self.root = tables[0]
        self.plan = next((t for t in tables if t.name == "plan" and not t.array), None)
        self.steps: list[TomlTable] = []
        self.step_expects: list[list[TomlTable]] = []
        self.expects: list[TomlTable] = []
        for table in tables[1:]:
            if table.array and table.name == "step":
                self.steps.append(table)
                self.step_expects.append([])
            elif table.array and table.name == "step.expect" and self.step_expects:
                self.step_expects[-1].append(table)
            elif table.array and table.name == "expect":
                self.expects.append(table)
        self.tables = tables

    def top(self, name: str) -> int | None:
        for table in self.tables[1:]:
            if table.name == name or table.name.startswith(name + "."):
                return table.line
        return self.root.keys.get(name)


def _error(
    problem: str,
    *,
    shown: str,
    line: int | None,
    field: str | None = None,
    value: Any = None,
) -> TwinInputError:
    return TwinInputError(problem, field=field, value=value, source=shown, line=line)


def _unknown_key(key: str, known: Mapping[str, str], where: str) -> str:
    hint = closest(key, known)
    tail = f"did you mean {hint!r}?" if hint else f"valid: {', '.join(known)}"
    return f"unknown key in {where}; {tail}"


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number (got {value!r})")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"must be a finite number (got {value!r})")
    return float(value)


def _resolve(folder: Path, text: str) -> Path:
    return Path(os.path.normpath(folder / text))


def read_plan(
    path: str | Path,
    registry: EventRegistry,
    *,
    metrics: Collection[str] | None = None,
    rules: Collection[str] | None = None,
) -> Plan:
    """Read and check a plan file.

    Args:
        path: the ``.toml`` plan.
        registry: the event types known (plugins' too).
        metrics: every known metric name (unknown ones are refused), or None not to check.
        rules: every known rule/finding id (for ``absent``/``present``), or None.

    Raises:
        TwinInputError: ``file:line: where: field: problem`` for the first mistake.
    """
    path = Path(path)
    text = read_input_text(path, "plan file")  # a regular file of bounded size, UTF-8
    return parse_plan(text, path, registry, metrics=metrics, rules=rules)


def parse_plan(
    text: str,
    path: Path,
    registry: EventRegistry,
    *,
    metrics: Collection[str] | None = None,
    rules: Collection[str] | None = None,
) -> Plan:
    """Check the text of a plan file that lives (or will live) at ``path``.

    Raises:
        TwinInputError: see :func:`read_plan`.
    """
    shown = str(path)
    doc = parse_toml(text, shown)
    where = _Where(scan(text))
    for name in doc:
        if name not in TABLES:
            hint = closest(name, TABLES)
            tail = f"did you mean {hint!r}?" if hint else "valid: [plan], [[step]], [[expect]]"
            raise _error(
                f"unknown table or key at the top of a plan; {tail}",
                shown=shown,
                line=where.top(name),
                field=name,
            )
    folder = path.parent
    header = _plan_table(doc, where, shown, folder)
    steps = _steps(doc, where, shown, registry)
    expectations = _expectations(doc, where, shown, steps, metrics, rules)
    name = header["name"] or path.stem
    steps = [
        s
        if s.event.correlation_id
        else attrs.evolve(s, event=attrs.evolve(s.event, correlation_id=name))
        for s in steps
    ]
    lines: dict[str, int] = {}
    if where.plan is not None:
        lines = {"plan": where.plan.line, **where.plan.keys}
    return Plan(
        lines=lines,
        path=path,
        name=name,
        description=header["description"],
        base=header["base"],
        base_text=header["base_text"],
        at=header["at"],
        profile=header["profile"],
        start=header["start"],
        steps=tuple(steps),
        expectations=tuple(expectations),
    )


def _plan_table(doc: dict[str, Any], where: _Where, shown: str, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(
        ("name", "description", "base", "base_text", "at", "profile", "start")
    )
    raw = doc.get("plan")
    if raw is None:
        return out
    table = where.plan
    header_line = table.line if table else where.top("plan")
    if not isinstance(raw, dict):
        raise _error(
            "must be a table: write [plan] once, then its keys",
            shown=shown,
            line=header_line,
            field="plan",
        )

    def line(key: str) -> int | None:
        return table.keys.get(key, header_line) if table else header_line

    for key, value in raw.items():
        if key not in PLAN_KEYS:
            raise _error(
                _unknown_key(key, PLAN_KEYS, "[plan]"),
                shown=shown,
                line=line(key),
                field=key,
                value=value,
            )

    def text(key: str) -> str:
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            raise _error(
                f"must be a non-empty string (got {value!r})",
                shown=shown,
                line=line(key),
                field=key,
                value=value,
            )
        return value.strip()

    for key in ("name", "description"):
        if key in raw:
            out[key] = text(key)
    if "base" in raw:
        out["base_text"] = text("base")
        out["base"] = _resolve(folder, out["base_text"])
    if "profile" in raw:
        profile = text("profile")
        out["profile"] = profile if profile == "seed" else str(_resolve(folder, profile))
    if "at" in raw:
        at = raw["at"]
        if at == "end":
            out["at"] = None
        elif isinstance(at, int) and not isinstance(at, bool) and at >= 0:
            out["at"] = at
        else:
            raise _error(
                f'must be a seq number (0 or more) or "end" (got {at!r})',
                shown=shown,
                line=line("at"),
                field="at",
                value=at,
            )
    if "start" in raw:
        start = raw["start"]
        if isinstance(start, dt.datetime):
            start = start.isoformat()
        try:
            out["start"] = normalise_time(start, "start")
        except TwinInputError as exc:
            raise exc.located(shown, line("start")) from None
    return out


def _steps(doc: dict[str, Any], where: _Where, shown: str, registry: EventRegistry) -> list[Step]:
    raw = doc.get("step", [])
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        raise _error(
            "must be an array of tables: write [[step]] before each step",
            shown=shown,
            line=where.top("step"),
            field="step",
        )
    if not raw:
        raise _error(
            "the plan has no steps; add [[step]] tables (or `twin plan add`)",
            shown=shown,
            line=None,
        )
    aligned = len(where.steps) == len(raw)
    steps: list[Step] = []
    for number, item in enumerate(raw, start=1):
        table = where.steps[number - 1] if aligned else None
        header = table.line if table else where.top("step")
        keys = dict(table.keys) if table else {}
        steps.append(_step(number, item, header, keys, shown, registry))
    labels: dict[str, int] = {}
    for step in steps:
        if step.label is None:
            continue
        if step.label in labels:
            raise _error(
                f"label {step.label!r} is already step {labels[step.label]}'s; labels name one "
                "step each",
                shown=shown,
                line=step.line_of("label"),
                field=f"{step.name}: label",
                value=step.label,
            )
        labels[step.label] = step.number
    return steps


def _step(
    number: int,
    item: dict[str, Any],
    header: int | None,
    keys: dict[str, int],
    shown: str,
    registry: EventRegistry,
) -> Step:
    label = item.get("label")
    name = f"step {number}" + (f" ({label})" if isinstance(label, str) and label else "")

    def fail(problem: str, key: str | None, value: Any = None) -> TwinInputError:
        field = f"{name}: {key}" if key else name
        line = keys.get(key, header) if key else header
        return _error(problem, shown=shown, line=line, field=field, value=value)

    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise fail(f"must be a non-empty string (got {label!r})", "label", label)
    event_type = item.get("type")
    if not isinstance(event_type, str) or not event_type:
        raise fail('every step needs a type, e.g. type = "member_failed"', "type", event_type)
    if event_type not in registry:
        hint = registry.suggest(event_type)
        tail = f"; did you mean {hint!r}?" if hint else "; see docs/events.md for the catalog"
        raise fail(f"unknown event type {event_type!r}{tail}", "type", event_type)
    fields = registry.fields(event_type)
    data: dict[str, Any] = {}
    envelope: dict[str, Any] = {}
    for key, value in item.items():
        if key in ("type", "label", "duration", "expect"):
            continue
        if key in ("actor", "reason"):
            envelope[key] = value
        elif key in fields:
            data[key] = value.isoformat() if isinstance(value, dt.date) else value
        else:
            known = {**dict.fromkeys(fields, ""), **STEP_KEYS}
            hint = closest(key, known)
            tail = (
                f"did you mean {hint!r}?"
                if hint
                else f"{event_type} takes {', '.join(fields) or 'no fields'}"
            )
            raise fail(f"unknown field for {event_type}; {tail}", key, value)
    for key, value in envelope.items():
        if not isinstance(value, str) or not value.strip():
            raise fail(f"must be a non-empty string (got {value!r})", key, value)
    duration_s = DEFAULT_STEP_S
    if "duration" in item:
        try:
            duration_s = parse_duration(item["duration"])
        except ValueError:
            raise fail(
                f'give a time such as "20m", "90s" or "1h30m" (got {item["duration"]!r})',
                "duration",
                item["duration"],
            ) from None
    try:
        new = to_new_event(Record(number, {"type": event_type, **data, **envelope}), registry)
    except TwinInputError as exc:
        raise fail(exc.problem, exc.field, exc.value) from None
    return Step(
        number=number,
        event=new,
        label=label.strip() if isinstance(label, str) else None,
        duration_s=duration_s,
        line=header,
        key_lines=keys,
    )


def _expectations(
    doc: dict[str, Any],
    where: _Where,
    shown: str,
    steps: list[Step],
    metrics: Collection[str] | None,
    rules: Collection[str] | None,
) -> list[Expectation]:
    found: list[tuple[dict[str, Any], int | None, dict[str, int], Step | None]] = []
    raw_steps = doc.get("step", [])
    for step, item in zip(steps, raw_steps, strict=True):
        own = item.get("expect")
        if own is None:
            continue
        if isinstance(own, dict):
            own = [own]
        if not isinstance(own, list) or not all(isinstance(e, dict) for e in own):
            raise _error(
                'must be a table or a list of tables: expect = {metric = "…", below = 1.0}, '
                "or [[step.expect]] after the step",
                shown=shown,
                line=step.line_of("expect"),
                field=f"{step.name}: expect",
            )
        tables = (
            where.step_expects[step.number - 1] if step.number <= len(where.step_expects) else []
        )
        aligned = len(tables) == len(own) and "expect" not in step.key_lines
        for k, entry in enumerate(own):
            if aligned:
                found.append((entry, tables[k].line, dict(tables[k].keys), step))
            else:
                found.append((entry, step.line_of("expect"), {}, step))
    raw = doc.get("expect", [])
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise _error(
            "must be an array of tables: write [[expect]] before each expectation",
            shown=shown,
            line=where.top("expect"),
            field="expect",
        )
    aligned = len(where.expects) == len(raw)
    for k, entry in enumerate(raw):
        table = where.expects[k] if aligned else None
        line = table.line if table else where.top("expect")
        found.append((entry, line, dict(table.keys) if table else {}, None))
    # Plan-level expectations first (file order), then each step's own, by step.
    ordered = [f for f in found if f[3] is None] + [f for f in found if f[3] is not None]
    return [
        _expectation(index, entry, line, keys, step, steps, shown, metrics, rules)
        for index, (entry, line, keys, step) in enumerate(ordered, start=1)
    ]


def _expectation(
    index: int,
    raw: dict[str, Any],
    header: int | None,
    keys: dict[str, int],
    step: Step | None,
    steps: list[Step],
    shown: str,
    metrics: Collection[str] | None,
    rules: Collection[str] | None,
) -> Expectation:
    name = f"{step.name}: expect" if step is not None else f"expect {index}"

    def fail(problem: str, key: str | None = None, value: Any = None) -> TwinInputError:
        field = f"{name}: {key}" if key else name
        line = keys.get(key, header) if key else header
        return _error(problem, shown=shown, line=line, field=field, value=value)

    for key, value in raw.items():
        if key not in EXPECT_KEYS:
            raise fail(_unknown_key(key, EXPECT_KEYS, "an expectation"), key, value)
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        given = f" (got {', '.join(kinds)})" if kinds else ""
        raise fail(f"give exactly one of metric, max_severity, absent or present{given}")
    kind = kinds[0]
    values: dict[str, Any] = {}
    subject = raw.get("subject")
    if subject is not None:
        if not isinstance(subject, str) or not _SUBJECT.match(subject):
            raise fail(
                "must be system or kind:id, e.g. member:1_03, group:1, link:sync-1a "
                f"(got {subject!r})",
                "subject",
                subject,
            )
        values["subject"] = subject
    if kind == "metric":
        metric = raw["metric"]
        if not isinstance(metric, str) or not metric:
            raise fail(f"must be a metric name (got {metric!r})", "metric", metric)
        if metrics is not None and metric not in metrics:
            hint = closest(metric, metrics)
            tail = f"; did you mean {hint!r}?" if hint else "; see `twin rules` for every metric"
            raise fail(f"unknown metric {metric!r}{tail}", "metric", metric)
        values["metric"] = metric
        values.setdefault("subject", "system")
        _limits(raw, values, fail)
    else:
        for key in ("below", "above", "between", "band"):
            if key in raw:
                raise fail(f"{key} goes with metric, not with {kind}", key, raw[key])
        if kind == "max_severity":
            level = raw["max_severity"]
            try:
                values["max_severity"] = Severity.parse(level)
            except (ValueError, AttributeError):
                raise fail(
                    f"must be info, warning or error (got {level!r})", "max_severity", level
                ) from None
        else:
            rule_id = raw[kind]
            if not isinstance(rule_id, str) or not rule_id:
                raise fail(f"must be a rule id (got {rule_id!r})", kind, rule_id)
            if rules is not None and rule_id not in rules:
                hint = closest(rule_id, rules)
                tail = f"; did you mean {hint!r}?" if hint else "; see `twin rules` for every id"
                raise fail(f"unknown rule {rule_id!r}{tail}", kind, rule_id)
            values[kind] = rule_id
    after: int | str | None = None
    if "after" in raw:
        if step is not None:
            raise fail(
                "a step's own expectation is checked after that step; move it to [[expect]] "
                "to check it after another one",
                "after",
                raw["after"],
            )
        after = _after(raw["after"], steps, fail)
    return Expectation(
        index=index,
        line=header,
        after=after,
        step=None if step is None else step.number,
        **values,
    )


def _limits(raw: dict[str, Any], values: dict[str, Any], fail: Any) -> None:
    try:
        for key in ("below", "above"):
            if key in raw:
                values[key] = _number(raw[key])
    except ValueError as exc:
        key = "below" if "below" in raw and "below" not in values else "above"
        raise fail(str(exc), key, raw.get(key)) from None
    if "between" in raw:
        pair = raw["between"]
        if "below" in raw or "above" in raw:
            raise fail("give between, or below/above, not both", "between", pair)
        try:
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError
            low, high = _number(pair[0]), _number(pair[1])
        except ValueError:
            raise fail(
                f"must be [low, high], two numbers (got {pair!r})", "between", pair
            ) from None
        if low > high:
            raise fail(f"low is above high: write [{high:g}, {low:g}]", "between", pair)
        values["between"] = (low, high)
    if not any(k in values for k in ("below", "above", "between")):
        raise fail("a metric expectation needs below, above or between", "metric")
    if "below" in values and "above" in values and values["above"] >= values["below"]:
        raise fail(f"nothing is above {values['above']:g} and below {values['below']:g}", "below")
    if "band" in raw:
        if not isinstance(raw["band"], bool):
            raise fail(f"must be true or false (got {raw['band']!r})", "band", raw["band"])
        values["band"] = raw["band"]


def _after(value: Any, steps: list[Step], fail: Any) -> int | str:
    last = len(steps)
    if value == LAST:
        return LAST
    if isinstance(value, int) and not isinstance(value, bool):
        if 1 <= value <= last:
            return value
        raise fail(f"no step {value}: the plan has steps 1 to {last}", "after", value)
    if isinstance(value, str) and value:
        for step in steps:
            if step.label == value:
                return step.number
        labels = [s.label for s in steps if s.label]
        hint = closest(value, labels) if labels else None
        tail = (
            f"did you mean {hint!r}?"
            if hint
            else (
                f"labels: {', '.join(repr(lb) for lb in labels)}"
                if labels
                else "no step has a label"
            )
        )
        raise fail(
            f'no step is labelled {value!r}; {tail} (or a step number, or "last")', "after", value
        )
    raise fail(f'must be a step number, a step\'s label or "last" (got {value!r})', "after", value)
