"""Reading a view in bounded chunks and turning rows into :class:`~twin.envelope.Envelope`.

The journal is never loaded whole: each chunk is one ``SELECT ... WHERE seq
BETWEEN ? AND ? ORDER BY seq LIMIT ?`` whose rows are decoded and handed out
before the next chunk is read. No statement stays open between chunks, so a
caller may write to the same journal while it iterates.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Iterator, Sequence
from typing import Any

import orjson

from journal.branches import Segment
from journal.schema import EVENT_COLUMNS
from twin.envelope import Envelope
from twin.errors import TwinInputError
from twin.events import EventRegistry

COLUMNS_SQL = ", ".join(EVENT_COLUMNS)
"""The SELECT list of a stored row, in :data:`~journal.schema.EVENT_COLUMNS` order."""


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
        try:
            data = loads(text)
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
        append(
            new(
                Envelope,
                (seq, eid, typ, schema, occ, rec, actor, reason, corr, caus, data, prev, h, event),
            )
        )
    return out


def read_view(
    conn: sqlite3.Connection,
    view: Sequence[Segment],
    start: int,
    stop: int,
    *,
    chunk: int,
    registry: EventRegistry,
    shown: str | None,
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
    """
    for seg in view:
        lo, hi = max(start, seg.lo), min(stop, seg.hi)
        while lo <= hi:
            where, params = seg.where(lo, hi)
            rows = conn.execute(
                f"SELECT {COLUMNS_SQL} {where} ORDER BY seq LIMIT ?", (*params, chunk)
            ).fetchall()
            if not rows:
                break
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
