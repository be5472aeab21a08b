"""Metric history: the headline numbers of every event, kept so that readers need not replay.

The TUI's timeline, ``twin bisect``'s first pass and reports want a few
numbers for every event (the system metrics, how many findings are active,
which were raised or cleared), not the whole twin at one event. A
:class:`MetricHistory` computes them once, by replaying, and keeps them as a
projection: one snapshot row per full chunk of :data:`CHUNK` events (the short
last chunk is computed when asked and not kept), under a key
made of the code version and the profile and plugin fingerprint, so another
version, profile or set of plugins never reads them.

What a chunk holds is plain data, and bounded: a small JSON header, then
float64 columns (one per series) and int32 columns (finding counts), zlib
compressed, at most :data:`MAX_SERIES` series: 8 bytes per series per event
stored, and as much in memory for the chunks read. It is validated when read like
any input (a journal may come from a stranger, and the snapshot table is
outside the hash chain), sealed by the journal like every cache row, and a
chunk that does not open or validate is simply computed again.

Example::

    history = MetricHistory(journal, manager, profile)
    history.ensure()                                   # replays what is missing
    util = history.column("capacity.utilization")      # numpy array, index = seq - 1
    errors, warnings, infos = history.counts()
    first = history.first_where("capacity.utilization", ">=", 0.8)
"""

from __future__ import annotations

import json
import math
import operator
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from twin import __version__
from twin.frames import Frame
from twin.plugin_manager import TwinPluginManager
from twin.profile import Profile
from twin.replay import Replay
from twin.rules import Severity, SeverityWatch, severity_change_text

FORMAT = 2
"""The chunk layout; bump it when it changes (older chunks are then never read).

2: changes may be severity changes (sign ``^``, with the severity before)."""

CHUNK = 4096
"""Events per chunk: chunk k holds seqs ``k*CHUNK + 1 .. (k+1)*CHUNK`` (the last may be short)."""

MAX_SERIES = 64
"""The most series one history keeps (the size bound: 8 bytes per series per event)."""

MAX_PAYLOAD = 64 * 1024 * 1024
"""The largest payload a chunk may expand to."""

SYSTEM = "system"

Array = npt.NDArray[Any]
Series = tuple[str, str]
"""(subject, metric name)."""

_HEADER = struct.Struct("<I")
_OPS: dict[str, Callable[[Any, float], Any]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)
_SEVERITY_NAMES = ("info", "warning", "error")


@attrs.frozen
class Change:
    """A finding raised (``+``), cleared (``-``) or changing severity (``^``) at an event.

    A finding that escalates keeps its ``since``: it is neither raised nor
    cleared, and the history records it as a ``^`` change from ``previous``.

    Attributes:
        seq: the event.
        sign: ``+`` raised, ``-`` cleared, ``^`` its severity changed (escalated or calmed).
        rule: the finding's rule id.
        subject: what it is about.
        severity: ``info``, ``warning`` or ``error`` (for ``^``: the new one).
        previous: for ``^``, the severity before; else empty.
    """

    seq: int
    sign: str
    rule: str
    subject: str
    severity: str
    previous: str = ""

    def text(self) -> str:
        """One line: ``+ error capacity.exhausted group:1 at #12`` or, for a severity change,
        ``^ capacity.exhausted group:1 warning→error at #40``."""
        if self.sign == "^":
            change = severity_change_text(self.previous, self.severity, self.seq)
            return f"^ {self.rule} {self.subject} {change}"
        return f"{self.sign} {self.severity} {self.rule} {self.subject} at #{self.seq}"


@attrs.frozen
class Chunk:
    """One chunk of history, as stored.

    Attributes:
        first: its first seq.
        values: float64 array of shape (series, events); NaN where a metric was absent.
        counts: int32 array of shape (3, events): active errors, warnings, infos.
        changes: the findings raised and cleared in it, in order.
    """

    first: int
    values: Array
    counts: Array
    changes: tuple[Change, ...]

    @property
    def size(self) -> int:
        """How many events it holds."""
        return int(self.counts.shape[1])


def default_series(manager: TwinPluginManager) -> list[Series]:
    """Every metric the loaded rules declare, at the ``system`` subject, sorted by name."""
    names = sorted({name for r in manager.rules() for name in r.rule.metrics})
    return [(SYSTEM, name) for name in names[:MAX_SERIES]]


def encode_chunk(chunk: Chunk, series: Sequence[Series]) -> bytes:
    """A chunk as plain, compressed bytes (a JSON header, then raw little-endian columns)."""
    header = {
        "format": FORMAT,
        "first": chunk.first,
        "size": chunk.size,
        "series": [list(s) for s in series],
        "changes": [
            [c.seq, c.sign, c.rule, c.subject, c.severity, *([c.previous] if c.previous else [])]
            for c in chunk.changes
        ],
    }
    head = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("utf-8")
    body = (
        np.ascontiguousarray(chunk.values, dtype="<f8").tobytes()
        + np.ascontiguousarray(chunk.counts, dtype="<i4").tobytes()
    )
    return zlib.compress(_HEADER.pack(len(head)) + head + body, 1)


def decode_chunk(blob: bytes, first: int, size: int, series: Sequence[Series]) -> Chunk:
    """What :func:`encode_chunk` stored, validated against what the reader expects.

    Raises:
        ValueError: not a chunk of this format, or not the chunk expected (another
            range, other series), or inconsistent in itself.
    """
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(blob, MAX_PAYLOAD)
    except zlib.error as exc:
        raise ValueError(f"not a compressed chunk: {exc}") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("chunk too large or truncated")
    if len(payload) < _HEADER.size:
        raise ValueError("chunk too short")
    (head_size,) = _HEADER.unpack_from(payload)
    head_end = _HEADER.size + head_size
    try:
        header = json.loads(payload[_HEADER.size : head_end].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"chunk header is not JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ValueError("chunk of another format")
    if header.get("first") != first or header.get("size") != size:
        raise ValueError("chunk of another range")
    if header.get("series") != [list(s) for s in series]:
        raise ValueError("chunk of other series")
    body = payload[head_end:]
    n_values = len(series) * size
    if len(body) != 8 * n_values + 4 * 3 * size:
        raise ValueError("chunk columns have the wrong length")
    values = np.frombuffer(body, dtype="<f8", count=n_values).reshape(len(series), size)
    counts = np.frombuffer(body, dtype="<i4", offset=8 * n_values).reshape(3, size)
    if (counts < 0).any():
        raise ValueError("negative finding counts")
    changes = _changes(header.get("changes"), first, size)
    return Chunk(first, values, counts, changes)


def _changes(raw: Any, first: int, size: int) -> tuple[Change, ...]:
    if not isinstance(raw, list):
        raise ValueError("chunk changes are not a list")
    out = []
    for item in raw:
        if not (isinstance(item, list) and len(item) in (5, 6)):
            raise ValueError("a change is not [seq, sign, rule, subject, severity(, previous)]")
        seq, sign, rule, subject, severity = item[:5]
        previous = item[5] if len(item) == 6 else ""
        if (sign == "^") != (previous in _SEVERITY_NAMES):
            raise ValueError("a severity change without the severity before, or the reverse")
        if isinstance(seq, bool) or not isinstance(seq, int) or not first <= seq < first + size:
            raise ValueError("a change's seq is outside the chunk")
        if sign not in ("+", "-", "^") or severity not in _SEVERITY_NAMES:
            raise ValueError("a change has an unknown sign or severity")
        if not (isinstance(rule, str) and isinstance(subject, str)):
            raise ValueError("a change's rule or subject is not text")
        out.append(Change(seq, sign, rule, subject, severity, previous))
    return tuple(out)


class Recorder:
    """Collects a chunk's numbers from frames, one event at a time."""

    def __init__(self, first: int, size: int, series: Sequence[Series]) -> None:
        self.first = first
        self.series = list(series)
        self.values = np.full((len(series), size), np.nan, dtype=np.float64)
        self.counts = np.zeros((3, size), dtype=np.int32)
        self.changes: list[Change] = []
        self._shown: tuple[Any, ...] | None = None
        self._tally = (0, 0, 0)
        self.watch = SeverityWatch()

    def add(self, frame: Frame) -> None:
        """Record the frame after event ``frame.seq``."""
        i = frame.seq - self.first
        value = frame.metrics.value
        nan = math.nan
        values = self.values
        for row, (subject, name) in enumerate(self.series):
            values[row, i] = value(subject, name, nan)
        if frame.findings is not self._shown:  # the same tuple while nothing changes
            self._shown = frame.findings
            tally = dict.fromkeys(_SEVERITIES, 0)
            for active in frame.findings:
                tally[active.finding.severity] += 1
            self._tally = (tally[Severity.ERROR], tally[Severity.WARNING], tally[Severity.INFO])
        self.counts[:, i] = self._tally
        for sign, found in (("+", frame.raised), ("-", frame.cleared)):
            for active in found:
                f = active.finding
                self.changes.append(Change(frame.seq, sign, f.rule, f.subject, f.severity.value))
        for active, before in self.watch.changes(frame.findings, frame.raised):
            f = active.finding
            self.changes.append(
                Change(frame.seq, "^", f.rule, f.subject, f.severity.value, before.value)
            )

    def chunk(self) -> Chunk:
        """The chunk recorded."""
        return Chunk(self.first, self.values, self.counts, tuple(self.changes))


class MetricHistory:
    """The history of a journal's (or branch's) system metrics and findings, cached.

    Args:
        replay: the replay that computes what is missing (its journal, branch,
            plugins and profile decide the key).
        series: the (subject, metric) pairs to keep (default: every declared
            metric at ``system``); at most :data:`MAX_SERIES`.
    """

    def __init__(self, replay: Replay, series: Iterable[Series] | None = None) -> None:
        chosen = default_series(replay.manager) if series is None else list(series)
        if len(chosen) > MAX_SERIES:
            raise ValueError(f"a history keeps at most {MAX_SERIES} series, not {len(chosen)}")
        self.replay = replay
        self.series: list[Series] = chosen
        fingerprint = replay.manager.fingerprint(replay.profile)
        spelled = json.dumps(chosen, separators=(",", ":")).encode("utf-8")
        self.key = f"history:{__version__}+{FORMAT}:{fingerprint}:{zlib.crc32(spelled):08x}"
        self._chunks: dict[int, Chunk] = {}
        self._index = {s: i for i, s in enumerate(chosen)}

    @classmethod
    def open(
        cls,
        journal: Any,
        manager: TwinPluginManager,
        profile: Profile,
        *,
        branch: str | None = None,
        series: Iterable[Series] | None = None,
    ) -> MetricHistory:
        """A history of ``journal`` (a :class:`journal.Journal`) evaluated with ``profile``."""
        return cls(Replay(journal, manager, profile, branch=branch), series)

    # -- reading ---------------------------------------------------------------------------

    def head(self) -> int:
        """The last seq of the journal (or branch)."""
        return self.replay.head()

    def chunk(self, index: int, *, compute: bool = True) -> Chunk | None:
        """Chunk ``index`` (seqs ``index*CHUNK + 1 ..``), read, or computed if missing.

        Returns:
            The chunk, or None if it is missing and ``compute`` is false (or the
            journal has no such seqs).
        """
        head = self.head()
        first = index * CHUNK + 1
        if first > head:
            return None
        size = min(CHUNK, head - first + 1)
        cached = self._chunks.get(index)
        if cached is not None and cached.size == size:
            return cached
        found = self._read(first, size)
        if found is None and compute:
            found = self._compute(first, size)
        if found is not None:
            self._chunks[index] = found
        return found

    def _read(self, first: int, size: int) -> Chunk | None:
        last = first + size - 1
        stored = self.replay.journal.load_snapshot(self.key, last, branch=self.replay.branch)
        if stored is None or stored[0] != last:
            return None
        try:
            return decode_chunk(stored[1], first, size, self.series)
        except ValueError:
            return None  # another's or damaged: computed again

    def _compute(self, first: int, size: int) -> Chunk:
        recorder = Recorder(first, size, self.series)
        for frame in self.replay.frames(max(1, first - 1), first + size - 1):
            if frame.seq < first:  # the event before: only what was active then
                recorder.watch.changes(frame.findings, frame.raised)
                continue
            recorder.add(frame)
        chunk = recorder.chunk()
        if size == CHUNK:  # the short last chunk changes as the journal grows: not kept
            blob = encode_chunk(chunk, self.series)
            self.replay.journal.save_snapshots(
                self.key, [(first + size - 1, blob, "")], branch=self.replay.branch
            )
        return chunk

    def ensure(
        self, stop: int | None = None, progress: Callable[[int, int], None] | None = None
    ) -> None:
        """Make sure every chunk up to ``stop`` (default: the head) is cached.

        Args:
            stop: the last seq wanted.
            progress: called with (events done, events in all) after each chunk.
        """
        head = self.head()
        last = head if stop is None else min(stop, head)
        if last < 1:
            return
        chunks = (last - 1) // CHUNK + 1
        for index in range(chunks):
            self.chunk(index)
            if progress is not None:
                progress(min((index + 1) * CHUNK, last), last)

    def _range(self, start: int, stop: int | None) -> tuple[int, int]:
        head = self.head()
        last = head if stop is None else min(stop, head)
        return max(1, start), last

    def column(
        self, name: str, subject: str = SYSTEM, start: int = 1, stop: int | None = None
    ) -> Array:
        """The metric after every event ``start..stop`` (NaN where it was absent).

        Raises:
            KeyError: the history does not keep that series.
        """
        row = self._index.get((subject, name))
        if row is None:
            raise KeyError(f"the history keeps no series {subject} {name}")
        first, last = self._range(start, stop)
        parts = [c.values[row] for c in self._chunks_over(first, last)]
        return self._cut(parts, first, last)

    def counts(self, start: int = 1, stop: int | None = None) -> tuple[Array, Array, Array]:
        """Active (errors, warnings, infos) after every event ``start..stop``."""
        first, last = self._range(start, stop)
        chunks = self._chunks_over(first, last)
        return (
            self._cut([c.counts[0] for c in chunks], first, last),
            self._cut([c.counts[1] for c in chunks], first, last),
            self._cut([c.counts[2] for c in chunks], first, last),
        )

    def changes(self, start: int = 1, stop: int | None = None) -> list[Change]:
        """The findings raised, cleared or changing severity at ``start..stop``, in order."""
        first, last = self._range(start, stop)
        return [
            c
            for chunk in self._chunks_over(first, last)
            for c in chunk.changes
            if first <= c.seq <= last
        ]

    def first_where(
        self, name: str, op: str, value: float, *, subject: str = SYSTEM, start: int = 1
    ) -> int | None:
        """The first seq from ``start`` after which ``metric op value`` holds, or None.

        ``op`` is one of ``> >= < <= == !=``; an absent metric never holds.
        """
        compare = _OPS.get(op)
        if compare is None:
            raise ValueError(f"op must be one of {' '.join(_OPS)}, not {op!r}")
        column = self.column(name, subject, start)
        with np.errstate(invalid="ignore"):
            holds = compare(column, value) & ~np.isnan(column)
        hits = np.flatnonzero(holds)
        return None if hits.size == 0 else max(1, start) + int(hits[0])

    def _chunks_over(self, first: int, last: int) -> list[Chunk]:
        if last < first:
            return []
        out = []
        for index in range((first - 1) // CHUNK, (last - 1) // CHUNK + 1):
            chunk = self.chunk(index)
            if chunk is not None:
                out.append(chunk)
        return out

    def _cut(self, parts: list[Array], first: int, last: int) -> Array:
        if not parts:
            return np.empty(0)
        joined = np.concatenate(parts)
        offset = (first - 1) // CHUNK * CHUNK + 1
        return joined[first - offset : last - offset + 1]
