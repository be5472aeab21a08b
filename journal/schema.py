"""The journal file: connection settings, the schema, and when to migrate it.

The schema is created and evolved with sqlite-utils migrations
(:mod:`journal.migrations`, which loads sqlite-utils only when a journal is
opened; the ``_sqlite_migrations`` table records which have run). The ``meta`` table marks
a file as a twin journal. Events live in ``events`` (the main line) and
``branch_events`` (what-if branches); triggers refuse UPDATE and DELETE on
both. Snapshots are derived data in their own table and may be dropped.
"""

from __future__ import annotations

import contextlib
import sqlite3

from journal import migrations
from journal.format import FORMAT, FORMAT_VERSION, utc_now
from twin.envelope import ENVELOPE_FIELDS
from twin.errors import TwinInputError

__all__ = [  # FORMAT, FORMAT_VERSION and utc_now are read from here too
    "BUSY_TIMEOUT_S",
    "EVENT_COLUMNS",
    "FORMAT",
    "FORMAT_VERSION",
    "connect",
    "prepare",
    "rollback",
    "utc_now",
]

BUSY_TIMEOUT_S = 60.0
"""How long a writer waits for another writer's transaction before giving up."""

EVENT_COLUMNS = ENVELOPE_FIELDS
"""The stored envelope columns, in the order every query selects and inserts them.

The one definition of that order is :data:`twin.envelope.ENVELOPE_FIELDS`; the
tables themselves are what the migrations created, and queries name their columns.
"""


def connect(path: str, *, wait: float | None = None, uri: bool = False) -> sqlite3.Connection:
    """Open a connection with the journal's settings (transactions are managed explicitly).

    The connection runs in autocommit mode (``isolation_level=None``): every write
    path opens its own ``BEGIN IMMEDIATE`` transaction.

    Args:
        path: the file (or an SQLite ``file:`` URI when ``uri``).
        wait: seconds a write waits for another writer's lock (default
            :data:`BUSY_TIMEOUT_S`).
        uri: ``path`` is a ``file:`` URI (e.g. ``?immutable=1`` for read-only media).
    """
    conn = sqlite3.connect(
        path,
        timeout=BUSY_TIMEOUT_S if wait is None else wait,
        isolation_level=None,
        check_same_thread=False,
        uri=uri,
    )
    return conn


def rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any; a failing rollback (a disk gone bad) is
    left to SQLite, which rolls back on its own, so the original error is the one reported."""
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


_CANNOT_REACH = frozenset({3, 5, 6, 8, 10, 13, 14})
"""SQLite codes (PERM, BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN) that say nothing
about whether the file is a journal."""


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(r[0]) for r in rows}


def _meta(conn: sqlite3.Connection) -> dict[str, str]:
    """The ``format`` and ``format_version`` rows of ``meta``.

    Only those: the other rows (head anchors) are verify's to judge, and an edited one,
    even one whose text is not UTF-8, must not stop the journal from opening.
    """
    rows = conn.execute(
        "SELECT CAST(key AS BLOB), CAST(value AS BLOB) FROM meta "
        "WHERE key IN ('format', 'format_version')"
    ).fetchall()
    return {_text(k): _text(v) for k, v in rows}


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _check_meta(conn: sqlite3.Connection, shown: str) -> None:
    meta = _meta(conn)
    if meta.get("format") != FORMAT:
        raise TwinInputError("not a twin journal (its meta table is not a twin's)", source=shown)
    try:
        version = int(meta.get("format_version", ""))
    except ValueError:
        raise TwinInputError("not a twin journal (no format version)", source=shown) from None
    if version > FORMAT_VERSION:
        raise TwinInputError(
            f"journal format {version} is newer than this twin reads ({FORMAT_VERSION}); "
            "upgrade maestro-twin",
            source=shown,
        )


def _migrate(conn: sqlite3.Connection, *, create: bool, shown: str) -> None:
    """Create or evolve the schema in one ``BEGIN IMMEDIATE`` transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        tables = _tables(conn)  # again, now that no other writer can change them
        if "meta" not in tables:
            if not create:
                raise TwinInputError("not a twin journal (no meta table)", source=shown)
            if tables - {"_sqlite_migrations"}:
                raise TwinInputError(
                    "not a twin journal (an SQLite file with other tables)", source=shown
                )
        else:
            _check_meta(conn, shown)
        migrations.apply(conn)
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise


def prepare(conn: sqlite3.Connection, shown: str, *, create: bool, read_only: bool = False) -> None:
    """Check that ``conn`` holds a twin journal (creating one if asked) and set it up.

    Args:
        conn: a connection from :func:`connect`.
        shown: the file name to show in messages.
        create: initialise an empty file as a new journal.
        read_only: the connection must not write (``PRAGMA query_only``): check only,
            never switch the journal mode or migrate.

    Raises:
        TwinInputError: not an SQLite file, not a twin journal, or a newer format
            (or, read-only, a journal that needs a migration first).
    """
    try:
        tables = _tables(conn)
    except sqlite3.DatabaseError as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in _CANNOT_REACH:
            raise  # the file is fine, its place is not: the caller explains (read-only media)
        if code == 11:  # SQLITE_CORRUPT: an SQLite file, damaged (truncated, overwritten)
            raise TwinInputError(
                f"the journal file is damaged ({exc}); restore it from a copy", source=shown
            ) from None
        raise TwinInputError(f"not a twin journal ({exc})", source=shown) from None
    if "meta" in tables:
        _check_meta(conn, shown)
    elif not create:
        raise TwinInputError("not a twin journal (no meta table)", source=shown)
    if read_only:
        if migrations.pending(conn):
            raise TwinInputError(
                "this journal needs a schema upgrade, which a read-only open does not make; "
                "run any writing twin command on it once (e.g. `twin snapshots`)",
                source=shown,
            )
        return
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    if mode not in ("wal", "memory"):
        # A read-only file keeps its mode (an exported copy on read-only media).
        with contextlib.suppress(sqlite3.OperationalError):
            conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    if "meta" not in tables or migrations.pending(conn):
        _migrate(conn, create=create, shown=shown)
