"""A replayed window as plain data: metric series, finding spans and key moments.

:func:`collect` walks the frames of a range once and keeps what a postmortem
needs from them: a few key metrics over time (with their bands), every finding
as a span (raised at, cleared at), the key moments (faults, failovers, links,
notes, and findings raised or cleared), and the worst moment. ``twin report``
draws and tabulates it; ``twin whatif`` compares two of them.

Frames are live (their metric store moves on), so nothing here keeps a frame:
values are copied out as they pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs

from twin.envelope import Envelope
from twin.frames import Frame
from twin.rules import ActiveFinding
from twin.textsafe import safe_text
from twin.units import format_value

KEY_METRICS: tuple[tuple[str, str], ...] = (
    ("members.active", "system"),
    ("capacity.utilization", "system"),
    ("sync.traffic_gbps", "system"),
    ("sync.capacity_gbps", "system"),
    ("sync.utilization", "system"),
    ("convergence.failover_s", "system"),
    ("throughput.gbps", "system"),
)
"""System metrics every timeline keeps, as ``(metric, subject)``."""

HOTTEST_CPU = "load.cpu_pct@hottest"
"""A derived series: the highest member CPU after each event (which member in ``who``)."""

MOMENT_TYPES = frozenset(
    {
        "member_failed",
        "member_recovered",
        "member_admin_changed",
        "member_added",
        "member_removed",
        "orchestrator_failed",
        "orchestrator_recovered",
        "link_failed",
        "link_restored",
        "site_failover",
        "note",
    }
)
"""Event types that are key moments by themselves (faults, failovers, links, notes)."""

GENESIS_TYPES = frozenset(
    {
        "site_added",
        "orchestrator_added",
        "group_created",
        "member_added",
        "link_added",
        "note",
        "checkpoint_interval_changed",
        "hypersync_changed",
    }
)
"""Event types a deployment's first events (its topology) are made of: while only these have
been seen, a member added is set-up, not a key moment."""


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset) as a datetime; None if it does not parse."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None


def seconds_between(first: str, last: str) -> float | None:
    """Seconds from ``first`` to ``last`` (ISO times); None if either does not parse."""
    a, b = parse_time(first), parse_time(last)
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


def format_duration(seconds: float | None) -> str:
    """``2 h 55 min``, ``13 min 20 s``, ``45 s``; ``–`` when unknown."""
    if seconds is None:
        return "–"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


@attrs.define
class Series:
    """One metric over time: a point after every event of the window.

    Attributes:
        name: the metric name (or :data:`HOTTEST_CPU`).
        subject: whose (``system``, ``group:1``; ``member:*`` for the hottest member).
        seqs: the event after which each point holds.
        times: each event's ``occurred_at``.
        values: the value (None where the metric did not exist yet).
        lows: the band's low end.
        highs: the band's high end.
        who: for :data:`HOTTEST_CPU`, the member it was.
    """

    name: str
    subject: str
    seqs: list[int] = attrs.field(factory=list)
    times: list[str] = attrs.field(factory=list)
    values: list[float | None] = attrs.field(factory=list)
    lows: list[float | None] = attrs.field(factory=list)
    highs: list[float | None] = attrs.field(factory=list)
    who: list[str] = attrs.field(factory=list)

    def has_band(self) -> bool:
        """True when some point has a band wider than its value."""
        return any(
            lo is not None and hi is not None and (lo < v or hi > v)
            for v, lo, hi in zip(self.values, self.lows, self.highs, strict=True)
            if v is not None
        )

    def peak(self) -> tuple[int, float] | None:
        """``(seq, value)`` of the highest value (the first of equals); None when empty."""
        best: tuple[int, float] | None = None
        for seq, value in zip(self.seqs, self.values, strict=True):
            if value is not None and (best is None or value > best[1]):
                best = (seq, value)
        return best

    def at(self, seq: int) -> float | None:
        """The value after event ``seq`` (the last point at or before it)."""
        found: float | None = None
        for s, value in zip(self.seqs, self.values, strict=True):
            if s > seq:
                break
            found = value
        return found


@attrs.define
class FindingSpan:
    """One finding from the event that raised it to the one that cleared it.

    Attributes:
        rule: the finding id.
        severity: ``info``, ``warning`` or ``error``.
        subject: what it is about.
        message: its message when raised (``last_message``: when it cleared or the window ended).
        plugin: the plugin that raised it.
        raised_seq: the event that raised it.
        raised_at: that event's time.
        cleared_seq: the event that cleared it (None: still active at the end of the window).
        cleared_at: that event's time.
        evidence: the values behind it when raised.
    """

    rule: str
    severity: str
    subject: str
    message: str
    plugin: str
    raised_seq: int
    raised_at: str
    cleared_seq: int | None = None
    cleared_at: str | None = None
    last_message: str = ""
    evidence: dict[str, Any] = attrs.field(factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """``(rule, subject)``: what identifies a finding across timelines."""
        return (self.rule, self.subject)

    def duration_s(self, end_at: str) -> float | None:
        """Seconds it was active (to ``end_at`` when it never cleared)."""
        return seconds_between(self.raised_at, self.cleared_at or end_at)

    def to_json(self) -> dict[str, Any]:
        """Plain data (raw values) for JSON output."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "subject": self.subject,
            "message": self.message,
            "plugin": self.plugin,
            "raised_seq": self.raised_seq,
            "raised_at": self.raised_at,
            "cleared_seq": self.cleared_seq,
            "cleared_at": self.cleared_at,
        }


@attrs.frozen
class Moment:
    """An event worth a line in a postmortem.

    Attributes:
        seq: the event.
        occurred_at: when.
        type: its type.
        text: what happened, for people (terminal- and HTML-agnostic plain text).
        actor: who recorded it.
        raised: ``(severity, rule, subject)`` of the findings it raised.
        cleared: the same for the findings it cleared.
    """

    seq: int
    occurred_at: str
    type: str
    text: str
    actor: str | None
    raised: tuple[tuple[str, str, str], ...] = ()
    cleared: tuple[tuple[str, str, str], ...] = ()


@attrs.define
class Timeline:
    """What :func:`collect` keeps of one replayed window.

    Attributes:
        label: the source, as shown to people.
        branch: the branch replayed (None: main).
        start: the first event of the window.
        stop: the last event of the window.
        first_at: the first event's time.
        last_at: the last event's time.
        series: ``"metric@subject"`` → :class:`Series`.
        spans: every finding span, in the order raised.
        moments: the key moments, in order.
        final: the findings active after the last event.
        worst: ``(seq, occurred_at, errors)``: the first event after which the most error
            findings were active at once.
        members: members at the end; ``groups``/``sites`` likewise.
        notes: every note event's ``(seq, occurred_at, text)``.
    """

    label: str
    branch: str | None
    start: int
    stop: int
    first_at: str = ""
    last_at: str = ""
    series: dict[str, Series] = attrs.field(factory=dict)
    spans: list[FindingSpan] = attrs.field(factory=list)
    moments: list[Moment] = attrs.field(factory=list)
    final: list[dict[str, Any]] = attrs.field(factory=list)
    worst: tuple[int, str, int] | None = None
    members: int = 0
    groups: int = 0
    sites: int = 0

    def active_after(self, after: int) -> dict[tuple[str, str], FindingSpan]:
        """Every finding active after at least one event of ``after + 1 .. stop``.

        Keyed by ``(rule, subject)``; the value is its first span in that stretch.
        A span raised at r and cleared at c is active after the events r .. c − 1.
        """
        found: dict[tuple[str, str], FindingSpan] = {}
        for span in self.spans:
            first = max(span.raised_seq, after + 1)
            end = self.stop + 1 if span.cleared_seq is None else span.cleared_seq
            if first < end and first <= self.stop:
                found.setdefault(span.key, span)
        return found

    def first_error(self) -> FindingSpan | None:
        """The first error finding raised in the window (the earliest span)."""
        return next((s for s in self.spans if s.severity == "error"), None)


def _glyph_key(active: ActiveFinding) -> tuple[str, str, str]:
    f = active.finding
    return (f.severity.value, f.rule, f.subject)


def _load(d: dict[str, Any]) -> str:
    parts = []
    if "connections" in d:
        parts.append(f"{format_value(float(d['connections']), 'connections')}")
    if "cps" in d:
        parts.append(f"{format_value(float(d['cps']), 'connections/s', compact=True)}")
    if "cpu_pct" in d:
        on = f" on {d['serving']} members" if d.get("serving") else ""
        parts.append(f"CPU {format_value(float(d['cpu_pct']), '%')}{on}")
    if "throughput_gbps" in d:
        parts.append(format_value(float(d["throughput_gbps"]), "Gbps"))
    whose = f"group {d['group']}" if d.get("group") is not None else f"member {d.get('member')}"
    return f"{whose} load: {', '.join(parts)}"


def _event_text(kind: str, d: dict[str, Any]) -> str:
    member = d.get("member")
    simple = {
        "member_recovered": f"member {member} recovered",
        "member_removed": f"member {member} removed",
        "site_failover": f"failover to site {d.get('site')}",
        "link_failed": f"link {d.get('link')} down",
        "link_restored": f"link {d.get('link')} restored",
        "orchestrator_failed": f"orchestrator {d.get('orchestrator')} failed",
        "orchestrator_recovered": f"orchestrator {d.get('orchestrator')} recovered",
        "upgrade_started": f"upgrade of {member} to {d.get('to_version')} started",
        "upgrade_finished": f"{member} upgraded to {d.get('version')}",
        "upgrade_rolled_back": f"upgrade of {member} rolled back",
        "vs_removed": f"Virtual System {d.get('vs')} removed",
        "weight_changed": f"weight of {member} set to {d.get('weight')}",
        "hypersync_changed": f"HyperSync {'on' if d.get('enabled') else 'off'} "
        f"for group {d.get('group')}",
        "note": str(d.get("text", "")),
    }
    if kind in simple:
        return simple[kind]
    if kind == "member_failed":
        cause = d.get("cause")
        return f"member {member} failed" + (f": {cause}" if cause else "")
    if kind == "member_admin_changed":
        return f"member {member} admin {'UP' if d.get('up') else 'DOWN'}"
    if kind == "member_added":
        return f"member {member} added to group {d.get('group')} (site {d.get('site')})"
    if kind == "link_added":
        return f"{d.get('kind', '')} link {d.get('link')} added ({d.get('a')} ↔ {d.get('b')})"
    if kind == "load_changed":
        return _load(d)
    if kind == "vs_created":
        return (
            f"Virtual System {d.get('vs')} created on {member} "
            f"({format_value(float(d.get('memory_gb', 0)), 'GB')})"
        )
    if kind == "checkpoint_interval_changed":
        return f"checkpoint interval set to {d.get('seconds')} s"
    details = " ".join(f"{k}={v}" for k, v in d.items())
    return f"{kind} {details}".strip()


def describe(env: Envelope) -> str:
    """One line for people: what an event did, and why (plain text, made terminal-safe)."""
    try:
        text = _event_text(env.type, env.data)
    except (TypeError, ValueError):  # a payload this code does not expect: show it as it is
        text = f"{env.type} " + " ".join(f"{k}={v}" for k, v in env.data.items())
    if env.reason and env.type != "note":
        text += f" — {env.reason}"
    return safe_text(text)


class TimelineBuilder:
    """Build a :class:`Timeline` one frame at a time (when frames come from two places in
    lockstep, as in a what-if); :func:`collect` wraps it for a plain iterable.

    Args:
        timeline: the (empty) timeline to fill.
        metrics: the ``(metric, subject)`` series to keep.
        time_of: ``seq`` → occurred_at, for findings already active at the first frame.
    """

    def __init__(
        self,
        timeline: Timeline,
        metrics: Sequence[tuple[str, str]] = KEY_METRICS,
        time_of: Callable[[int], str] = lambda _seq: "",
    ) -> None:
        self.t = timeline
        self.metrics = metrics
        self.time_of = time_of
        self.open: dict[tuple[str, str], FindingSpan] = {}
        self.hottest = Series(HOTTEST_CPU, "member:*")
        self.group_cpu: dict[str, Series] = {}
        for name, subject in metrics:
            timeline.series[f"{name}@{subject}"] = Series(name, subject)
        timeline.series[HOTTEST_CPU] = self.hottest
        self.genesis = True
        self.most_errors = -1
        self.frames = 0
        self.last: Frame | None = None

    def first(self, frame: Frame, time_of: Callable[[int], str]) -> None:
        """Open spans for findings already active when the window starts."""
        for active in frame.findings:
            if active.since < frame.seq and _key(active) not in self.open:
                self._open(active, active.since, time_of(active.since))

    def finish(self, state: Any = None) -> Timeline:
        """The timeline so far (with the topology counts of ``state`` when given)."""
        t = self.t
        # The order raised, then by finding and subject (frames list several raised by one
        # event in the engine's order, which is not one people can predict).
        t.spans.sort(key=lambda span: (span.raised_seq, span.rule, span.subject))
        if self.last is not None:
            t.final = [a.to_json() for a in self.last.findings]
            t.stop = self.last.seq
        if state is not None:
            count_topology(t, state)
        return t

    def _open(self, active: ActiveFinding, seq: int, at: str) -> None:
        f = active.finding
        span = FindingSpan(
            f.rule,
            f.severity.value,
            f.subject,
            f.message,
            active.plugin,
            seq,
            at,
            last_message=f.message,
            evidence=dict(f.evidence),
        )
        self.open[_key(active)] = span
        self.t.spans.append(span)

    def add(self, frame: Frame) -> None:
        """Keep what a postmortem needs of ``frame`` (read it before the next step)."""
        if self.frames == 0:
            self.first(frame, self.time_of)
        self.frames += 1
        self.last = frame
        env = frame.envelope
        seq, at = frame.seq, env.occurred_at
        t = self.t
        if not t.first_at:
            t.first_at = at
        t.last_at = at
        for active in frame.raised:
            self._open(active, seq, at)
        for active in frame.cleared:
            span = self.open.pop(_key(active), None)
            if span is not None:
                span.cleared_seq, span.cleared_at = seq, at
                span.last_message = active.finding.message
        store = frame.metrics
        for name, subject in self.metrics:
            metric = store.get(subject, name)
            series = t.series[f"{name}@{subject}"]
            series.seqs.append(seq)
            series.times.append(at)
            if metric is None:
                series.values.append(None)
                series.lows.append(None)
                series.highs.append(None)
            else:
                series.values.append(metric.value)
                series.lows.append(metric.low)
                series.highs.append(metric.high)
        self._cpu(frame, seq, at)
        self._moment(frame, env)
        errors = sum(1 for a in frame.findings if a.finding.severity.value == "error")
        if errors > self.most_errors:
            self.most_errors = errors
            t.worst = (seq, at, errors)

    def _cpu(self, frame: Frame, seq: int, at: str) -> None:
        best: float | None = None
        who = ""
        store = frame.metrics
        for subject in store.subjects():
            if subject[:7] != "member:" and subject[:6] != "group:":
                continue
            metric = store.get(subject, "load.cpu_pct")
            if metric is None:
                continue
            if subject.startswith("member:"):
                if best is None or metric.value > best:
                    best, who = metric.value, subject
            elif subject.startswith("group:"):
                series = self.group_cpu.get(subject)
                if series is None:
                    series = self.group_cpu[subject] = Series("load.cpu_pct", subject)
                    self.t.series[f"load.cpu_pct@{subject}"] = series
                series.seqs.append(seq)
                series.times.append(at)
                series.values.append(metric.value)
                series.lows.append(metric.low)
                series.highs.append(metric.high)
        self.hottest.seqs.append(seq)
        self.hottest.times.append(at)
        self.hottest.values.append(best)
        self.hottest.lows.append(best)
        self.hottest.highs.append(best)
        self.hottest.who.append(who)

    def _moment(self, frame: Frame, env: Envelope) -> None:
        if env.type not in GENESIS_TYPES:
            self.genesis = False
        raised = tuple(_glyph_key(a) for a in frame.raised if _notable(a))
        cleared = tuple(_glyph_key(a) for a in frame.cleared if _notable(a))
        is_moment = env.type in MOMENT_TYPES and not (
            self.genesis and env.type in ("member_added", "link_added")
        )
        if is_moment or raised or cleared:
            self.t.moments.append(
                Moment(
                    frame.seq,
                    env.occurred_at,
                    env.type,
                    describe(env),
                    safe_text(env.actor) if env.actor else None,
                    raised,
                    cleared,
                )
            )


def _key(active: ActiveFinding) -> tuple[str, str]:
    return (active.finding.rule, active.finding.subject)


def _notable(active: ActiveFinding) -> bool:
    """Findings that make a key moment: warnings, errors, and members taken out of service."""
    f = active.finding
    return f.severity.value != "info" or f.rule.startswith("members.")


def collect(
    frames: Iterable[Frame],
    *,
    label: str,
    start: int,
    stop: int,
    branch: str | None = None,
    time_of: Callable[[int], str] = lambda _seq: "",
    metrics: Sequence[tuple[str, str]] = KEY_METRICS,
    tick: Callable[[int], Any] | None = None,
) -> Timeline:
    """Walk ``frames`` (one window, in order) and keep a :class:`Timeline`.

    Args:
        frames: the frames of ``start..stop``, e.g. ``Replay.frames(start, stop)``.
        label: the source's name for people.
        start: the window's first event.
        stop: its last event.
        branch: the branch replayed, if any.
        time_of: ``seq`` → occurred_at, for findings already active at ``start``
            (raised before the window).
        metrics: the ``(metric, subject)`` series to keep.
        tick: called with each frame's seq (progress).
    """
    builder = TimelineBuilder(Timeline(label, branch, start, stop), metrics, time_of)
    for frame in frames:
        builder.add(frame)
        if tick is not None:
            tick(frame.seq)
    return builder.finish()


def count_topology(timeline: Timeline, state: Any) -> None:
    """Fill the members/groups/sites counts from the state at the end of the window."""
    timeline.members = len(state.members)
    timeline.groups = len(state.groups)
    timeline.sites = len(state.sites)


PEAKS: tuple[tuple[str, str, str, str], ...] = (
    ("hottest member CPU, peak", HOTTEST_CPU, "%", "max"),
    ("failover time, worst", "convergence.failover_s@system", "s", "max"),
    ("capacity used, peak", "capacity.utilization@system", "ratio", "max"),
    ("members UP, fewest", "members.active@system", "count", "min"),
    ("sync traffic, peak", "sync.traffic_gbps@system", "Gbps", "max"),
)


def _extreme(t: Timeline, key: str, after: int, unit: str, pick: str) -> str:
    series = t.series.get(key)
    if series is None:
        return "–"
    values = [
        v for s, v in zip(series.seqs, series.values, strict=True) if s > after and v is not None
    ]
    if not values:
        return "–"
    return format_value(max(values) if pick == "max" else min(values), unit)


def peak_rows(original: Timeline, other: Timeline, after: int) -> list[tuple[str, str, str]]:
    """``(measure, original, other)`` for people: peaks after event ``after`` on each timeline,
    and how many error findings each raised after it."""
    rows = [
        (label, _extreme(original, key, after, unit, pick), _extreme(other, key, after, unit, pick))
        for label, key, unit, pick in PEAKS
    ]
    errors = [
        sum(1 for s in t.spans if s.severity == "error" and s.raised_seq > after)
        for t in (original, other)
    ]
    rows.append(("error findings raised", str(errors[0]), str(errors[1])))
    return rows
