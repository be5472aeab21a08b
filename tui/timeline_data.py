"""View data for the TUI: compact per-event rows and the full detail at one event.

No Textual here. The flow is one way: journal → replay → frames → the rows
and details in this module → widgets. :class:`TimelineData` replays the whole
journal once (the caller runs :meth:`TimelineData.load` in a worker thread)
and keeps one small :class:`Row` per event. The full picture at the cursor
(topology, every metric, the reducer's changes, the raw envelope) comes from
a second :class:`~twin.replay.Replay` that seeks with the engine's snapshots.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import orjson

from tui.topology_view import Node, topology_nodes
from twin.frames import Frame
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.replay import Replay
from twin.rules import ActiveFinding
from twin.sources import Source, open_source

#: System metrics shown as tiles: (metric, label, format).
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("members.active", "members", "{:.0f}"),
    ("capacity.utilization", "capacity", "{:.0%}"),
    ("sync.traffic_gbps", "sync Gbps", "{:.2f}"),
    ("sync.utilization", "sync util", "{:.0%}"),
    ("convergence.failover_s", "failover s", "{:.2f}"),
    ("memory.fragmentation", "mem frag", "{:.2f}"),
    ("latency.setup_us", "setup µs", "{:.0f}"),
    ("throughput.gbps", "thru Gbps", "{:.1f}"),
)
SEVERITY_GLYPH = {"error": "✖", "warning": "⚠", "info": "ℹ"}
TOPOLOGY_FIELDS = frozenset({"state", "up", "active", "members"})

CancelCheck = Callable[[], bool]


@attrs.frozen(slots=True)
class Row:
    """One event, compactly: what the Events table, status line and tiles need.

    Attributes:
        seq: the event's position.
        occurred_at: its domain time (ISO 8601).
        dt: seconds since the previous event (None for the first or unparsable times).
        type: the event type.
        subject: the event's subject (``member:1_01``).
        summary: one short line for people.
        counts: active findings by severity (error, warning, info).
        raised: rule ids of the findings raised here.
        cleared: rule ids of the findings cleared here.
        topology: True if the event changed the topology (added, removed, state).
        metrics: the headline system metrics after the event (None: not computed).
        findings: the findings active after the event (shared tuples, cheap).
    """

    seq: int
    occurred_at: str
    dt: float | None
    type: str
    subject: str
    summary: str
    counts: tuple[int, int, int]
    raised: tuple[str, ...]
    cleared: tuple[str, ...]
    topology: bool
    metrics: tuple[float | None, ...]
    findings: tuple[ActiveFinding, ...]

    @property
    def is_change(self) -> bool:
        """True for an event that raised or cleared a finding or changed the topology."""
        return bool(self.raised or self.cleared or self.topology)

    @property
    def flag(self) -> str:
        """The ⚑ column: ``+`` raised, ``-`` cleared, ``±`` both, ``·`` topology only."""
        if self.raised and self.cleared:
            return "±"
        if self.raised:
            return "+" + _worst(self)
        if self.cleared:
            return "-"
        return "·" if self.topology else ""


def _worst(row: Row) -> str:
    return "✖" if row.counts[0] else "⚠" if row.counts[1] else "ℹ"


@attrs.frozen(slots=True)
class Detail:
    """Everything at one event that the compact rows do not keep.

    Attributes:
        seq: the event's position.
        topology: the deployment as a tree of labelled nodes.
        metrics: every system metric name → (value, low, high).
        changes: ``subject field old → new`` lines from the reducer.
        notes: the reducer's notes.
        raw: the envelope as pretty JSON.
        summary: a few lines about the event for people.
    """

    seq: int
    topology: tuple[Node, ...]
    metrics: dict[str, tuple[float, float, float]]
    changes: tuple[str, ...]
    notes: tuple[str, ...]
    raw: str
    summary: tuple[str, ...]


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _summary(frame: Frame) -> str:
    data = frame.envelope.data
    parts = [f"{k}={v}" for k, v in data.items() if not isinstance(v, dict | list)]
    return " ".join(parts)[:80]


def _is_topology(frame: Frame) -> bool:
    ch = frame.changes
    return bool(ch.added or ch.removed or any(f[1] in TOPOLOGY_FIELDS for f in ch.fields))


def make_row(frame: Frame, previous: datetime | None) -> tuple[Row, datetime | None]:
    """The compact row of one frame (and its parsed time, for the next Δt)."""
    env = frame.envelope
    when = _parse_time(env.occurred_at)
    dt = (when - previous).total_seconds() if when and previous else None
    counts = [0, 0, 0]
    for active in frame.findings:
        counts[2 - active.finding.severity.rank] += 1
    values = tuple(
        (m.value if (m := frame.metrics.get("system", name)) is not None else None)
        for name, _label, _fmt in HEADLINE
    )
    row = Row(
        seq=env.seq,
        occurred_at=env.occurred_at,
        dt=dt,
        type=env.type,
        subject=env.event.subject,
        summary=_summary(frame),
        counts=(counts[0], counts[1], counts[2]),
        raised=tuple(a.finding.rule for a in frame.raised),
        cleared=tuple(a.finding.rule for a in frame.cleared),
        topology=_is_topology(frame),
        metrics=values,
        findings=frame.findings,
    )
    return row, when or previous


class TimelineData:
    """A source, its rows and a seeking replay for the detail at the cursor.

    Args:
        source: the opened journal or event file (closed by :meth:`close`).
        manager: the loaded plugin manager.
        profile: the parameter profile.
    """

    def __init__(self, source: Source, manager: TwinPluginManager, profile: Profile) -> None:
        self.source = source
        self.label = Path(source.label).name
        self.manager = manager
        self.profile = profile
        self.rows: list[Row] = []
        self.total = source.head()
        self._lock = threading.Lock()
        self._seeker = Replay(source.journal, manager, profile, branch=source.branch)

    @classmethod
    def open(
        cls, path: str | Path, *, profile: str | None = None, branch: str | None = None
    ) -> TimelineData:
        """Open ``path`` with a freshly loaded plugin manager."""
        manager = TwinPluginManager().load()
        chosen = manager.profile(profile)
        return cls(open_source(path, manager, branch=branch), manager, chosen)

    def load(self, cancelled: CancelCheck = lambda: False) -> list[Row]:
        """Replay every event once and build the rows (run it in a worker thread)."""
        rows: list[Row] = []
        previous: datetime | None = None
        with self._lock:
            replay = Replay(
                self.source.journal, self.manager, self.profile, branch=self.source.branch
            )
            for frame in replay.frames():
                row, previous = make_row(frame, previous)
                rows.append(row)
                if frame.seq % 512 == 0 and cancelled():
                    break
        self.rows = rows
        self.total = len(rows)
        return rows

    def row(self, seq: int) -> Row | None:
        """The row of event ``seq`` (None outside 1..total or before loading)."""
        return self.rows[seq - 1] if 1 <= seq <= len(self.rows) else None

    def detail(self, seq: int) -> Detail | None:
        """Seek to ``seq`` and collect the full detail (blocking; thread-safe)."""
        with self._lock:
            frame = self._seeker.at(seq)
            if frame is None:
                return None
            return build_detail(frame, self._seeker.engine.state)

    def next_change(self, seq: int, step: int) -> int | None:
        """The next (``step`` = 1) or previous (-1) change event from ``seq``, or None."""
        i = seq + step
        while 1 <= i <= len(self.rows):
            if self.rows[i - 1].is_change:
                return i
            i += step
        return None

    def close(self) -> None:
        """Close the source's journal."""
        with self._lock:
            self.source.close()


def build_detail(frame: Frame, state: Any) -> Detail:
    """The detail of ``frame``, with ``state`` the twin right after it."""
    touched = frame.changes.subjects
    env = frame.envelope
    changes = tuple(
        f"{subject} {name} {_short(old)} → {_short(new)}"
        for subject, name, old, new in frame.changes.fields
    )
    system = frame.metrics.by_subject.get("system", {})
    metrics = {n: (m.value, m.low, m.high) for n, m in sorted(system.items())}
    raw = orjson.dumps(env.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    summary = [
        f"#{env.seq}  {env.occurred_at}  {env.type}  {env.event.subject}",
        f"actor: {env.actor or '—'}   reason: {env.reason or '—'}",
        f"data: {_summary(frame) or '—'}",
        f"changed {len(changes)} fields on {len(touched)} subjects",
    ]
    summary += [
        f"+ {SEVERITY_GLYPH[a.finding.severity.value]} {a.finding.rule} {a.finding.subject}"
        for a in frame.raised
    ]
    summary += [f"- ✓ {a.finding.rule} {a.finding.subject}" for a in frame.cleared]
    return Detail(
        seq=env.seq,
        topology=topology_nodes(state, touched),
        metrics=metrics,
        changes=changes,
        notes=tuple(frame.changes.notes),
        raw=raw.decode(),
        summary=tuple(summary),
    )


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"
