"""Verifying a journal: every line's hash chain, its head anchor, and a head recorded elsewhere.

A journal has lines: the main line and every what-if branch. :func:`verify_view`
checks one view (the main line, or a branch with its parent's prefix) from
seq 1. :func:`verify_all` checks every line once: the main line, then each
branch's own rows chained from its parent's row at the fork, so shared rows
are hashed once however many branches there are. A branch whose parents are
missing or form a cycle (a ``branches`` table edited by hand) is reported as
broken; the other lines are still checked.

Tamper evidence and its limits: a row edited, deleted or inserted in the
middle breaks the chain; rows deleted from the end are caught by the head
anchor (``meta``) written by every append. Someone who rewrites the tail
*and* the anchor leaves a valid journal behind: only a head recorded
elsewhere catches that (``twin import`` prints the head; ``twin verify
--head`` checks the journal still holds it): :func:`check_recorded_head`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from journal import appending, branches
from journal.branches import Segment
from journal.hashing import GENESIS_HASH, ChainCursor, check_rows
from journal.reading import COLUMNS_SQL, iter_raw
from journal.results import VerifyResult
from twin.errors import TwinInputError

Progress = Callable[[int], None]

_HEAD = re.compile(r"(?:#?(?P<seq>[0-9]+):)?(?P<hash>[0-9a-fA-F]{64})")


def _not_utf8(exc: sqlite3.Error) -> bool:
    """True for what sqlite3 raises on reading text that is not UTF-8 (an edited row)."""
    return isinstance(exc, sqlite3.OperationalError) and "Could not decode to UTF-8" in str(exc)


def _one_by_one(conn: sqlite3.Connection, view: Sequence[Segment], cursor: ChainCursor) -> None:
    """Check a view's rows one at a time from ``cursor``, to name a row whose text is not UTF-8.

    Reading rows in chunks stops at such a row without saying which it is; the rows
    before it in its chunk are checked here, and it is the first bad seq (unless a
    gap or an earlier row comes first).
    """
    for seg in view:
        lo = max(seg.lo, cursor.next_seq)
        while lo <= seg.hi:
            where, params = seg.where(lo, seg.hi)
            found = conn.execute(f"SELECT seq {where} ORDER BY seq LIMIT 1", params).fetchone()
            if found is None:
                break
            seq = int(found[0])
            where, params = seg.where(seq, seq)
            try:
                row = conn.execute(f"SELECT {COLUMNS_SQL} {where}", params).fetchone()
            except sqlite3.OperationalError as exc:
                if not _not_utf8(exc):
                    raise
                if seq == cursor.next_seq:
                    cursor.bad_seq = seq
                    cursor.problem = (
                        f"seq {seq}: a column holds text that is not UTF-8 "
                        "(edited, or the file is damaged?)"
                    )
                    return
                row = (seq, *([None] * 12))  # check_rows names the gap before it
            if row is None or not check_rows(cursor, [row]):
                return
            lo = seq + 1


def _check_rows(
    conn: sqlite3.Connection,
    view: Sequence[Segment],
    cursor: ChainCursor,
    progress: Progress | None,
    done_before: int,
) -> None:
    try:
        with contextlib.closing(iter_raw(conn, view)) as chunks:
            for rows in chunks:
                good = check_rows(cursor, rows)
                if progress is not None:
                    progress(done_before + cursor.checked)
                if not good:
                    return
    except sqlite3.OperationalError as exc:
        if not _not_utf8(exc):
            raise
        _one_by_one(conn, view, cursor)
        if progress is not None:
            progress(done_before + cursor.checked)


SPLIT_AT = 200_000
"""A main line of at least this many rows is checked in two processes (halves at once).

Forking a second process costs a few tens of milliseconds; below this size one
process finishes first."""


def _file_of(conn: sqlite3.Connection) -> str | None:
    """The journal's file, or None for an in-memory one."""
    for _index, name, path in conn.execute("PRAGMA database_list"):
        if name == "main":
            return str(path) or None
    return None


def _context() -> Any:
    """The fork context when forking is safe, else None (check in this process alone).

    Forking is safe when no other thread runs (none may hold a lock the child
    inherits). There is no fallback to spawn: a spawned interpreter imports the
    caller's main module again, and a script without an ``if __name__ ==
    "__main__"`` guard would run its own code twice (appending its events twice).
    """
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return None


def check_split(
    conn: sqlite3.Connection,
    segment: Segment,
    cursor: ChainCursor,
    progress: Progress | None,
    done_before: int,
) -> None:
    """Check a main line's rows, the second half in another process at the same time.

    The other process starts from the ``prev_hash`` stored in the first row of its
    half; the halves join when this process's last hash equals it. The outcome is
    the one checking in order gives: the first bad seq, and the rows good before it.
    A short line, an in-memory journal, one without rows past the middle, or a
    process that cannot safely fork (another thread runs) is checked here alone.
    """
    path = _file_of(conn)
    lo, hi = segment.lo, branches.head(conn, (segment,))
    context = _context() if path is not None and hi - lo + 1 >= SPLIT_AT else None
    if path is None or context is None:
        _check_rows(conn, (segment,), cursor, progress, done_before)
        return
    mid = lo + (hi - lo + 1) // 2
    try:
        row = conn.execute("SELECT prev_hash FROM events WHERE seq = ?", (mid,)).fetchone()
    except sqlite3.OperationalError as exc:
        if not _not_utf8(exc):
            raise
        row = None  # an edited row: checking in order names it
    if row is None or not isinstance(row[0], str):
        _check_rows(conn, (segment,), cursor, progress, done_before)
        return
    joint = str(row[0])
    done_there = context.Value("q", 0, lock=False)
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(
        target=_check_range, args=(path, mid, hi, joint, done_there, send), daemon=True
    )
    worker.start()
    send.close()
    try:

        def both(done_here: int) -> None:
            if progress is not None:
                progress(done_here + int(done_there.value))

        _check_rows(conn, (attrs.evolve(segment, hi=mid - 1),), cursor, both, done_before)
        if cursor.bad_seq is not None:
            return  # the first half decides; the other is stopped below
        if cursor.next_seq != mid:  # rows missing at the end of the first half:
            # the gap is found by checking on in order (the other half is stopped below)
            rest = attrs.evolve(segment, lo=mid, hi=segment.hi)
            _check_rows(conn, (rest,), cursor, progress, done_before)
            return
        try:
            checked, bad_seq, problem = receive.recv()
        except EOFError:  # the other process died: check its half here
            checked, bad_seq, problem = _check_here(conn, mid, hi, joint)
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        receive.close()
    if cursor.prev_hash != joint:
        cursor.bad_seq = mid
        cursor.problem = (
            f"seq {mid}: prev_hash does not match the hash of seq {mid - 1} (broken link)"
        )
        return
    cursor.checked += checked
    cursor.next_seq = hi + 1 if bad_seq is None else bad_seq
    cursor.bad_seq, cursor.problem = bad_seq, problem
    if bad_seq is None:
        last = conn.execute("SELECT hash FROM events WHERE seq = ?", (hi,)).fetchone()
        cursor.prev_hash = str(last[0])
    if progress is not None:
        progress(done_before + cursor.checked)


Outcome = tuple[int, int | None, str | None]
"""Rows good, the first bad seq (None if none) and what is wrong with it."""


def _check_here(
    conn: sqlite3.Connection, lo: int, hi: int, prev_hash: str, done: Any = None
) -> Outcome:
    """Check main-line rows ``lo..hi`` starting from ``prev_hash`` (in any process)."""
    cursor = ChainCursor(next_seq=lo, prev_hash=prev_hash)
    rows = conn.execute(
        f"SELECT {COLUMNS_SQL} FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq", (lo, hi)
    )
    try:
        while True:
            chunk = rows.fetchmany(10_000)
            if not chunk or not check_rows(cursor, chunk):
                break
            if done is not None:
                done.value = cursor.checked
    except sqlite3.OperationalError as exc:
        if not _not_utf8(exc):
            raise
        _one_by_one(conn, (Segment(None, lo, hi),), cursor)
    finally:
        rows.close()
    if cursor.bad_seq is None and cursor.next_seq <= hi:
        cursor.bad_seq = cursor.next_seq
        cursor.problem = f"seq {cursor.next_seq} is missing (the journal ends before {hi})"
    return cursor.checked, cursor.bad_seq, cursor.problem


def _check_range(path: str, lo: int, hi: int, prev_hash: str, done: Any, send: Any) -> None:
    """In the other process: check rows ``lo..hi`` of the journal file and send the outcome.

    The file is opened read-only through a ``file:`` URI that pathlib builds, so a
    name with ``#``, ``?`` or ``%`` names that file (spelt into the URI as it is,
    ``prod#2.db`` opened, and created, ``prod``). If the file cannot be read from
    here, nothing is sent and the first process checks this half itself.
    """
    try:
        uri = f"{Path(path).absolute().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        try:
            conn.execute("BEGIN")
            outcome = _check_here(conn, lo, hi, prev_hash, done)
            conn.execute("COMMIT")
        finally:
            conn.close()
        send.send(outcome)
    except sqlite3.Error:
        pass  # the pipe closes unsent: the first process checks this half itself
    finally:
        send.close()


def parse_anchor(value: object) -> tuple[int, str] | None:
    """``(seq, hash)`` of a stored head anchor ``"<seq>:<hash>"``, or None if it is garbage."""
    seq_text, sep, anchor_hash = str(value).partition(":")
    if not sep or not seq_text.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", anchor_hash):
        return None
    return int(seq_text), anchor_hash


def _anchor_row(conn: sqlite3.Connection, branch: str | None) -> tuple[str] | None:
    """The line's head anchor row from ``meta`` (None if there is none), its value as text.

    Read as bytes and decoded here: text that is not UTF-8 (an edited anchor) is then
    an anchor that does not parse, not an error that stops the check.
    """
    found = conn.execute(
        "SELECT CAST(value AS BLOB) FROM meta WHERE key = ?", (appending.head_key(branch),)
    ).fetchone()
    if found is None:
        return None
    value = found[0]
    return (value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value),)


def check_head_anchor(conn: sqlite3.Connection, branch: str | None, cursor: ChainCursor) -> None:
    """Events deleted from the end leave a valid chain; the head anchor tells.

    Marks ``cursor`` bad if the anchor names a later seq than the last row, a
    different hash for the last row, or is not an anchor at all.
    """
    found = _anchor_row(conn, branch)
    if found is None:
        return  # nothing appended to this line yet (or a journal from before anchors)
    last_seq = cursor.next_seq - 1
    anchor = parse_anchor(found[0])
    if anchor is None:
        cursor.bad_seq = last_seq
        cursor.problem = (
            f"the head anchor {appending.head_key(branch)!r} in meta is not <seq>:<hash> "
            f"(got {str(found[0])[:80]!r}): the meta table was edited"
        )
        return
    seq, anchor_hash = anchor
    if seq > last_seq:
        cursor.bad_seq = last_seq + 1
        cursor.problem = (
            f"seq {last_seq + 1}: missing; the journal recorded events up to "
            f"{seq} (deleted from the end?)"
        )
    elif seq == last_seq and anchor_hash != cursor.prev_hash:
        cursor.bad_seq = last_seq
        cursor.problem = f"seq {last_seq}: hash differs from the one recorded at append"


def anchor_problem(
    conn: sqlite3.Connection, branch: str | None, last_seq: int, last_hash: str | None
) -> str | None:
    """The cheap head check a reader makes on reaching a line's end: None if it agrees.

    Args:
        conn: the journal's connection.
        branch: the line (None: main).
        last_seq: the last seq read (the line's head).
        last_hash: that row's stored hash (None if nothing was read).
    """
    found = _anchor_row(conn, branch)
    if found is None:
        return None
    anchor = parse_anchor(found[0])
    if anchor is None:
        return f"the head anchor {appending.head_key(branch)!r} in meta is not <seq>:<hash>"
    seq, anchor_hash = anchor
    if seq > last_seq:
        return (
            f"the journal recorded events up to seq {seq} but ends at seq {last_seq} "
            "(events deleted from the end?)"
        )
    if seq == last_seq and last_hash is not None and anchor_hash != last_hash:
        return f"seq {last_seq}'s hash differs from the one recorded at append"
    return None


def _result(cursor: ChainCursor, branch: str | None) -> VerifyResult:
    return VerifyResult(
        cursor.bad_seq is None, cursor.checked, cursor.bad_seq, cursor.problem, branch
    )


def verify_view(
    conn: sqlite3.Connection, branch: str | None, progress: Progress | None = None
) -> VerifyResult:
    """Check one view's chain from seq 1 (a branch: its parent's prefix, then its own rows).

    The caller holds a read transaction, so every segment is read from one snapshot.
    A long main line of a journal file is checked in two halves at once
    (:func:`check_split`).

    Raises:
        TwinInputError: no such branch, or one whose parents are missing or form a cycle.
    """
    view = branches.segments(conn, branch)
    cursor = ChainCursor()
    if len(view) == 1 and view[0].branch is None:
        check_split(conn, view[0], cursor, progress, 0)
    else:
        _check_rows(conn, view, cursor, progress, 0)
    if cursor.bad_seq is None:
        check_head_anchor(conn, branches.normalise(branch), cursor)
    return _result(cursor, branches.normalise(branch))


def _verify_own_rows(
    conn: sqlite3.Connection, name: str, progress: Progress | None, done_before: int
) -> VerifyResult:
    """A branch's own rows, chained from its parent's row at the fork (checked already)."""
    try:
        view = branches.segments(conn, name)
    except TwinInputError as exc:
        return VerifyResult(False, 0, None, exc.problem, name)
    own = view[-1]
    fork = own.lo - 1
    parent_view = view[:-1]
    parent_head = branches.head(conn, parent_view) if parent_view else 0
    if fork > parent_head:
        return VerifyResult(
            False,
            0,
            fork + 1,
            f"the branch forks at seq {fork} but its parent's head is {parent_head} "
            "(the branches table was edited?)",
            name,
        )
    cursor = ChainCursor(next_seq=fork + 1)
    if fork > 0:
        row = branches.fetch_row(conn, parent_view, fork, "hash")
        cursor.prev_hash = GENESIS_HASH if row is None else str(row[0])
    _check_rows(conn, (own,), cursor, progress, done_before)
    if cursor.bad_seq is None:
        check_head_anchor(conn, name, cursor)
    return _result(cursor, name)


def verify_all(conn: sqlite3.Connection, progress: Progress | None = None) -> list[VerifyResult]:
    """Check the main line and every branch, each row once; one result per line.

    The main line comes first, then the branches by name. A broken line does
    not stop the others from being checked.
    """
    conn.execute("BEGIN")  # one snapshot for every line
    try:
        results = [verify_view(conn, None, progress)]  # checked in halves when long
        names = [str(r[0]) for r in conn.execute("SELECT name FROM branches ORDER BY name")]
        done = results[0].checked
        for name in names:
            result = _verify_own_rows(conn, name, progress, done)
            done += result.checked
            results.append(result)
    finally:
        conn.execute("COMMIT")
    return results


def parse_recorded_head(text: str) -> tuple[int | None, str]:
    """``HASH`` or ``SEQ:HASH`` (as ``twin import`` prints it) → ``(seq or None, hash)``.

    Raises:
        TwinInputError: not a 64-digit hex hash, optionally after ``SEQ:``.
    """
    found = _HEAD.fullmatch(text.strip())
    if found is None:
        raise TwinInputError(
            "must be the head as `twin import` prints it: SEQ:HASH or HASH (64 hex digits)",
            field="--head",
            value=text,
        )
    seq = found.group("seq")
    return (None if seq is None else int(seq)), found.group("hash").lower()


def check_recorded_head(conn: sqlite3.Connection, seq: int | None, head_hash: str) -> str | None:
    """Whether the main line still holds a head recorded elsewhere; None if it does.

    Call it after the chain verified: every stored hash is then genuine, so the
    recorded head is either one of them (history since then was only appended
    to) or the history it ended was rewritten.

    Returns:
        None, or what is wrong in words.
    """
    if seq is not None:
        row = conn.execute("SELECT hash FROM events WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            return (
                f"the recorded head #{seq} is gone: the journal ends before it "
                "(events were removed and the head anchor rewritten)"
            )
        if str(row[0]) != head_hash:
            return (
                f"seq {seq} no longer has the recorded hash {head_hash[:16]}…: "
                "history up to the recorded head was rewritten"
            )
        return None
    row = conn.execute("SELECT seq FROM events WHERE hash = ?", (head_hash,)).fetchone()
    if row is None:
        return (
            f"no event has the recorded head hash {head_hash[:16]}…: history was rewritten, "
            "or this is another journal"
        )
    return None
