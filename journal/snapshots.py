"""Snapshots: a disposable cache of folded results, keyed by code version.

A snapshot row is ``(key, branch, seq, digest, blob)``: whatever the key's
owner folded from events ``1..seq`` of a view. Keys are opaque here (the
engine uses ``engine:<code-version>:<fingerprint>``); the journal itself owns
:data:`STATE_KEY`, the reducer state. A snapshot is stored under the branch
that owns its seq (``''`` for the main line), so a branch also finds its
parent's snapshots up to the fork point. Dropping snapshots never loses
anything: they are rebuilt by replaying the events.

Snapshots are plain data and sealed (:mod:`journal.cache_seal`): the table is
outside the hash chain and a journal may come from a stranger, so a blob is
only ever read back if this user's twin wrote it for that very row, and what
it holds is data (compressed JSON), validated when loaded — never code. A row
that does not open is passed over for an older one, and rebuilt.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterable, Sequence

import orjson

import twin
from journal.branches import Segment, segment_of
from journal.cache_seal import seal, unseal
from journal.schema import rollback, utc_now
from twin.snapshot_codec import compress, decompress
from twin.state import TwinState
from twin.state_data import from_canonical

SNAPSHOT_EVERY = 1000
"""The reducer state is snapshotted at every seq that is a multiple of this.

From the seek budget: the reducer folds ~30 k events/s with 12-member groups, so
reaching any seq replays at most ~1,000 events (~30 ms) after a ~10 KB restore.
"""

STATE_FOLD_REVISION = 3
"""Bump when the reducer's behaviour or :class:`~twin.state.TwinState`'s layout changes."""

STATE_KEY = f"state:{twin.__version__}+{STATE_FOLD_REVISION}"
"""The snapshot key of the reducer state (stale keys are simply never read)."""

STRUCTURE_EVERY = 10_000
"""The structure (see :data:`STRUCTURE_KEY`) is snapshotted at every multiple of this: it
folds several times faster than the state, so snapshots may be ten times sparser."""

STRUCTURE_KEY = f"structure:{twin.__version__}+{STATE_FOLD_REVISION}"
"""The snapshot key of the structure appends check against (:func:`twin.reducer.apply_structure`:
loads not folded). Never read as the twin's state."""

SnapshotRow = tuple[str, str, int, str, bytes, str]
"""key, branch ('' = main), seq, digest, blob, created_at."""

_INSERT = (
    "INSERT OR REPLACE INTO snapshots (key, branch, seq, digest, blob, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def owner(view: Sequence[Segment], seq: int) -> str | None:
    """The ``branch`` column a snapshot at ``seq`` of this view is stored under (None: none)."""
    seg = segment_of(view, seq)
    if seg is None:
        return None
    return seg.branch or ""


def _context(key: str, branch: str, seq: int) -> str:
    return f"{key}\x00{branch}\x00{seq}"


def row(view: Sequence[Segment], key: str, seq: int, blob: bytes, digest: str) -> SnapshotRow:
    """A snapshot row for ``seq`` of this view, its blob sealed for that row.

    Raises:
        ValueError: ``seq`` is not in the view.
    """
    branch = owner(view, seq)
    if branch is None:
        raise ValueError(f"seq {seq} is not in this view")
    return (key, branch, seq, digest, seal(_context(key, branch, seq), blob), utc_now())


def insert(conn: sqlite3.Connection, rows: Iterable[SnapshotRow]) -> None:
    """Write snapshot rows (replacing any with the same key, branch and seq); no transaction."""
    conn.executemany(_INSERT, rows)


KEYS_KEPT = 3
"""Keys of each kind (``state``, ``engine``, ``history``...) whose snapshots a journal keeps.

A key is one code version with one profile and set of plugins: each profile a user
replays with adds a full set of snapshots. Writing snapshots for a key evicts the
keys of its kind written least recently beyond this many, so the cache stays
bounded whatever the number of profiles tried.
"""


def kind_of(key: str) -> str:
    """A snapshot key's kind: the text before its first ``:`` (``engine``, ``state``...)."""
    return key.partition(":")[0]


def evict(conn: sqlite3.Connection, written: Iterable[str], keep: int = KEYS_KEPT) -> int:
    """Drop the snapshots of the keys of each kind beyond the ``keep`` written last; no transaction.

    The keys just ``written`` are always kept, whatever the other rows claim about
    when they were written (the table is a stranger's too).

    Returns:
        How many rows were deleted.
    """
    fresh = set(written)
    newest: dict[str, list[tuple[str, str]]] = {}
    for key, created in conn.execute("SELECT key, MAX(created_at) FROM snapshots GROUP BY key"):
        if key in fresh:
            continue
        newest.setdefault(kind_of(str(key)), []).append((str(created), str(key)))
    stale: list[str] = []
    for kind, keys in newest.items():
        room = max(0, keep - sum(1 for k in fresh if kind_of(k) == kind))
        stale += [key for _created, key in sorted(keys, reverse=True)[room:]]
    deleted = 0
    for key in stale:
        deleted += conn.execute("DELETE FROM snapshots WHERE key = ?", (key,)).rowcount
    return deleted


def try_insert(conn: sqlite3.Connection, rows: Sequence[SnapshotRow]) -> bool:
    """Write snapshot rows in a short transaction of their own, if the journal lets us.

    A reader must not fail because it cannot write a cache: a busy or read-only
    journal just means the snapshots are not saved this time. Keys of the same
    kind written least recently beyond :data:`KEYS_KEPT` are evicted.

    Returns:
        True if they were written.
    """
    if not rows or conn.in_transaction:
        return False
    previous = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute("PRAGMA busy_timeout = 200")
    try:
        conn.execute("BEGIN IMMEDIATE")
        insert(conn, rows)
        evict(conn, {r[0] for r in rows})
        conn.execute("COMMIT")
        return True
    except sqlite3.Error:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {previous}")


def load(
    conn: sqlite3.Connection, view: Sequence[Segment], key: str, at_or_before: int
) -> tuple[int, bytes, str] | None:
    """The newest snapshot of ``key`` in this view with seq <= ``at_or_before`` that opens.

    Rows whose seal does not open (written elsewhere, edited, moved, or not a
    blob at all) are passed over, as if they were absent.

    Returns:
        ``(seq, blob, digest)`` with the blob unsealed, or None.
    """
    for seg in reversed(view):
        hi = min(seg.hi, at_or_before)
        branch = seg.branch or ""
        while hi >= seg.lo:
            found = conn.execute(
                "SELECT seq, blob, digest FROM snapshots WHERE key = ? AND branch = ? "
                "AND seq BETWEEN ? AND ? ORDER BY seq DESC LIMIT 1",
                (key, branch, seg.lo, hi),
            ).fetchone()
            if found is None:
                break
            seq, blob, digest = found
            if isinstance(seq, int) and isinstance(blob, bytes) and isinstance(digest, str):
                payload = unseal(_context(key, branch, seq), blob)
                if payload is not None:
                    return seq, payload, digest
            if not isinstance(seq, int):
                break
            hi = seq - 1
    return None


def drop(conn: sqlite3.Connection, key: str | None) -> int:
    """Delete the snapshots of ``key`` (all of them for None), in one transaction.

    Returns:
        How many were deleted.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        if key is None:
            cursor = conn.execute("DELETE FROM snapshots")
        else:
            cursor = conn.execute("DELETE FROM snapshots WHERE key = ?", (key,))
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return int(cursor.rowcount)


def encode_state(state: TwinState) -> tuple[bytes, str]:
    """A reducer state as a snapshot: ``(compressed JSON of its canonical data, digest)``."""
    canonical = state.to_canonical()
    data = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)
    # The same bytes TwinState.digest() hashes, so the digest costs no second encoding.
    return compress(data), hashlib.sha256(data).hexdigest()


def decode_state(blob: bytes, digest: str) -> TwinState | None:
    """The state in a snapshot blob, or None if it is not valid state data or not what it claims.

    The blob is data: decompressed, parsed as JSON and rebuilt into a graph by
    :func:`twin.state_data.from_canonical`, which validates it like any input.
    """
    try:
        state = from_canonical(orjson.loads(decompress(blob)))
        if state.digest() != digest:
            return None
    except (ValueError, KeyError, TypeError):
        return None
    return state


def newest_state(
    conn: sqlite3.Connection,
    view: Sequence[Segment],
    at_or_before: int,
    *,
    above: int = 0,
    key: str = STATE_KEY,
) -> TwinState | None:
    """The newest restorable reducer-state snapshot with ``above < seq <= at_or_before``.

    A snapshot that does not open, validate or match its digest is passed
    over for the next older one.

    Args:
        conn: the journal's connection.
        view: the view's segments.
        at_or_before: the newest seq wanted.
        above: only snapshots newer than this.
        key: :data:`STATE_KEY` (the twin) or :data:`STRUCTURE_KEY` (what appends check).

    Returns:
        The restored state, or None if there is none newer than ``above``.
    """
    limit = at_or_before
    while limit > above:
        found = load(conn, view, key, limit)
        if found is None or found[0] <= above:
            return None
        seq, blob, digest = found
        state = decode_state(blob, digest)
        if state is not None and state.seq == seq:
            return state
        limit = seq - 1
    return None
