"""The journal's schema migrations (sqlite-utils), in the order they run.

sqlite-utils itself loads when the first journal is opened, not when this module
is imported, so commands that never open one (``twin --help``) do not pay for it.
A new migration is a new function added at the end of :data:`STEPS`; never edit
one that shipped (journals out there were made by it).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from journal.format import FORMAT, FORMAT_VERSION, utc_now

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations


def pending(conn: sqlite3.Connection) -> bool:
    """True if ``conn``'s journal lacks a migration this code has."""
    return bool(_migrations().pending(_database(conn)))


def apply(conn: sqlite3.Connection) -> None:
    """Run the pending migrations (the caller holds the write transaction)."""
    _migrations().apply(_database(conn))


def _database(conn: sqlite3.Connection) -> Database:
    from sqlite_utils import Database

    return Database(conn, execute_plugins=False, recursive_triggers=False)


@functools.cache
def _migrations() -> Migrations:
    from sqlite_utils.migrations import Migrations

    migrations = Migrations("maestro_twin.journal")
    for name, step in STEPS:
        migrations(name=name)(step)
    return migrations


# The envelope columns as 0001 created them (frozen: queries name their columns, in
# twin.envelope.ENVELOPE_FIELDS order; a new column is a new migration).
_EVENT_COLUMNS_0001 = """
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    schema INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT,
    reason TEXT,
    correlation_id TEXT,
    causation_id TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL"""


def _initial(db: Database) -> None:
    db.executescript(
        f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,{_EVENT_COLUMNS_0001},
            UNIQUE (event_id)
        );
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'journal events are append-only: UPDATE refused'); END;
        CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'journal events are append-only: DELETE refused'); END;

        CREATE TABLE branches (
            name TEXT PRIMARY KEY,
            parent TEXT REFERENCES branches(name),
            fork_seq INTEGER NOT NULL CHECK (fork_seq >= 0),
            created_at TEXT NOT NULL
        );
        CREATE TRIGGER branches_no_update BEFORE UPDATE ON branches
        BEGIN SELECT RAISE(ABORT, 'branches are append-only: UPDATE refused'); END;
        CREATE TRIGGER branches_no_delete BEFORE DELETE ON branches
        BEGIN SELECT RAISE(ABORT, 'branches are append-only: DELETE refused'); END;

        CREATE TABLE branch_events (
            branch TEXT NOT NULL REFERENCES branches(name),
            seq INTEGER NOT NULL,{_EVENT_COLUMNS_0001},
            PRIMARY KEY (branch, seq),
            UNIQUE (branch, event_id)
        ) WITHOUT ROWID;
        CREATE TRIGGER branch_events_no_update BEFORE UPDATE ON branch_events
        BEGIN SELECT RAISE(ABORT, 'journal events are append-only: UPDATE refused'); END;
        CREATE TRIGGER branch_events_no_delete BEFORE DELETE ON branch_events
        BEGIN SELECT RAISE(ABORT, 'journal events are append-only: DELETE refused'); END;

        CREATE TABLE snapshots (
            key TEXT NOT NULL,
            branch TEXT NOT NULL DEFAULT '',
            seq INTEGER NOT NULL,
            digest TEXT NOT NULL,
            blob BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (key, branch, seq)
        );
        """
    )
    db.table("meta").insert_all(
        [
            {"key": "format", "value": FORMAT},
            {"key": "format_version", "value": str(FORMAT_VERSION)},
            {"key": "created_at", "value": utc_now()},
        ]
    )


STEPS: tuple[tuple[str, Callable[[Database], None]], ...] = (("0001_initial", _initial),)
"""Every migration, in the order it runs: (name recorded in ``_sqlite_migrations``, function)."""
