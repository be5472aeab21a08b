"""A journal as one self-contained file: what to copy, mail or archive.

A journal is written in WAL mode: recent events may live in ``J.db-wal``
until SQLite checkpoints them into ``J.db``. Copying only ``J.db`` of a
journal in use, or after a crash, can lose them. :func:`export` makes a
consistent copy through SQLite's online backup (which includes what is still
in the WAL), switches the copy to a rollback journal so it is one file, and
renames it into place only when it is complete. The copy reads anywhere,
read-only media included.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from journal.failures import translate
from twin.errors import TwinInputError


def export(
    conn: sqlite3.Connection, shown: str | None, target: str | Path, *, keep_snapshots: bool
) -> Path:
    """Write a checkpointed single-file copy of the journal behind ``conn`` to ``target``.

    Args:
        conn: the journal's connection (no transaction open).
        shown: the journal's name for messages.
        target: the new file; it must not exist.
        keep_snapshots: keep the snapshot cache (sealed for this user, so of no use
            to anyone else; dropped by default, which makes the copy smaller).

    Returns:
        The path written.

    Raises:
        TwinInputError: ``target`` exists or cannot be written (nothing is left behind).
    """
    out = Path(target)
    if out.exists():
        raise TwinInputError("already exists; choose a new file name", source=str(out))
    if not out.parent.is_dir():
        raise TwinInputError(f"no such folder {str(out.parent)!r}", source=str(out))
    partial = out.with_name(f".{out.name}.partial-{os.getpid()}")
    try:
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            conn.backup(copy)
            if not keep_snapshots:
                copy.execute("DELETE FROM snapshots")
            copy.execute("PRAGMA journal_mode = DELETE")
            if not keep_snapshots:
                copy.execute("VACUUM")
        finally:
            copy.close()
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.link(partial, out)  # refuses to replace a file that appeared meanwhile
    except sqlite3.Error as exc:
        raise translate(exc, str(out)) from None
    except FileExistsError:
        raise TwinInputError("already exists; choose a new file name", source=str(out)) from None
    except OSError as exc:
        raise TwinInputError(f"cannot write the copy: {exc.strerror}", source=str(out)) from None
    finally:
        for leftover in (partial, Path(f"{partial}-journal")):
            with contextlib.suppress(OSError):
                leftover.unlink()
    return out
