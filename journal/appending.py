"""Appending events: all or nothing, validated by the reducer, hash-chained, in one transaction.

An append streams its input in batches of :data:`BATCH` events, all inside
one ``BEGIN IMMEDIATE`` transaction (the lock is taken before the head is
read), so a file of any size is imported in bounded memory:

1. check the expected head and fold the reducer state at the head;
2. for each batch: read and encode the events (an event file may still refuse
   a line here), give every event without an id a new time-ordered one, skip
   events whose id is already in the view *with the same content* (and refuse
   an id that is there with different content), apply every new event to the
   state (which refuses unknown ids, duplicates and impossible transitions),
   chain the hashes and insert the batch with one ``executemany``;
3. record the head anchor and commit.

Any error rolls the whole transaction back: nothing is half-written.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence

import attrs
import orjson

from journal import snapshots
from journal.branches import Segment, fetch_row, head
from journal.folding import fold
from journal.hashing import GENESIS_HASH, canonical_bytes, encode_data
from journal.ids import new_event_ids
from journal.results import AppendResult
from journal.schema import EVENT_COLUMNS, rollback, utc_now
from twin.demand import with_serving
from twin.errors import ConflictError, TwinInputError
from twin.event_files import NewEvent
from twin.events import EventRegistry, LoadChanged, OpaqueEvent
from twin.reducer import apply
from twin.state import TwinState

BATCH = 5000
"""Events read, checked and inserted at a time; ``progress`` is called after each batch."""

PROGRESS_EVERY = BATCH
"""``progress`` is called after every this many input events (kept for callers)."""

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


def _encode(ne: NewEvent, event_id: str | None) -> Prepared:
    """One event's stored type, schema and payload text.

    Raises:
        TwinInputError: an empty ``event_id`` or a payload that cannot be stored as JSON.
    """
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
    if event_id is None:
        return Prepared(ne, "", False, type_name, schema, data)
    if not isinstance(event_id, str) or not event_id:
        raise TwinInputError(
            "must be a non-empty string",
            field="event_id",
            value=event_id,
            source=ne.source,
            line=ne.line,
        )
    return Prepared(ne, event_id, True, type_name, schema, data)


def prepare(events: Iterable[NewEvent]) -> list[Prepared]:
    """Encode events and give those without an id a new one (a whole list at once).

    Raises:
        TwinInputError: an empty ``event_id``, or a payload that cannot be stored as JSON.
    """
    out = [_encode(ne, ne.event_id) for ne in events]
    fresh = iter(new_event_ids(sum(1 for p in out if not p.supplied)))
    return [p if p.supplied else attrs.evolve(p, event_id=next(fresh)) for p in out]


def batches(events: Iterable[NewEvent], size: int) -> Iterator[list[Prepared]]:
    """Read, encode and id the input ``size`` events at a time (the input is read lazily).

    Raises:
        TwinInputError: a bad line of an event file (raised when the batch holding
            it is read), an empty ``event_id``, or a payload that cannot be stored.
    """
    batch: list[NewEvent] = []
    for ne in events:
        batch.append(ne)
        if len(batch) >= size:
            yield prepare(batch)
            batch = []
    if batch:
        yield prepare(batch)


StoredContent = tuple[int, str, int, str, str]
"""seq, type, schema, data, occurred_at of an event already in the view."""


def existing_events(
    conn: sqlite3.Connection, view: Sequence[Segment], ids: Sequence[str]
) -> dict[str, StoredContent]:
    """Which of ``ids`` are already in the view, with what they hold (via the UNIQUE indexes)."""
    found: dict[str, StoredContent] = {}
    for seg in view:
        for i in range(0, len(ids), _ID_BATCH):
            part = ids[i : i + _ID_BATCH]
            marks = ", ".join("?" * len(part))
            columns = "event_id, seq, type, schema, data, occurred_at"
            if seg.branch is None:
                sql = f"SELECT {columns} FROM events WHERE event_id IN ({marks}) AND seq <= ?"
                params: tuple[object, ...] = (*part, seg.hi)
            else:
                sql = (
                    f"SELECT {columns} FROM branch_events WHERE branch = ? "
                    f"AND event_id IN ({marks}) AND seq <= ?"
                )
                params = (seg.branch, *part, seg.hi)
            for eid, seq, typ, schema, data, occ in conn.execute(sql, params):
                found[str(eid)] = (int(seq), str(typ), int(schema), str(data), str(occ))
    return found


def existing_ids(conn: sqlite3.Connection, view: Sequence[Segment], ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are already in the view (checked through the UNIQUE indexes)."""
    return set(existing_events(conn, view, ids))


#: Payload fields the journal may fill in at append (twin.demand records ``serving``):
#: a re-sent event that leaves them out still has the same content.
FILLED_IN_AT_APPEND: dict[str, frozenset[str]] = {"load_changed": frozenset({"serving"})}


def same_content(item: Prepared, stored: StoredContent, registry: EventRegistry) -> bool:
    """True if ``item`` says what the stored event with its id says (an idempotent re-send).

    Compared: the type, the payload (after upcasting an older stored schema; fields
    the journal fills in at append count only if the new event gives them) and
    ``occurred_at`` when the new event gives one.
    """
    _seq, typ, schema, data, occ = stored
    given_at = item.new.occurred_at
    if typ != item.type or (given_at is not None and given_at != occ):
        return False
    if schema == item.schema and data == item.data:
        return True
    try:
        old = orjson.loads(data)
        if schema != item.schema and typ in registry:
            old = registry.upcast(typ, schema, dict(old))
    except (orjson.JSONDecodeError, TwinInputError, TypeError, ValueError):
        return False
    new = orjson.loads(item.data)
    if not isinstance(old, dict):
        return False
    for name in FILLED_IN_AT_APPEND.get(typ, frozenset()):
        if name not in new:
            old.pop(name, None)
    return bool(old == new)


def _conflict(item: Prepared, stored: StoredContent, shown: str | None) -> TwinInputError:
    ne = item.new
    return TwinInputError(
        f"event_id {item.event_id!r} is already in {shown or 'the journal'} as event "
        f"{stored[0]} ({stored[1]}) with different content; an event_id names one event: "
        "give this one a new id (or none)",
        field="event_id",
        value=item.event_id,
        source=ne.source,
        line=ne.line,
    )


def write(
    conn: sqlite3.Connection,
    view: Sequence[Segment],
    events: Iterable[NewEvent],
    *,
    registry: EventRegistry,
    shown: str | None,
    use_snapshots: bool,
    expect_head: int | None,
    actor: str | None,
    progress: Callable[[int], None] | None,
    cached: TwinState | None,
) -> tuple[AppendResult, TwinState]:
    """Append ``events`` in one ``BEGIN IMMEDIATE`` transaction (see the module docstring).

    Args:
        conn: the journal's connection (autocommit mode, no transaction open).
        view: the segments of the branch written to.
        events: the events, read lazily, :data:`BATCH` at a time.
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
        TwinInputError: a bad input line, an event the state refuses or an ``event_id``
            already in the view with different content, located at its file and line.
    """
    branch = view[-1].branch
    insert = _MAIN_INSERT if branch is None else _BRANCH_INSERT
    sha256 = hashlib.sha256
    canonical = canonical_bytes
    conn.execute("BEGIN IMMEDIATE")
    try:
        recorded = utc_now()  # now that it is our turn to write
        top = head(conn, view)
        if expect_head is not None and top != expect_head:
            raise ConflictError(expect_head, top)
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
        if snaps:
            snapshots.insert(conn, snaps)
        seq = top
        skipped = 0
        done = 0
        every = snapshots.SNAPSHOT_EVERY
        for items in batches(events, BATCH):
            rows: list[tuple[object, ...]] = []
            add = rows.append
            snaps = []
            supplied = [p.event_id for p in items if p.supplied]
            # Rows of earlier batches are in the view already (same transaction).
            existing = existing_events(conn, view, supplied) if supplied and seq > 0 else {}
            seen: dict[str, Prepared] = {}
            for item in items:
                done += 1
                ne = item.new
                eid = item.event_id
                occ = ne.occurred_at or prev_occ or recorded
                prev_occ = occ
                if item.supplied:
                    stored = existing.get(eid)
                    twin_in_batch = seen.get(eid)
                    if stored is not None:
                        if not same_content(item, stored, registry):
                            raise _conflict(item, stored, shown)
                        skipped += 1
                        continue
                    if twin_in_batch is not None:
                        if not same_content(item, _as_stored(twin_in_batch), registry):
                            raise _conflict(item, _as_stored(twin_in_batch), shown)
                        skipped += 1
                        continue
                    seen[eid] = attrs.evolve(item, new=attrs.evolve(ne, occurred_at=occ))
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
            conn.executemany(insert, rows)
            if snaps:
                snapshots.insert(conn, snaps)
            if progress is not None:
                progress(done)
        if seq > top:
            # The head anchor: lets verify notice events missing from the end.
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (head_key(branch), f"{seq}:{prev_hash}"),
            )
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return AppendResult(top + 1, seq, seq - top, skipped, prev_hash), state


def _as_stored(item: Prepared) -> StoredContent:
    """An event of this batch, seen as :func:`same_content` sees a stored one."""
    return (0, item.type, item.schema, item.data, item.new.occurred_at or "")
