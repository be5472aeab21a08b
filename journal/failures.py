"""SQLite failures, said in one line: read-only files, full disks, held locks, damaged files.

SQLite keeps every write atomic when the disk fills, the file is read-only or
another writer holds the lock too long; what reached users was a
``sqlite3.OperationalError`` traceback. :func:`translate` turns each into the
twin's own error: :class:`~twin.errors.TwinInputError` (exit 2) for a file or
place the journal cannot be written to, :class:`~twin.errors.JournalLockedError`
(exit 1) for a lock timeout, naming the process that holds the lock when the
operating system can tell (Linux ``/proc/locks``).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twin.errors import JournalLockedError, TwinError, TwinInputError
from twin.textsafe import safe_text

# Primary result codes (https://sqlite.org/rescode.html).
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26

_WAL_WRITE_LOCK = 120  # the byte of the -shm file a WAL writer locks


def code_of(exc: sqlite3.Error) -> int | None:
    """The primary SQLite result code of ``exc`` (None when SQLite did not give one)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def lock_holders(path: str | Path) -> list[int]:
    """Other processes holding a write lock on the journal (Linux; empty elsewhere).

    A WAL writer locks one byte of the ``-shm`` file; a writer in rollback mode
    locks the database file itself.
    """
    inodes: dict[int, bool] = {}
    for candidate, is_shm in ((Path(path), False), (Path(f"{path}-shm"), True)):
        try:
            inodes[os.stat(candidate).st_ino] = is_shm
        except OSError:
            continue
    try:
        lines = Path("/proc/locks").read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return []
    holders: list[int] = []
    me = os.getpid()
    for line in lines:
        parts = line.split()
        # "1: POSIX  ADVISORY  WRITE 12345 fd:01:1234567 120 120" ("->" marks a waiter)
        if len(parts) < 8 or parts[1] == "->" or parts[3] != "WRITE":
            continue
        try:
            pid, inode = int(parts[4]), int(parts[5].rsplit(":", 1)[1])
            start, end = int(parts[6]), parts[7]
        except (ValueError, IndexError):
            continue
        if inode not in inodes or pid == me or pid in holders:
            continue
        if inodes[inode]:
            stop = None if end == "EOF" else int(end)
            if not start <= _WAL_WRITE_LOCK <= (stop if stop is not None else _WAL_WRITE_LOCK):
                continue
        holders.append(pid)
    return holders


ROOM_NEEDED = 64 * 1024
"""Free bytes below which a disk counts as full: SQLite cannot make a WAL journal's
``-shm`` (32 KiB) or grow its ``-wal``, and reports an I/O error rather than a full disk."""


def disk_full(path: str | Path) -> bool:
    """True if the disk holding the file ``path`` has (almost) no room left."""
    try:
        stats = os.statvfs(Path(path).parent)
    except (OSError, AttributeError):  # no statvfs (Windows), or no such folder
        return False
    return stats.f_bavail * stats.f_frsize < ROOM_NEEDED


def describe_process(pid: int) -> str:
    """``process 1234 (twin import prod.db big.jsonl)``, or just the pid."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"process {pid}"
    command = " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)
    if len(command) > 80:
        command = command[:79] + "…"
    return f"process {pid} ({safe_text(command)})" if command else f"process {pid}"


def translate(exc: sqlite3.Error, shown: str | None, *, wait: float | None = None) -> TwinError:
    """The twin's error for an SQLite failure on the journal ``shown``.

    Args:
        exc: what SQLite raised.
        shown: the journal's name for messages (None: in memory).
        wait: the lock timeout that ran out, in seconds, for a lock error.
    """
    code = code_of(exc)
    text = str(exc)
    if code in (SQLITE_BUSY, SQLITE_LOCKED) or "database is locked" in text:
        holders = lock_holders(shown) if shown else []
        who = f"; held by {', '.join(describe_process(p) for p in holders)}" if holders else ""
        waited = f" after waiting {wait:g} s" if wait is not None else ""
        return JournalLockedError(
            f"{shown or 'the journal'}: another writer holds the journal's lock{who}; gave up"
            f"{waited} and wrote nothing. Try again, or wait longer with --wait SECONDS",
        )
    if code == SQLITE_READONLY or "readonly database" in text:
        problem = (
            "cannot write: the journal is read-only (file permissions, a read-only folder "
            "or read-only media); nothing was written"
        )
    elif (
        code == SQLITE_FULL
        or "disk is full" in text
        or (code == SQLITE_IOERR and shown is not None and disk_full(shown))
    ):
        problem = (
            "cannot write: the disk is full; nothing was written (free some space, "
            "or use a journal on another disk)"
        )
    elif code == SQLITE_PERM:
        problem = f"cannot write: permission denied ({text}); nothing was written"
    elif code == SQLITE_CANTOPEN:
        problem = (
            "cannot open the journal's files (is its folder writable, and the disk "
            f"mounted?): {text}"
        )
    elif "Could not decode to UTF-8" in text:
        problem = (
            "the journal holds text that is not UTF-8 (a damaged file, or rows written by "
            "another tool); restore it from a copy"
        )
    elif code in (SQLITE_CORRUPT, SQLITE_NOTADB) or "malformed" in text:
        problem = (
            f"the journal file is damaged ({text}); restore it from a copy "
            "(`twin verify` on a copy shows how far it is intact)"
        )
    elif code == SQLITE_IOERR:
        problem = f"input/output error on the journal's disk ({text}); nothing was written"
    else:
        problem = f"SQLite refused: {text}"
    return TwinInputError(problem, source=shown)


@contextmanager
def sqlite_failures(shown: str | None, *, wait: float | None = None) -> Iterator[None]:
    """Turn SQLite errors raised inside the block into the twin's one-line errors."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, shown, wait=wait) from None
