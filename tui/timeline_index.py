"""The compact columnar timeline: about 49 bytes per event, no Textual here.

Per event the index keeps the domain time (int32 seconds from the first
event), a type code and a subject code, the number of active findings by
severity, a byte of flags and the eight headline system metrics as float32.
Everything else (the event's text, the findings themselves, the topology) is
built on demand from the journal and a seeking replay: see
:mod:`tui.timeline_data`.

Two passes fill it, both run by :class:`tui.background.Indexer` in a thread:

- the *scan* (``add_event``): time, type and subject, from the journal alone
  (a few µs per event); the list, the type and subject filters and the time
  jumps work as soon as it passes;
- the *evaluation* (``add_frame``): findings, flags and metrics, from every
  frame of a replay (the rules' cost per event); the scrubber, the change
  keys, the sparklines and the plot read them.

Readers on the UI thread read while the passes append: every access is one
operation on an :class:`array.array` or a :class:`bytearray`, atomic under
the GIL, and nothing is ever rewritten once appended.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from twin.frames import Frame
from twin.rules import SeverityWatch

#: Flag bits of one event.
RAISED = 0x01
CLEARED = 0x02
TOPOLOGY = 0x04  # something was added, removed or changed state (not a fault)
FAULT = 0x08  # a member, link or orchestrator went down
RECOVERED = 0x10  # a member, link or orchestrator came back
EVALUATED = 0x20
SEVERITY_SHIFT = 6  # bits 6-7: worst severity raised here (0 none, 1 info, 2 warning, 3 error)

CHANGE_BITS = RAISED | CLEARED | TOPOLOGY | FAULT | RECOVERED
#: ``flags.translate(CHANGE_TABLE)`` is 1 where the event is a change, else 0.
CHANGE_TABLE = bytes(1 if i & CHANGE_BITS else 0 for i in range(256))

#: Fields whose change is a topology change (the reducer's ``Changes.fields``).
STATE_FIELDS = frozenset({"state", "up", "active"})
DOWN_VALUES = ("DOWN", False)
UP_VALUES = ("UP", True)


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time (``Z`` allowed) as an aware datetime, or None."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def frame_flags(frame: Frame) -> int:
    """The flag byte of one evaluated frame."""
    flags = EVALUATED
    if frame.raised:
        flags |= RAISED
        worst = max(a.finding.severity.rank for a in frame.raised)
        flags |= (worst + 1) << SEVERITY_SHIFT
    if frame.cleared:
        flags |= CLEARED
    changes = frame.changes
    if changes.added or changes.removed:
        flags |= TOPOLOGY
    for _subject, name, old, new in changes.fields:
        if name not in STATE_FIELDS or old == new:
            continue
        if new in DOWN_VALUES and name != "active":
            flags |= FAULT
        elif new in UP_VALUES and old in DOWN_VALUES:
            flags |= RECOVERED
        else:
            flags |= TOPOLOGY
    return flags


def worst_raised(flags: int) -> int:
    """The rank (0 info, 1 warning, 2 error) of the worst finding raised, or -1."""
    return (flags >> SEVERITY_SHIFT) - 1


class Interned:
    """Strings ↔ small integer codes (types, subjects, rule ids)."""

    __slots__ = ("codes", "names", "widest")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.codes: dict[str, int] = {}
        self.widest = 0

    def code(self, name: str) -> int:
        """The code of ``name`` (a new one the first time it is seen)."""
        found = self.codes.get(name)
        if found is None:
            found = self.codes[name] = len(self.names)
            self.names.append(name)
            self.widest = max(self.widest, len(name))
        return found

    def matching(self, needle: str) -> set[int]:
        """Codes whose name contains ``needle`` (case-insensitive)."""
        low = needle.lower()
        return {code for code, name in enumerate(self.names) if low in name.lower()}


class TimelineIndex:
    """Columns of one journal's events; seq ``n`` is at position ``n - 1``.

    Args:
        headline: the system metrics kept per event (float32; NaN when absent).

    Attributes:
        scanned: events with time, type and subject.
        evaluated: events with counts, flags and metrics (never more than ``scanned``
            once both passes are done; the evaluation never runs ahead of the scan).
        epoch: the time of the first event (None before it is scanned).
    """

    def __init__(self, headline: Sequence[str]) -> None:
        self.headline = tuple(headline)
        self.time = array("i")
        self.type = array("H")
        self.subject = array("I")
        self.errors = array("H")
        self.warnings = array("H")
        self.infos = array("H")
        self.flags = bytearray()
        self.metrics = [array("f") for _ in self.headline]
        self.types = Interned()
        self.subjects = Interned()
        self.rules = Interned()
        # One entry per finding raised: where, which rule, on what, how bad.
        self.raise_seq = array("I")
        self.raise_rule = array("I")
        self.raise_subject = array("I")
        self.raise_rank = array("b")
        # One entry per severity change of an active finding (rare): seq, rule, subject,
        # severity before, severity after. The finding keeps its since.
        self.severity_changes: list[tuple[int, str, str, str, str]] = []
        self._watch = SeverityWatch()
        self.epoch: datetime | None = None
        self.last_time: datetime | None = None
        self._change_mask: bytes = b""
        self._spans: dict[tuple[int, int, int], tuple[float, float] | None] = {}

    # -- filling ------------------------------------------------------------------------------

    @property
    def scanned(self) -> int:
        """Events scanned so far."""
        return len(self.subject)

    @property
    def evaluated(self) -> int:
        """Events evaluated so far."""
        return len(self.flags)

    def add_event(self, occurred_at: str, type_: str, subject: str) -> None:
        """The scan of the next event."""
        when = parse_time(occurred_at)
        if when is not None:
            if self.epoch is None:
                self.epoch = when
            self.last_time = when
            seconds = int((when - self.epoch).total_seconds())
        else:
            seconds = self.time[-1] if self.time else 0
        self.time.append(max(-(2**31), min(2**31 - 1, seconds)))
        self.type.append(self.types.code(type_))
        self.subject.append(self.subjects.code(subject))

    def add_frame(self, frame: Frame) -> None:
        """The evaluation of the next event (its frame)."""
        counts = [0, 0, 0]
        for active in frame.findings:
            counts[active.finding.severity.rank] += 1
        self.errors.append(min(counts[2], 65535))
        self.warnings.append(min(counts[1], 65535))
        self.infos.append(min(counts[0], 65535))
        store = frame.metrics
        for name, column in zip(self.headline, self.metrics, strict=True):
            metric = store.get("system", name)
            column.append(math.nan if metric is None else metric.value)
        for active in frame.raised:
            f = active.finding
            self.raise_seq.append(frame.seq)
            self.raise_rule.append(self.rules.code(f.rule))
            self.raise_subject.append(self.subjects.code(f.subject))
            self.raise_rank.append(f.severity.rank)
        for active, before in self._watch.changes(frame.findings, frame.raised):
            f = active.finding
            self.severity_changes.append(
                (frame.seq, f.rule, f.subject, before.value, f.severity.value)
            )
        self.flags.append(frame_flags(frame))

    # -- reading ------------------------------------------------------------------------------

    def severity_changes_of(
        self, rule: str, subject: str, since: int, seq: int
    ) -> list[tuple[int, str, str]]:
        """``(seq, before, after)`` for each severity change of the finding ``rule`` on
        ``subject`` raised at ``since``, up to ``seq`` (evaluated events only)."""
        return [
            (at, before, after)
            for at, r, s, before, after in self.severity_changes
            if since < at <= seq and r == rule and s == subject
        ]

    def flag(self, seq: int) -> int | None:
        """The flags of event ``seq``, or None if it is not evaluated yet."""
        return self.flags[seq - 1] if 1 <= seq <= len(self.flags) else None

    def counts(self, seq: int) -> tuple[int, int, int] | None:
        """Active findings after ``seq`` as (errors, warnings, infos), or None."""
        if not 1 <= seq <= len(self.flags):
            return None
        i = seq - 1
        return self.errors[i], self.warnings[i], self.infos[i]

    def type_of(self, seq: int) -> str | None:
        """The type of event ``seq`` (None if not scanned yet)."""
        return self.types.names[self.type[seq - 1]] if 1 <= seq <= self.scanned else None

    def subject_of(self, seq: int) -> str | None:
        """The subject of event ``seq`` (None if not scanned yet)."""
        if not 1 <= seq <= self.scanned:
            return None
        return self.subjects.names[self.subject[seq - 1]]

    def metric(self, index: int, seq: int) -> float | None:
        """Headline metric ``index`` after event ``seq`` (None: absent or not evaluated)."""
        column = self.metrics[index]
        if not 1 <= seq <= len(column):
            return None
        value = column[seq - 1]
        return None if math.isnan(value) else float(value)

    def history(self, index: int, lo: int, hi: int) -> list[float | None]:
        """Headline metric ``index`` for events ``lo..hi`` (evaluated ones only)."""
        column = self.metrics[index]
        hi = min(hi, len(column))
        return [None if math.isnan(v) else float(v) for v in column[max(lo, 1) - 1 : hi]]

    def span(self, index: int, lo: int, hi: int) -> tuple[float, float] | None:
        """(min, max) of headline metric ``index`` over events ``lo..hi`` (evaluated ones).

        Ranges that are fully evaluated are remembered, so the plot, the sparklines
        and the scrubber pay for each stretch of the journal once.
        """
        column = self.metrics[index]
        top = min(hi, len(column))
        if lo > top:
            return None
        key = (index, lo, hi)
        if top == hi and key in self._spans:
            return self._spans[key]
        values = [v for v in column[lo - 1 : top] if v == v]  # NaN is not equal to itself
        found = (min(values), max(values)) if values else None
        if top == hi:
            if len(self._spans) > 200_000:
                self._spans.clear()
            self._spans[key] = found
        return found

    def change_mask(self) -> bytes:
        """1 at every change event (raised or cleared a finding, topology, fault)."""
        if len(self._change_mask) != len(self.flags):
            self._change_mask = bytes(self.flags).translate(CHANGE_TABLE)
        return self._change_mask

    def next_change(self, seq: int, direction: int) -> int | None:
        """The next (1) or previous (-1) change event from ``seq``, or None."""
        mask = self.change_mask()
        # position p holds event p + 1
        found = mask.find(1, max(seq, 0)) if direction > 0 else mask.rfind(1, 0, max(seq - 1, 0))
        return None if found < 0 else found + 1

    def next_same(self, seq: int, direction: int, column: array[int]) -> int | None:
        """The next or previous event with the same code as ``seq`` in ``column``."""
        if not 1 <= seq <= len(column):
            return None
        code = column[seq - 1]
        i = seq - 1 + direction
        while 0 <= i < len(column):
            if column[i] == code:
                return i + 1
            i += direction
        return None

    def first_raise(self, min_rank: int = 2) -> int | None:
        """The first event that raised a finding of at least ``min_rank`` (2: error)."""
        for seq, rank in zip(self.raise_seq, self.raise_rank, strict=False):
            if rank >= min_rank:
                return int(seq)
        return None

    def last_change_of(self, index: int, seq: int) -> int | None:
        """The last event at or before ``seq`` that changed headline metric ``index``."""
        column = self.metrics[index]
        i = min(seq, len(column)) - 1
        while i >= 1:
            now, before = column[i], column[i - 1]
            if not _same(now, before):
                return i + 1
            i -= 1
        return 1 if i == 0 and not math.isnan(column[0]) else None

    def seq_at_time(self, when: datetime) -> int | None:
        """The last event at or before ``when`` (the first event if none is)."""
        if self.epoch is None or not self.time:
            return None
        target = (when - self.epoch).total_seconds()
        lo, hi = 0, len(self.time)
        while lo < hi:  # times are mostly ordered; bisect on them
            mid = (lo + hi) // 2
            if self.time[mid] <= target:
                lo = mid + 1
            else:
                hi = mid
        return max(1, lo)

    def buckets(self, width: int, total: int) -> list[tuple[int, int]]:
        """``width`` seq ranges ``[lo, hi]`` covering ``1..total`` (an event may span columns)."""
        if width <= 0 or total <= 0:
            return []
        out = []
        for x in range(width):  # narrower than the journal: each column one event or more
            lo = x * total // width + 1
            out.append((lo, max(lo, (x + 1) * total // width)))
        return out

    def memory_bytes(self) -> int:
        """What the columns hold (bytes), for the benchmark and the note."""
        arrays: Iterable[array[int] | array[float]] = (
            self.time,
            self.type,
            self.subject,
            self.errors,
            self.warnings,
            self.infos,
            *self.metrics,
            self.raise_seq,
            self.raise_rule,
            self.raise_subject,
            self.raise_rank,
        )
        return sum(a.itemsize * len(a) for a in arrays) + len(self.flags)


def _same(a: float, b: float) -> bool:
    """Equal, both absent, or within float32 noise."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
