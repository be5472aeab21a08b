"""Appending events: all or nothing, validated by the reducer, hash-chained, in one transaction.

An append streams its input in batches of :data:`BATCH` events, all inside
one ``BEGIN IMMEDIATE`` transaction (the lock is taken before the head is
read), so a file of any size is imported in bounded memory:

1. check the expected head and fold the reducer state at the head;
2. for each batch: read and encode the events (an event file may still refuse
   a line here), give every event without an id a new time-ordered one, skip
   events whose id is already in the view *with the same content* (and refuse
   an id that is there with different content), check every new event against
   the structure of the twin (:func:`twin.reducer.apply_structure`: it refuses
   unknown ids, duplicates and impossible transitions; loads, which nothing
   refuses, are left for readers to fold: a load of a known member or group is
   stored without going through the reducer, and the ``serving`` count of a group
   load is kept until the structure changes),
   chain the hashes and insert the batch with one ``executemany``;
3. record the head anchor and commit.

Any error rolls the whole transaction back: nothing is half-written.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs
import orjson

from journal import snapshots
from journal.branches import Segment, fetch_row, head
from journal.folding import fold
from journal.hashing import GENESIS_HASH, canonical_bytes, encode_data
from journal.ids import new_event_ids
from journal.results import AppendResult
from journal.schema import EVENT_COLUMNS, rollback, utc_now
from twin.bulk import quiet_gc
from twin.demand import serving_count
from twin.errors import ConflictError, TwinInputError
from twin.event_files import NewEvent
from twin.events import EventRegistry, LoadChanged, OpaqueEvent
from twin.reducer import apply_structure as check
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


def _encode(ne: NewEvent, event_id: str | None, generated: str = "") -> Prepared:
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
        return Prepared(ne, generated, False, type_name, schema, data)
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
    items = events if isinstance(events, list) else list(events)
    fresh = iter(new_event_ids(sum(1 for ne in items if ne.event_id is None)))
    return [
        _encode(ne, None, next(fresh)) if ne.event_id is None else _encode(ne, ne.event_id)
        for ne in items
    ]


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
    with quiet_gc():  # thousands of short-lived objects per batch, none in a cycle
        return _write(
            conn,
            view,
            events,
            registry=registry,
            shown=shown,
            use_snapshots=use_snapshots,
            expect_head=expect_head,
            actor=actor,
            progress=progress,
            cached=cached,
        )


def _write(
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
    branch = view[-1].branch
    writer = _Writer(conn, _MAIN_INSERT if branch is None else _BRANCH_INSERT)
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
            structure=True,
        )
        if snaps:
            snapshots.insert(conn, snaps)
        seq = top
        skipped = 0
        serving: dict[int, int] = {}  # group → serving count, until the structure changes
        load_schema = LoadChanged.schema
        done = 0
        every = snapshots.STRUCTURE_EVERY
        for chunk in _chunks(events, BATCH):
            rows: list[tuple[object, ...]] = []
            add = rows.append
            snaps = []
            fresh = iter(new_event_ids(sum(1 for ne in chunk if ne.event_id is None)))
            supplied = [_given_id(ne) for ne in chunk if ne.event_id is not None]
            existing: dict[str, StoredContent] = {}
            if supplied and seq > 0:
                writer.wait()  # rows of earlier batches are in the view (same transaction)
                existing = existing_events(conn, view, supplied)
            seen: dict[str, NewEvent] = {}
            for ne in chunk:
                done += 1
                given = ne.event_id
                occ = ne.occurred_at or prev_occ or recorded
                prev_occ = occ
                if given is not None:
                    eid = given
                    stored = existing.get(eid)
                    first = seen.get(eid)
                    if stored is not None or first is not None:
                        item = _encode(ne, eid)
                        if stored is not None:
                            against = stored
                        else:
                            assert first is not None
                            against = _as_stored(first, eid)
                        if not same_content(item, against, registry):
                            raise _conflict(item, against, shown)
                        skipped += 1
                        continue
                    seen[eid] = attrs.evolve(ne, occurred_at=occ)
                else:
                    eid = next(fresh)
                seq += 1
                event = ne.event
                load = _load_data(event, state) if type(event) is LoadChanged else None
                if load is not None:
                    # A known member's or group's load: checked above, left to readers to fold.
                    type_name, schema, payload = "load_changed", load_schema, load
                    group = load.get("group")
                    if group is not None and "serving" not in load:
                        _record_serving(payload, group, state, serving)
                    state.seq = seq  # what apply_structure does with a load it checked
                    state.occurred_at = occ
                else:
                    if type(event) is OpaqueEvent:
                        type_name, schema = event.original_type, 1
                    else:
                        type_name, schema = event.event_type, type(event).schema
                    payload = event.to_data()
                    if (
                        type(event) is LoadChanged
                        and event.group is not None
                        and event.serving is None
                    ):
                        _record_serving(payload, event.group, state, serving)
                try:
                    data = encode_data(payload).decode("utf-8")
                except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
                    raise TwinInputError(
                        f"cannot be stored as JSON: {exc}",
                        field="data",
                        source=ne.source,
                        line=ne.line,
                    ) from None
                if load is None:
                    try:
                        check(state, event, seq=seq, occurred_at=occ)
                    except TwinInputError as exc:
                        raise exc.located(ne.source, ne.line) from None
                    serving.clear()  # the structure may have changed
                who = ne.actor if ne.actor is not None else actor
                # hashing.chain_hash, inlined: keeping the previous digest as bytes saves a
                # bytes.fromhex per event on the bulk-import hot path.
                digest = sha256(
                    prev_raw
                    + canonical(
                        seq,
                        eid,
                        type_name,
                        schema,
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
                    type_name,
                    schema,
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
                    snaps.append(
                        snapshots.row(view, snapshots.STRUCTURE_KEY, seq, blob, state_digest)
                    )
            writer.insert(rows)
            if snaps:
                writer.wait()
                snapshots.insert(conn, snaps)
            if progress is not None:
                progress(done)
        writer.wait()
        if seq > top:
            # The head anchor: lets verify notice events missing from the end.
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (head_key(branch), f"{seq}:{prev_hash}"),
            )
        conn.execute("COMMIT")
    except BaseException:
        writer.close()  # nothing may still run on the connection when it rolls back
        rollback(conn)
        raise
    finally:
        writer.close()
    return AppendResult(top + 1, seq, seq - top, skipped, prev_hash), state


class _Writer:
    """Inserts batches of rows, from the second batch on in a thread of its own.

    ``sqlite3`` lets go of the GIL while SQLite executes, so the rows of one
    batch go into the table while the next batch is read, checked and hashed.
    The connection is used by one thread at a time: :meth:`wait` before any
    other use of it.
    """

    def __init__(self, conn: sqlite3.Connection, sql: str) -> None:
        self.conn = conn
        self.sql = sql
        self.batches = 0
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future[Any] | None = None

    def insert(self, rows: list[tuple[object, ...]]) -> None:
        """Insert ``rows`` after the batch before them (in the background from the second)."""
        self.wait()
        self.batches += 1
        if self.batches == 1:
            self.conn.executemany(self.sql, rows)  # a small append needs no thread
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(1, thread_name_prefix="twin-insert")
        self.pending = self.pool.submit(self.conn.executemany, self.sql, rows)

    def wait(self) -> None:
        """Wait for the batch being inserted (re-raising what it raised)."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Let the batch being inserted finish (errors ignored) and stop the thread."""
        pending, self.pending = self.pending, None
        if pending is not None:
            with contextlib.suppress(BaseException):
                pending.result()
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None


def _as_stored(first: NewEvent, event_id: str) -> StoredContent:
    """An event earlier in this batch, seen as :func:`same_content` sees a stored one."""
    item = _encode(first, event_id)
    return (0, item.type, item.schema, item.data, first.occurred_at or "")


def _record_serving(
    payload: dict[str, Any], group: int, state: TwinState, known: dict[int, int]
) -> None:
    """Group load is demand (:mod:`twin.demand`): record the serving count it was measured on.

    ``known`` keeps each group's count until the structure changes (the caller clears it).
    """
    count = known.get(group)
    if count is None:
        count = known[group] = serving_count(state, group)
    if count >= 1:
        payload["serving"] = count


def _load_data(event: LoadChanged, state: TwinState) -> dict[str, Any] | None:
    """A load's payload (``event.to_data()``) if ``state`` knows its member or group, else None.

    The import's hot path: a load the structure knows is all that
    :func:`twin.reducer.apply_structure` checks of it. None (an unknown id, or a value
    that is not a plain number) sends it to the general path, which explains.
    """
    member, group = event.member, event.group
    if member is not None:
        if member not in state.members:
            return None
        out: dict[str, Any] = {"member": member}
    elif group in state.groups:
        out = {"group": group}
    else:
        return None
    if group is not None and member is not None:
        return None
    for name, value in (
        ("connections", event.connections),
        ("cps", event.cps),
        ("cpu_pct", event.cpu_pct),
        ("throughput_gbps", event.throughput_gbps),
        ("serving", event.serving),
    ):
        if value is not None:
            if type(value) is not float and type(value) is not int:
                return None
            out[name] = value
    return out


def _chunks(events: Iterable[NewEvent], size: int) -> Iterator[list[NewEvent]]:
    """The input ``size`` events at a time (read lazily: a bad line raises when reached)."""
    chunk: list[NewEvent] = []
    for ne in events:
        chunk.append(ne)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _given_id(ne: NewEvent) -> str:
    """A producer-supplied ``event_id``, checked.

    Raises:
        TwinInputError: not a non-empty string.
    """
    eid = ne.event_id
    if not isinstance(eid, str) or not eid:
        raise TwinInputError(
            "must be a non-empty string",
            field="event_id",
            value=eid,
            source=ne.source,
            line=ne.line,
        )
    return eid
