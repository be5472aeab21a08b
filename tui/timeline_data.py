"""What the TUI shows, built on demand (no Textual here).

The flow is one way: journal → replay → frames → the index, rows and details
of this module → widgets.

- :class:`~tui.timeline_index.TimelineIndex`: a few columns per event, filled
  in the background (see :mod:`tui.background`).
- :meth:`TimelineData.rows`: the events on screen, read from the journal a
  block at a time and kept in a small cache.
- :class:`Detail`: everything at the cursor (topology, every metric, the
  findings, what the reducer changed, the raw envelope), from a seeking
  :class:`~twin.replay.Replay` in the seeker thread.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import orjson

from tui.formatting import printable
from tui.journal_access import JournalPool
from tui.timeline_index import TimelineIndex, parse_time
from tui.topology_view import Node, topology_nodes
from twin.envelope import Envelope
from twin.frames import Frame
from twin.observed import observation_rows, observed_subject
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.rules import ActiveFinding
from twin.sources import Source, open_source
from twin.units import format_field

#: System metrics kept per event and shown as tiles: (metric, label).
HEADLINE: tuple[tuple[str, str], ...] = (
    ("members.active", "members"),
    ("capacity.utilization", "capacity"),
    ("sync.traffic_gbps", "sync"),
    ("sync.utilization", "sync util"),
    ("convergence.failover_s", "failover"),
    ("memory.fragmentation", "mem frag"),
    ("latency.setup_us", "setup"),
    ("throughput.gbps", "throughput"),
)
SEVERITY_GLYPH = {"error": "✖", "warning": "⚠", "info": "ℹ"}
RANK_GLYPH = {2: "✖", 1: "⚠", 0: "ℹ"}
BLOCK = 64  # events per cached block of rows
CACHED_BLOCKS = 48
BOOKMARK = re.compile(r"#\s*bookmark:\s*(\d+)\s+(.*\S)\s*$")


@attrs.frozen(slots=True)
class EventRow:
    """One event as the Events list shows it.

    Attributes:
        seq: its position.
        occurred_at: its domain time as written.
        when: the parsed time (None if it does not parse).
        type: the event type.
        subject: what it is about (``member:1_01``).
        summary: its data as ``key=value`` pairs (whole; widgets cut it with ``…``).
        actor: who recorded it.
        reason: why.
    """

    seq: int
    occurred_at: str
    when: datetime | None
    type: str
    subject: str
    summary: str
    actor: str
    reason: str


@attrs.frozen(slots=True)
class Bookmark:
    """A moment an event file points at (``# bookmark: 214 the hot spot``)."""

    seq: int
    text: str


@attrs.frozen(slots=True)
class Observation:
    """What a gateway showed (``metric_observed``) beside the model at the cursor.

    Attributes:
        subject: what was measured (``member:1_03``).
        metric: the metric (``load.cpu_pct``).
        observed: the value it showed.
        predicted: the model's value of that metric there, at the cursor (None: the
            model does not compute it).
        seq: the event that recorded the observation.
        source: where it was seen (the gateway's message), or "".
        drift: ``twin.model-drift`` is active on it at the cursor.
    """

    subject: str
    metric: str
    observed: float
    predicted: float | None
    seq: int
    source: str
    drift: bool


@attrs.frozen(slots=True)
class Detail:
    """Everything at one event that the index does not keep.

    Attributes:
        seq: the event's position.
        topology: the deployment as a tree of labelled nodes.
        metrics: every system metric name → (value, low, high).
        changes: ``subject field old → new`` lines from the reducer.
        notes: the reducer's notes.
        raw: the envelope as pretty JSON.
        event: ``(label, value)`` pairs describing the event, in full.
        findings: the findings active after the event.
        raised: the findings raised by it.
        cleared: the findings it cleared.
        counts: active findings by severity (errors, warnings, infos).
        observed: the observations at or before the event, the latest first.
    """

    seq: int
    topology: tuple[Node, ...]
    metrics: dict[str, tuple[float, float, float]]
    changes: tuple[str, ...]
    notes: tuple[str, ...]
    raw: str
    event: tuple[tuple[str, str], ...]
    findings: tuple[ActiveFinding, ...]
    raised: tuple[ActiveFinding, ...]
    cleared: tuple[ActiveFinding, ...]
    counts: tuple[int, int, int]
    observed: tuple[Observation, ...] = ()


def summary_of(data: dict[str, Any]) -> str:
    """An event's data as ``key=value`` pairs (lists joined, nested tables as ``{…}``)."""
    parts = []
    for key, value in data.items():
        if isinstance(value, dict):
            value = "{…}"
        elif isinstance(value, list):
            value = ",".join(str(v) for v in value)
        parts.append(f"{key}={value}")
    return " ".join(parts)


def row_of(env: Envelope) -> EventRow:
    """The list row of one envelope."""
    return EventRow(
        seq=env.seq,
        occurred_at=printable(env.occurred_at),
        when=parse_time(env.occurred_at),
        type=printable(env.type),
        subject=printable(env.event.subject),
        summary=printable(summary_of(env.data)),
        actor=printable(env.actor or ""),
        reason=printable(env.reason or ""),
    )


def read_bookmarks(path: Path) -> tuple[Bookmark, ...]:
    """``# bookmark: SEQ text`` lines at the top of an event file (comments only)."""
    found: list[Bookmark] = []
    try:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for _ in range(64):
                line = handle.readline(4096)
                if not line.startswith("#"):
                    break
                match = BOOKMARK.match(line.strip())
                if match:
                    found.append(Bookmark(int(match.group(1)), match.group(2)))
    except OSError:
        return ()
    return tuple(found)


class TimelineData:
    """A source, its index, rows on demand, and the threads' journals.

    Args:
        source: the opened journal or event file (closed by :meth:`close`).
        manager: the loaded plugin manager.
        profile: the parameter profile.
    """

    def __init__(self, source: Source, manager: TwinPluginManager, profile: Profile) -> None:
        self.source = source
        self.label = Path(source.label).name
        self.branch = source.branch
        self.manager = manager
        self.profile = profile
        self.pool = JournalPool(source.journal)
        self.journal = self.pool.for_thread()  # the UI thread's own
        self.index = TimelineIndex([name for name, _label in HEADLINE])
        #: every metric the installed rules declare → its unit (for twin.units)
        self.units: dict[str, str] = {}
        for registered in manager.rules():
            self.units.update(registered.rule.metrics)
        self.head = source.head()
        self.bookmarks = read_bookmarks(Path(source.label)) if source.kind == "events" else ()
        self._blocks: OrderedDict[int, list[EventRow]] = OrderedDict()
        self.busy_until = 0.0  # monotonic time until which background threads stay quiet
        self.first_time: datetime | None = None
        self.last_time: datetime | None = None
        if self.head:
            first, last = self.row(1), self.row(self.head)
            self.first_time = first.when if first is not None else None
            self.last_time = last.when if last is not None else None

    @classmethod
    def open(
        cls, path: str | Path, *, profile: str | None = None, branch: str | None = None
    ) -> TimelineData:
        """Open ``path`` with a freshly loaded plugin manager."""
        manager = TwinPluginManager().load()
        chosen = manager.profile(profile)
        return cls(open_source(path, manager, branch=branch), manager, chosen)

    # -- rows on demand -----------------------------------------------------------------------

    def _block(self, number: int) -> list[EventRow]:
        block = self._blocks.get(number)
        if block is not None:
            self._blocks.move_to_end(number)
            return block
        lo = number * BLOCK + 1
        hi = min(self.head, lo + BLOCK - 1)
        block = [row_of(env) for env in self.journal.read(lo, hi, branch=self.branch)]
        if len(block) == BLOCK:  # a partial last block is read again when the head moves
            self._blocks[number] = block
            while len(self._blocks) > CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        return block

    def row(self, seq: int) -> EventRow | None:
        """The row of event ``seq`` (None outside 1..head)."""
        if not 1 <= seq <= self.head:
            return None
        block = self._block((seq - 1) // BLOCK)
        offset = (seq - 1) % BLOCK
        return block[offset] if offset < len(block) else None

    def rows(self, seqs: Iterable[int]) -> list[EventRow]:
        """The rows of ``seqs`` (those that exist), in the order given."""
        out = []
        for seq in seqs:
            row = self.row(seq)
            if row is not None:
                out.append(row)
        return out

    def crosses_midnight(self) -> bool:
        """True if the journal's events fall on more than one date."""
        if self.first_time is None or self.last_time is None:
            return False
        return self.first_time.date() != self.last_time.date()

    def refresh_head(self) -> int:
        """Read the head again (live mode); return how many events arrived."""
        head = self._head_now()
        grown = head - self.head
        if grown > 0:
            self.head = head
            last = self.row(head)
            if last is not None and last.when is not None:
                self.last_time = last.when
        return max(0, grown)

    def _head_now(self) -> int:
        return int(self.journal.head(branch=self.branch))

    def first_error(self) -> int | None:
        """The first event that raised an error finding (once evaluated that far)."""
        return self.index.first_raise(2)

    def close(self) -> None:
        """Close the UI's journal and the source."""
        self.pool.release(self.journal)
        self.pool.close_main(self.source.close)


def build_detail(frame: Frame, state: Any) -> Detail:
    """The detail of ``frame``, with ``state`` the twin right after it."""
    touched = frame.changes.subjects
    env = frame.envelope
    changes = tuple(
        printable(f"{subject} {name} {format_field(name, old)} → {format_field(name, new)}")
        for subject, name, old, new in frame.changes.fields
    )
    system = frame.metrics.to_json(subjects=["system"]).get("system", {})
    metrics = {n: (m["value"], m["low"], m["high"]) for n, m in sorted(system.items())}
    raw = orjson.dumps(env.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    event: list[tuple[str, str]] = [
        ("event", f"#{env.seq} {env.type}"),
        ("time", env.occurred_at),
        ("subject", env.event.subject),
        ("actor", env.actor or "—"),
        ("reason", env.reason or "—"),
    ]
    event += [(str(key), _plain(value)) for key, value in env.data.items()]
    if env.correlation_id:
        event.append(("correlation", env.correlation_id))
    event = [(printable(k), printable(v)) for k, v in event]
    counts = [0, 0, 0]
    for active in frame.findings:
        counts[2 - active.finding.severity.rank] += 1
    drifting = {
        active.finding.subject
        for active in frame.findings
        if active.finding.rule == "twin.model-drift"
    }
    observed = tuple(
        Observation(
            subject=printable(row["subject"]),
            metric=printable(row["metric"]),
            observed=row["observed"],
            predicted=None if row["predicted"] is None else row["predicted"]["value"],
            seq=int(row["seq"] or 0),
            source=printable(row["source"] or ""),
            drift=observed_subject(row["subject"], row["metric"]) in drifting,
        )
        for row in sorted(observation_rows(state, frame.metrics), key=lambda r: -int(r["seq"] or 0))
    )
    return Detail(
        seq=env.seq,
        topology=topology_nodes(state, touched),
        metrics=metrics,
        changes=changes,
        notes=tuple(printable(n) for n in frame.changes.notes),
        raw="\n".join(printable(line) for line in raw.decode().split("\n")),
        event=tuple(event),
        findings=frame.findings,
        raised=tuple(sorted(frame.raised, key=_finding_order)),
        cleared=tuple(sorted(frame.cleared, key=_finding_order)),
        counts=(counts[0], counts[1], counts[2]),
        observed=observed,
    )


def _finding_order(active: ActiveFinding) -> tuple[int, str, str]:
    """Worst first, then by rule and subject (the engine's own order is not stable)."""
    f = active.finding
    return (-f.severity.rank, f.rule, f.subject)


def _plain(value: Any) -> str:
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)
