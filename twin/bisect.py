"""Bisect a journal: the first event at which a condition holds.

A condition is a rule's finding being active (``--rule convergence.cpu-overload
[--subject member:1_03]``) or a metric compared with a value (``--when
'load.cpu_pct@member:1_03 > 80'``). :func:`bisect` finds the first event in a
range at which it holds, by bisection over states *seeked* from snapshots
(each probe is :meth:`twin.replay.Replay.at`), not by stepping through every
event:

1. probe the upper bound, then the lower bound;
2. while the bracket (good, bad] holds more than one event, probe its middle;
   the bracket ends as (g, g + 1]: the condition does not hold at g and holds
   at g + 1. A planted first bad event among n takes at most
   ⌈log2 n⌉ + 2 probes.
3. Bisection alone is right only when the condition, once it holds, keeps
   holding. A timeline where it holds, clears and holds again (a CPU peak
   that comes back) would make it report the *last* rise. So, unless told
   ``scan=False``, the events before the bracket are scanned once, in order,
   to check that the condition never held there. If it did, the result says
   the condition is not monotone and reports the first holding event the
   scan found, with where that earlier stretch cleared. The same scan
   answers when the condition does not hold at the upper bound at all (it
   held and cleared, or never held).

The answer is therefore never wrong: with the scan it is the first holding
event of the range; without it (``scan=False``) the result says it was not
checked (``verified`` is False).

Example::

    from twin.bisect import bisect, parse_when
    from twin.replay import Replay

    replay = Replay(journal, manager, profile)
    condition = parse_when("load.cpu_pct@member:1_03 > 80", metric_units)
    result = bisect(replay, condition, on_probe=lambda p, left: print(
        f"#{p.seq} → {'bad' if p.holds else 'good'} ({left} steps left)"))
    result.seq          # 214: the first event at which the condition holds
    result.frame        # the Frame after it (envelope, changes, raised findings)

Progress: ``on_probe(probe, steps_left)`` is called after every probe;
``on_scan(done, total)`` every few hundred events of the scan.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import attrs

from twin.errors import TwinInputError, no_event_text
from twin.frames import Frame
from twin.replay import Replay
from twin.suggest import check_known

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
WHEN = re.compile(
    r"^\s*(?P<metric>[A-Za-z0-9_.\-]+)(?:@(?P<subject>\S+?))?\s*"
    r"(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>\S+)\s*$"
)
SCAN_TICK = 256  # events between on_scan calls


@attrs.frozen
class Verdict:
    """What a condition says about the twin after one event.

    Attributes:
        holds: the condition holds.
        value: the metric's value (metric conditions) or the number of matching
            active findings (rule conditions); None when there is none.
        detail: the same for people (``CPU 84.4% on member:1_03``).
    """

    holds: bool
    value: float | None
    detail: str


class Condition(Protocol):
    """A predicate on frames. ``text`` says it for people."""

    @property
    def text(self) -> str:
        """The condition as the user would write it."""

    def check(self, frame: Frame | None) -> Verdict:
        """The verdict after ``frame`` (None: before the first event)."""


FormatValue = Callable[[str, float], str]


def _plain(_name: str, value: float) -> str:
    return f"{value:g}"


@attrs.frozen
class MetricCondition:
    """``METRIC[@SUBJECT] OP VALUE``: a metric compared with a number.

    A metric that has no value after an event (its subject does not exist yet)
    does not satisfy the condition.
    """

    metric: str
    subject: str
    op: str
    threshold: float
    fmt: FormatValue = attrs.field(default=_plain, eq=False, repr=False)

    @property
    def text(self) -> str:
        """``load.cpu_pct@member:1_03 > 80``."""
        at = "" if self.subject == "system" else f"@{self.subject}"
        return f"{self.metric}{at} {self.op} {self.threshold:g}"

    def check(self, frame: Frame | None) -> Verdict:
        """Compare the metric's value after ``frame`` with the threshold."""
        metric = None if frame is None else frame.metrics.get(self.subject, self.metric)
        if metric is None:
            return Verdict(False, None, f"no {self.metric} on {self.subject}")
        holds = OPERATORS[self.op](metric.value, self.threshold)
        return Verdict(holds, metric.value, self.fmt(self.metric, metric.value))


@attrs.frozen
class RuleCondition:
    """A finding of rule ``rule`` is active (on ``subject`` when one is given)."""

    rule: str
    subject: str | None = None

    @property
    def text(self) -> str:
        """``convergence.cpu-overload`` or ``convergence.cpu-overload on member:1_03``."""
        return self.rule if self.subject is None else f"{self.rule} on {self.subject}"

    def check(self, frame: Frame | None) -> Verdict:
        """Look for a matching active finding after ``frame``."""
        if frame is None:
            return Verdict(False, 0.0, "not active")
        found = [
            a
            for a in frame.findings
            if a.finding.rule == self.rule
            and (self.subject is None or a.finding.subject == self.subject)
        ]
        if not found:
            return Verdict(False, 0.0, "not active")
        first = found[0]
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        return Verdict(
            True,
            float(len(found)),
            f"active on {first.finding.subject}{more} (since #{first.since})",
        )


def parse_threshold(text: str, unit: str | None) -> float:
    """A threshold as typed: ``80``, ``0.8``, ``80%`` (a ratio metric's 80% is 0.8), ``6,000,000``.

    Raises:
        TwinInputError: not a number.
    """
    raw = text.replace(",", "").replace("_", "")
    percent = raw.endswith("%")
    if percent:
        raw = raw[:-1]
    try:
        value = float(raw)
    except ValueError:
        raise TwinInputError(
            "the value must be a number (e.g. 80, 0.8, 80%)", field="--when", value=text
        ) from None
    if not math.isfinite(value):
        raise TwinInputError("the value must be a finite number", field="--when", value=text)
    if percent and unit in ("ratio", "0..1"):
        value /= 100.0
    return value


def parse_when(
    text: str, units: Mapping[str, str], *, fmt: FormatValue = _plain
) -> MetricCondition:
    """Parse ``METRIC[@SUBJECT] OP VALUE`` (OP: > >= < <= == !=).

    Args:
        text: the condition as typed.
        units: every known metric name → its unit (``twin rules --json``).
        fmt: how to show a metric's value in probe details.

    Raises:
        TwinInputError: bad syntax, or an unknown metric (with the closest known name).
    """
    match = WHEN.match(text)
    if match is None:
        raise TwinInputError(
            "write METRIC[@SUBJECT] OP VALUE with OP one of > >= < <= == != "
            "(e.g. 'load.cpu_pct@member:1_03 > 80')",
            field="--when",
            value=text,
        )
    metric = match["metric"]
    check_known([metric], units, field="--when", what="metric")
    subject = match["subject"] or "system"
    threshold = parse_threshold(match["value"], units.get(metric))
    return MetricCondition(metric, subject, match["op"], threshold, fmt)


def rule_condition(rule: str, subject: str | None, known_rules: Iterable[str]) -> RuleCondition:
    """A :class:`RuleCondition`, refusing a rule id that no installed rule raises.

    Raises:
        TwinInputError: an unknown rule id (with the closest known one).
    """
    check_known([rule], known_rules, field="--rule", what="rule")
    return RuleCondition(rule, subject)


@attrs.frozen
class Probe:
    """One look at the twin during a bisection.

    Attributes:
        seq: the event after which the condition was checked.
        holds: the verdict.
        value: the metric value or the number of matching findings.
        detail: the verdict's detail for people.
    """

    seq: int
    holds: bool
    value: float | None
    detail: str

    def to_json(self) -> dict[str, Any]:
        """``{"seq", "value", "verdict", "detail"}``; verdict is ``holds`` or ``does not hold``."""
        return {
            "seq": self.seq,
            "value": self.value,
            "verdict": "holds" if self.holds else "does not hold",
            "detail": self.detail,
        }


@attrs.frozen
class BisectResult:
    """What :func:`bisect` found.

    Attributes:
        condition: the condition's text.
        start: the lower bound of the range searched.
        stop: the upper bound.
        seq: the first event of the range at which the condition holds (None: it never holds).
        frame: the frame after ``seq`` (its envelope, changes and raised findings).
        probes: every probe, in the order made.
        verified: the events before the final bracket were scanned (the answer is the
            first holding event, whatever the timeline's shape).
        monotone: False when the condition was seen to hold, clear and hold again
            (or to hold inside the range but not at its end); True when the scan
            found it holding only from ``seq`` on; None when not checked.
        earlier: ``(first, cleared)`` of an earlier holding stretch the scan found
            (``cleared`` is None if it still held where the scan stopped).
        scanned: how many events the scan evaluated.
        last_rise: the event the bisection itself ended on (None when it could not
            bisect because the condition does not hold at ``stop``).
    """

    condition: str
    start: int
    stop: int
    seq: int | None
    frame: Frame | None
    probes: tuple[Probe, ...]
    verified: bool
    monotone: bool | None
    earlier: tuple[int, int | None] | None = None
    scanned: int = 0
    last_rise: int | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"seq", "event", "probes", …}`` (``twin bisect --format json``)."""
        event: dict[str, Any] | None = None
        if self.frame is not None:
            env = self.frame.envelope
            event = {
                "seq": env.seq,
                "type": env.type,
                "occurred_at": env.occurred_at,
                "actor": env.actor,
                "reason": env.reason,
                "data": env.data,
                "changes": changed_fields(self.frame),
                "notes": list(self.frame.changes.notes),
                "raised": [a.to_json() for a in self.frame.raised],
            }
        return {
            "seq": self.seq,
            "event": event,
            "condition": self.condition,
            "from": self.start,
            "to": self.stop,
            "probes": [p.to_json() for p in self.probes],
            "verified": self.verified,
            "monotone": self.monotone,
            "earlier": None
            if self.earlier is None
            else {"first": self.earlier[0], "cleared": self.earlier[1]},
            "scanned": self.scanned,
            "last_rise": self.last_rise,
        }


def changed_fields(frame: Frame) -> list[dict[str, Any]]:
    """The state fields the frame's event changed, as ``{subject, field, before, after}``."""
    return [
        {"subject": subject, "field": field, "before": before, "after": after}
        for subject, field, before, after in frame.changes.fields
    ]


def steps_left(good: int, bad: int) -> int:
    """Probes still needed to shrink the bracket (good, bad] to one event."""
    width = bad - good
    return 0 if width <= 1 else math.ceil(math.log2(width))


class _Prober:
    def __init__(
        self,
        replay: Replay,
        condition: Condition,
        on_probe: Callable[[Probe, int], Any] | None,
    ) -> None:
        self.replay = replay
        self.condition = condition
        self.on_probe = on_probe
        self.probes: list[Probe] = []
        self.frames: dict[int, Frame | None] = {}

    def __call__(self, seq: int, left_if_holds: int, left_if_not: int) -> bool:
        """Probe ``seq``; report the steps left, which depend on the verdict."""
        frame = self.replay.at(seq)
        verdict = self.condition.check(frame)
        probe = Probe(seq, verdict.holds, verdict.value, verdict.detail)
        self.probes.append(probe)
        self.frames[seq] = frame
        if self.on_probe is not None:
            self.on_probe(probe, left_if_holds if verdict.holds else left_if_not)
        return verdict.holds


def bisect(
    replay: Replay,
    condition: Condition,
    start: int = 1,
    stop: int | None = None,
    *,
    scan: bool = True,
    on_probe: Callable[[Probe, int], Any] | None = None,
    on_scan: Callable[[int, int], Any] | None = None,
) -> BisectResult:
    """The first event in ``start..stop`` at which ``condition`` holds (see the module doc).

    Args:
        replay: the journal (or branch) to search, with the profile and rules in use.
        condition: what to look for (:class:`MetricCondition`, :class:`RuleCondition`,
            or any object with ``text`` and ``check(frame)``).
        start: the lower bound (0: before the first event, where nothing holds).
        stop: the upper bound (None: the last event).
        scan: check the events before the final bracket so that a non-monotone
            timeline still gets the first holding event (see the module doc).
        on_probe: called as ``on_probe(probe, steps_left)`` after each probe.
        on_scan: called as ``on_scan(done, total)`` while scanning.

    Raises:
        TwinInputError: a bound outside the journal, or ``start`` after ``stop``.
    """
    head = replay.head()
    stop = head if stop is None else stop
    if not 0 <= stop <= head:
        raise TwinInputError(no_event_text(stop, head), field="--to", value=stop)
    if not 0 <= start <= head:
        raise TwinInputError(no_event_text(start, head), field="--from", value=start)
    if start > stop:
        raise TwinInputError(
            f"--from {start} is after --to {stop}: give the earlier event first", field="--from"
        )
    probe = _Prober(replay, condition, on_probe)
    # The upper bound first: on a journal without snapshots this replays up to it once and
    # leaves snapshots behind, so every later probe is a short seek.
    holds_at_stop = probe(stop, steps_left(start, stop), 0)
    holds_at_start = (
        holds_at_stop
        if start == stop
        else probe(start, 0, steps_left(start, stop) if holds_at_stop else 0)
    )
    if holds_at_start:
        return _result(condition, start, stop, start, probe, verified=True, monotone=None)
    good = start
    last_rise: int | None = None
    if holds_at_stop:
        bad = stop
        while bad - good > 1:
            mid = (good + bad) // 2
            if probe(mid, steps_left(good, mid), steps_left(mid, bad)):
                bad = mid
            else:
                good = mid
        last_rise = bad
    if not scan:
        return _result(
            condition,
            start,
            stop,
            last_rise,
            probe,
            verified=False,
            monotone=None,
            last_rise=last_rise,
        )
    # Scan (start, good): both ends are known not to hold; anything holding between them is
    # an earlier stretch the bisection could not see.
    found, cleared, scanned = _scan(
        replay, condition, start + 1, good - 1 if holds_at_stop else stop, on_scan
    )
    if found is None:
        return _result(
            condition,
            start,
            stop,
            last_rise,
            probe,
            verified=True,
            monotone=True if last_rise is not None else None,
            scanned=scanned,
            last_rise=last_rise,
        )
    seq, frame = found
    return BisectResult(
        condition.text,
        start,
        stop,
        seq,
        frame,
        tuple(probe.probes),
        verified=True,
        monotone=False,
        earlier=(seq, cleared),
        scanned=scanned,
        last_rise=last_rise,
    )


def _scan(
    replay: Replay,
    condition: Condition,
    first: int,
    last: int,
    on_scan: Callable[[int, int], Any] | None,
) -> tuple[tuple[int, Frame] | None, int | None, int]:
    """Evaluate ``first..last`` in order.

    Returns:
        The first holding seq with its frame (or None), the seq where that stretch
        cleared (None if it held to ``last``), and how many events were evaluated.

    The holding frame's metrics are live (the replay moves on), so only its
    envelope, changes and findings should be read afterwards.
    """
    total = max(0, last - first + 1)
    found: tuple[int, Frame] | None = None
    done = 0
    if total == 0:
        return None, None, 0
    for frame in replay.frames(first, last):
        done += 1
        if on_scan is not None and done % SCAN_TICK == 0:
            on_scan(done, total)
        holds = condition.check(frame).holds
        if found is None:
            if holds:
                found = (frame.seq, frame)
        elif not holds:
            return found, frame.seq, done
    if on_scan is not None:
        on_scan(done, total)
    return found, None, done


def _result(
    condition: Condition,
    start: int,
    stop: int,
    seq: int | None,
    probe: _Prober,
    *,
    verified: bool,
    monotone: bool | None,
    scanned: int = 0,
    last_rise: int | None = None,
) -> BisectResult:
    return BisectResult(
        condition.text,
        start,
        stop,
        seq,
        None if seq is None else probe.frames.get(seq),
        tuple(probe.probes),
        verified=verified,
        monotone=monotone,
        scanned=scanned,
        last_rise=last_rise,
    )
