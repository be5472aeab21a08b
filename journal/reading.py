"""Reading a view in bounded chunks and turning rows into :class:`~twin.envelope.Envelope`.

The journal is never loaded whole: each chunk is one ``SELECT ... WHERE seq
BETWEEN ? AND ? ORDER BY seq LIMIT ?`` whose rows are decoded and handed out
before the next chunk is read. No statement stays open between chunks, so a
caller may write to the same journal while it iterates.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

import orjson

from journal.branches import Segment, fetch_row
from journal.schema import EVENT_COLUMNS
from twin.envelope import Envelope
from twin.errors import TwinInputError
from twin.events import EventRegistry

COLUMNS_SQL = ", ".join(EVENT_COLUMNS)
"""The SELECT list of a stored row, in :data:`~journal.schema.EVENT_COLUMNS` order."""

_SEQ, _PREV_HASH, _HASH = (EVENT_COLUMNS.index(c) for c in ("seq", "prev_hash", "hash"))


def decode_rows(
    rows: Sequence[tuple[Any, ...]], registry: EventRegistry, shown: str | None
) -> list[Envelope]:
    """Decode stored rows into envelopes (upcasting old payloads; unknown types become opaque).

    Payloads were validated when they were appended, so they are decoded with
    :meth:`~twin.events.EventRegistry.decode_stored`, which skips field validators.

    Raises:
        TwinInputError: a stored payload that the installed event classes cannot read.
    """
    out: list[Envelope] = []
    append = out.append
    loads = orjson.loads
    decode = registry.decode_stored
    new = tuple.__new__  # Envelope is a tuple underneath: skip its argument parsing
    for seq, eid, typ, schema, occ, rec, actor, reason, corr, caus, text, prev, h in rows:
        if not (
            type(eid) is str
            and type(typ) is str
            and type(schema) is int
            and type(occ) is str
            and type(rec) is str
            and type(prev) is str
            and type(h) is str
            and (actor is None or type(actor) is str)
            and (reason is None or type(reason) is str)
            and (corr is None or type(corr) is str)
            and (caus is None or type(caus) is str)
        ):
            raise TwinInputError(
                f"event {seq} has an envelope column of a type no journal writes "
                "(edited?); run `twin verify`",
                source=shown,
            )
        try:
            data = loads(text)
            if type(data) is not dict:
                raise TwinInputError("its data is not a JSON object", field="data")
            event = decode(typ, data, schema)
        except orjson.JSONDecodeError:
            raise TwinInputError(
                f"event {seq} ({typ}) holds data that is not JSON; run `twin verify`",
                field="data",
                source=shown,
            ) from None
        except TwinInputError as exc:
            raise TwinInputError(
                f"event {seq} ({typ}) cannot be read by the installed event classes: {exc.problem}",
                field=exc.field,
                value=exc.value,
                source=shown,
            ) from None
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
            raise TwinInputError(
                f"event {seq} ({typ}) holds data the installed event classes cannot read "
                f"({type(exc).__name__}: {exc}); run `twin verify`",
                field="data",
                source=shown,
            ) from None
        append(
            new(
                Envelope,
                (seq, eid, typ, schema, occ, rec, actor, reason, corr, caus, data, prev, h, event),
            )
        )
    return out


class StreamCheck:
    """The cheap invariants of rows streaming by: dense seqs, each row chained to the one before.

    No hash is recomputed (that is ``twin verify``'s job, or ``--verify``): this
    only compares what is stored, so it costs next to nothing. The first problem
    is reported through ``warn`` and checking stops.

    Args:
        warn: called once with the first problem, in words.
        expected: the seq the first row should have.
        prev_hash: the hash of the row before it, if known.
    """

    def __init__(self, warn: Callable[[str], None], expected: int, prev_hash: str | None) -> None:
        self.warn = warn
        self.expected = expected
        self.prev_hash = prev_hash
        self.done = False

    def feed(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Check the next rows (in seq order)."""
        if self.done:
            return
        expected, last = self.expected, self.prev_hash
        for row in rows:
            seq, prev, own = row[_SEQ], row[_PREV_HASH], row[_HASH]
            if seq != expected:
                self._found(f"seq {expected} is missing (seq {seq} follows seq {expected - 1})")
                return
            if last is not None and prev != last:
                self._found(f"seq {seq} does not chain to seq {seq - 1} (prev_hash differs)")
                return
            expected, last = seq + 1, own
        self.expected, self.prev_hash = expected, last

    def _found(self, problem: str) -> None:
        self.done = True
        self.warn(problem)


def read_view(
    conn: sqlite3.Connection,
    view: Sequence[Segment],
    start: int,
    stop: int,
    *,
    chunk: int,
    registry: EventRegistry,
    shown: str | None,
    warn: Callable[[str], None] | None = None,
) -> Iterator[Envelope]:
    """Yield the envelopes of seqs ``start..stop`` (inclusive) of a view, in order.

    Args:
        conn: the journal's connection.
        view: the view's segments.
        start: first seq.
        stop: last seq.
        chunk: rows per query.
        registry: decodes payloads.
        shown: the journal's name for messages.
        warn: if given, the rows are checked as they stream (:class:`StreamCheck`)
            and the first problem is passed to it.

    Raises:
        TwinInputError: a stored row that cannot be decoded, naming its seq.
    """
    check: StreamCheck | None = None
    if warn is not None:
        before = fetch_row(conn, view, start - 1, "hash") if start > 1 else None
        check = StreamCheck(warn, start, None if before is None else str(before[0]))
    for seg in view:
        lo, hi = max(start, seg.lo), min(stop, seg.hi)
        while lo <= hi:
            where, params = seg.where(lo, hi)
            rows = conn.execute(
                f"SELECT {COLUMNS_SQL} {where} ORDER BY seq LIMIT ?", (*params, chunk)
            ).fetchall()
            if not rows:
                break
            if check is not None:
                check.feed(rows)
            yield from decode_rows(rows, registry, shown)
            if len(rows) < chunk:
                break
            lo = int(rows[-1][0]) + 1


def iter_raw(
    conn: sqlite3.Connection, view: Sequence[Segment], *, chunk: int = 10_000
) -> Generator[list[tuple[Any, ...]], None, None]:
    """Yield a view's stored rows (tuples, in seq order) in lists of up to ``chunk``.

    One statement per segment; the caller should hold a read transaction so that
    every segment is read from the same snapshot.
    """
    for seg in view:
        where, params = seg.where(seg.lo, seg.hi)
        cursor = conn.execute(f"SELECT {COLUMNS_SQL} {where} ORDER BY seq", params)
        try:
            while True:
                rows = cursor.fetchmany(chunk)
                if not rows:
                    break
                yield rows
        finally:
            cursor.close()
