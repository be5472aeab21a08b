"""The journal's schema migrations (sqlite-utils), in the order they run.

Imported by :mod:`journal.schema` when a journal is opened, so that sqlite-utils
is not loaded by commands that never open one (``twin --help``). A new
migration is a new decorated function at the end; never edit one that shipped.
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from journal.schema import COLUMN_DDL, FORMAT, FORMAT_VERSION, utc_now

MIGRATIONS = Migrations("maestro_twin.journal")


def _database(conn: sqlite3.Connection) -> Database:
    return Database(conn, execute_plugins=False, recursive_triggers=False)


def pending(conn: sqlite3.Connection) -> bool:
    """True if ``conn``'s journal lacks a migration this code has."""
    return bool(MIGRATIONS.pending(_database(conn)))


def apply(conn: sqlite3.Connection) -> None:
    """Run the pending migrations (the caller holds the write transaction)."""
    MIGRATIONS.apply(_database(conn))


@MIGRATIONS(name="0001_initial")
def _initial(db: Database) -> None:
    db.executescript(
        f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,{COLUMN_DDL},
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
            seq INTEGER NOT NULL,{COLUMN_DDL},
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
