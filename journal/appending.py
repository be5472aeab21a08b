"""Appending events: all or nothing, validated by the reducer, hash-chained, in one transaction.

An append runs in two phases:

1. *Prepare* (no lock held): read the input (an event file may still refuse a
   line here), encode each payload as compact sorted-key JSON, and give every
   event without an id a new time-ordered one.
2. *Write* (inside one ``BEGIN IMMEDIATE`` transaction, so the lock is taken
   before the head is read): check the expected head, skip events whose id is
   already in the view, fold the reducer state at the head and apply every new
   event to it (which refuses unknown ids, duplicates and impossible
   transitions; a group load gets the ``serving`` count it was measured on,
   see :mod:`twin.demand`), chain the hashes, insert every row with one ``executemany``
   and commit. Any error rolls the whole transaction back.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence

import attrs

from journal import snapshots
from journal.branches import Segment, fetch_row, head
from journal.folding import fold
from journal.hashing import GENESIS_HASH, canonical_bytes, encode_data
from journal.ids import new_event_ids
from journal.results import AppendResult
from journal.schema import EVENT_COLUMNS, utc_now
from twin.demand import with_serving
from twin.errors import ConflictError, TwinInputError
from twin.event_files import NewEvent
from twin.events import EventRegistry, LoadChanged, OpaqueEvent
from twin.reducer import apply
from twin.state import TwinState

PROGRESS_EVERY = 5000
"""``progress`` is called after every this many input events."""

_ID_BATCH = 500

_MAIN_INSERT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"
)
_BRANCH_INSERT = (
    f"INSERT INTO branch_events (branch, {', '.join(EVENT_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' * len(EVENT_COLUMNS))})"
)


@attrs.frozen(slots=True)
class Prepared:
    """A new event ready for the write phase.

    Attributes:
        new: the event and its envelope fields as given.
        event_id: its id (given or generated).
        supplied: True if the producer gave the id (only those can be duplicates).
        type: the stored type name.
        schema: the payload schema version.
        data: the payload as stored (compact sorted-key JSON).
    """

    new: NewEvent
    event_id: str
    supplied: bool
    type: str
    schema: int
    data: str


def head_key(branch: str | None) -> str:
    """The ``meta`` key holding ``"<seq>:<hash>"`` of the last event appended to a line."""
    return f"head:{branch or 'main'}"


def prepare(events: Iterable[NewEvent]) -> list[Prepared]:
    """Read and encode the input; nothing is locked or written yet.

    Raises:
        TwinInputError: a bad line of an event file, an empty ``event_id``, or a
            payload that cannot be stored as JSON.
    """
    items = list(events)
    fresh = iter(new_event_ids(sum(1 for ne in items if ne.event_id is None)))
    out: list[Prepared] = []
    append = out.append
    for ne in items:
        event = ne.event
        if isinstance(event, OpaqueEvent):
            type_name, schema = event.original_type, 1
        else:
            type_name, schema = event.event_type, type(event).schema
        try:
            data = encode_data(event.to_data()).decode("utf-8")
        except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
            raise TwinInputError(
                f"cannot be stored as JSON: {exc}", field="data", source=ne.source, line=ne.line
            ) from None
        if ne.event_id is None:
            append(Prepared(ne, next(fresh), False, type_name, schema, data))
        elif not isinstance(ne.event_id, str) or not ne.event_id:
            raise TwinInputError(
                "must be a non-empty string",
                field="event_id",
                value=ne.event_id,
                source=ne.source,
                line=ne.line,
            )
        else:
            append(Prepared(ne, ne.event_id, True, type_name, schema, data))
    return out


def existing_ids(conn: sqlite3.Connection, view: Sequence[Segment], ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are already in the view (checked through the UNIQUE indexes)."""
    found: set[str] = set()
    for seg in view:
        for i in range(0, len(ids), _ID_BATCH):
            part = ids[i : i + _ID_BATCH]
            marks = ", ".join("?" * len(part))
            if seg.branch is None:
                sql = f"SELECT event_id FROM events WHERE event_id IN ({marks}) AND seq <= ?"
                params: tuple[object, ...] = (*part, seg.hi)
            else:
                sql = (
                    "SELECT event_id FROM branch_events WHERE branch = ? "
                    f"AND event_id IN ({marks}) AND seq <= ?"
                )
                params = (seg.branch, *part, seg.hi)
            found.update(str(r[0]) for r in conn.execute(sql, params))
    return found


def write(
    conn: sqlite3.Connection,
    view: Sequence[Segment],
    items: Sequence[Prepared],
    *,
    registry: EventRegistry,
    shown: str | None,
    use_snapshots: bool,
    expect_head: int | None,
    actor: str | None,
    progress: Callable[[int], None] | None,
    cached: TwinState | None,
) -> tuple[AppendResult, TwinState]:
    """The write phase, in one ``BEGIN IMMEDIATE`` transaction (see the module docstring).

    Args:
        conn: the journal's connection (autocommit mode, no transaction open).
        view: the segments of the branch written to.
        items: the prepared events.
        registry: decodes stored payloads when folding the state at the head.
        shown: the journal's name for messages.
        use_snapshots: fold from (and write) state snapshots.
        expect_head: refuse with :class:`~twin.errors.ConflictError` unless the head is this.
        actor: the actor of events that name none.
        progress: called with the number of input events done, now and then.
        cached: a state of this view the caller lets us mutate (a head state from an
            earlier append), or None.

    Returns:
        The result and the reducer state at the new head.

    Raises:
        ConflictError: the head is not ``expect_head``.
        TwinInputError: an event the state refuses, located at its file and line.
    """
    branch = view[-1].branch
    sha256 = hashlib.sha256
    canonical = canonical_bytes
    conn.execute("BEGIN IMMEDIATE")
    try:
        recorded = utc_now()  # now that it is our turn to write
        top = head(conn, view)
        if expect_head is not None and top != expect_head:
            raise ConflictError(expect_head, top)
        supplied = [p.event_id for p in items if p.supplied]
        existing = existing_ids(conn, view, supplied) if supplied and top > 0 else set()
        last = fetch_row(conn, view, top, "hash, occurred_at") if top > 0 else None
        prev_hash: str = GENESIS_HASH if last is None else str(last[0])
        prev_occ: str | None = None if last is None else str(last[1])
        prev_raw = bytes.fromhex(prev_hash)
        if cached is not None and cached.seq > top:
            cached = None
        state, snaps = fold(
            conn,
            view,
            top,
            registry=registry,
            shown=shown,
            use_snapshots=use_snapshots,
            start=cached,
        )
        rows: list[tuple[object, ...]] = []
        add = rows.append
        seen: set[str] = set()
        seq = top
        skipped = 0
        every = snapshots.SNAPSHOT_EVERY
        for done, item in enumerate(items, start=1):
            ne = item.new
            eid = item.event_id
            occ = ne.occurred_at or prev_occ or recorded
            prev_occ = occ
            if item.supplied:
                if eid in existing or eid in seen:
                    skipped += 1
                    continue
                seen.add(eid)
            seq += 1
            event = ne.event
            data = item.data
            if type(event) is LoadChanged and event.serving is None:
                # Group load is demand (twin.demand): record what it was measured on.
                recorded_event = with_serving(state, event)
                if recorded_event is not event:
                    event = recorded_event
                    data = encode_data(event.to_data()).decode("utf-8")
            try:
                apply(state, event, seq=seq, occurred_at=occ)
            except TwinInputError as exc:
                raise exc.located(ne.source, ne.line) from None
            who = ne.actor if ne.actor is not None else actor
            # hashing.chain_hash, inlined: keeping the previous digest as bytes saves a
            # bytes.fromhex per event on the bulk-import hot path.
            digest = sha256(
                prev_raw
                + canonical(
                    seq,
                    eid,
                    item.type,
                    item.schema,
                    occ,
                    recorded,
                    who,
                    ne.reason,
                    ne.correlation_id,
                    ne.causation_id,
                    data,
                    prev_hash,
                )
            ).digest()
            new_hash = digest.hex()
            row = (
                seq,
                eid,
                item.type,
                item.schema,
                occ,
                recorded,
                who,
                ne.reason,
                ne.correlation_id,
                ne.causation_id,
                data,
                prev_hash,
                new_hash,
            )
            add(row if branch is None else (branch, *row))
            prev_hash, prev_raw = new_hash, digest
            if use_snapshots and seq % every == 0:
                blob, state_digest = snapshots.encode_state(state)
                snaps.append(snapshots.row(view, snapshots.STATE_KEY, seq, blob, state_digest))
            if progress is not None and done % PROGRESS_EVERY == 0:
                progress(done)
        conn.executemany(_MAIN_INSERT if branch is None else _BRANCH_INSERT, rows)
        if rows:
            # The head anchor: lets verify notice events missing from the end.
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (head_key(branch), f"{seq}:{prev_hash}"),
            )
        if snaps:
            snapshots.insert(conn, snaps)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if progress is not None and items and len(items) % PROGRESS_EVERY:
        progress(len(items))
    return AppendResult(top + 1, seq, len(rows), skipped), state
