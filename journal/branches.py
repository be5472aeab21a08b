"""What-if branches: a branch is (parent, fork seq) plus its own events.

A branch's view of the journal is a list of :class:`Segment`: its parent's
view (recursively) cut at the fork seq, then the branch's own rows, whose
seqs continue at ``fork_seq + 1``. Every read, head, hash and state query of
a branch goes through its segments, so the main line is never copied and
appending to a branch never touches it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any

import attrs

from journal.results import BranchInfo
from journal.schema import rollback, utc_now
from twin.errors import TwinInputError

MAIN = "main"
"""The name of the main line (``branch=None`` means the same)."""

UNBOUNDED = 1 << 62
"""An upper seq bound that no journal reaches."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+/-]{0,99}\Z")


@attrs.frozen(slots=True)
class Segment:
    """A contiguous run of a view's seqs stored in one place.

    Attributes:
        branch: the branch whose own rows these are, or None for the main line.
        lo: the first seq (inclusive).
        hi: the last seq (inclusive; :data:`UNBOUNDED` for the view's open end).
    """

    branch: str | None
    lo: int
    hi: int

    def where(self, lo: int, hi: int) -> tuple[str, tuple[Any, ...]]:
        """``FROM ... WHERE`` SQL and its parameters for this segment's seqs in ``[lo, hi]``."""
        lo, hi = max(lo, self.lo), min(hi, self.hi)
        if self.branch is None:
            return "FROM events WHERE seq BETWEEN ? AND ?", (lo, hi)
        return "FROM branch_events WHERE branch = ? AND seq BETWEEN ? AND ?", (self.branch, lo, hi)


def normalise(branch: str | None) -> str | None:
    """None for the main line (``None`` or ``"main"``), else the branch name."""
    return None if branch is None or branch == MAIN else branch


def _row(conn: sqlite3.Connection, name: str) -> tuple[str | None, int, str] | None:
    row = conn.execute(
        "SELECT parent, fork_seq, created_at FROM branches WHERE name = ?", (name,)
    ).fetchone()
    return None if row is None else (row[0], int(row[1]), str(row[2]))


def _unknown(conn: sqlite3.Connection, name: str) -> TwinInputError:
    names = [str(r[0]) for r in conn.execute("SELECT name FROM branches ORDER BY name")]
    known = ", ".join(names[:12]) if names else "none yet"
    return TwinInputError(
        f"no such branch {name!r} (branches: {known})", field="branch", value=name
    )


def segments(conn: sqlite3.Connection, branch: str | None) -> tuple[Segment, ...]:
    """The segments of ``branch``'s view, oldest first.

    Raises:
        TwinInputError: no such branch.
    """
    name = normalise(branch)
    if name is None:
        return (Segment(None, 1, UNBOUNDED),)
    lineage: list[tuple[str, int]] = []
    current: str | None = name
    while current is not None:
        if any(current == seen for seen, _fork in lineage):
            chain = " → ".join([*(n for n, _f in lineage), current])
            raise TwinInputError(
                f"branch {name!r} cannot be read: its parents form a cycle ({chain}); "
                "the journal's branches table was edited",
                field="branch",
                value=name,
            )
        found = _row(conn, current)
        if found is None:
            if current == name:
                raise _unknown(conn, current)
            raise TwinInputError(
                f"branch {name!r} cannot be read: its parent {current!r} is missing; "
                "the journal's branches table was edited",
                field="branch",
                value=name,
            )
        lineage.append((current, found[1]))
        current = found[0]
    out = [Segment(None, 1, UNBOUNDED)]
    for own, fork in reversed(lineage):
        out = [Segment(s.branch, s.lo, min(s.hi, fork)) for s in out if s.lo <= fork]
        out.append(Segment(own, fork + 1, UNBOUNDED))
    return tuple(out)


def head(conn: sqlite3.Connection, view: Sequence[Segment]) -> int:
    """The last seq of a view (0 for an empty main line; the fork seq for a branch with none)."""
    last = view[-1]
    if last.branch is None:
        row = conn.execute("SELECT max(seq) FROM events").fetchone()
    else:
        row = conn.execute(
            "SELECT max(seq) FROM branch_events WHERE branch = ?", (last.branch,)
        ).fetchone()
    return last.lo - 1 if row[0] is None else int(row[0])


def segment_of(view: Sequence[Segment], seq: int) -> Segment | None:
    """The segment that holds ``seq``, or None."""
    for seg in view:
        if seg.lo <= seq <= seg.hi:
            return seg
    return None


def fetch_row(
    conn: sqlite3.Connection, view: Sequence[Segment], seq: int, columns: str
) -> tuple[Any, ...] | None:
    """One row of a view by seq (``columns`` is the SELECT list), or None."""
    seg = segment_of(view, seq)
    if seg is None:
        return None
    where, params = seg.where(seq, seq)
    row: tuple[Any, ...] | None = conn.execute(f"SELECT {columns} {where}", params).fetchone()
    return row


def info(conn: sqlite3.Connection, name: str) -> BranchInfo:
    """The :class:`BranchInfo` of an existing branch.

    Raises:
        TwinInputError: no such branch.
    """
    found = _row(conn, name)
    if found is None:
        raise _unknown(conn, name)
    parent, fork, created = found
    try:
        view = segments(conn, name)
    except TwinInputError as exc:
        return BranchInfo(name, parent, fork, fork, created, exc.problem)
    return BranchInfo(name, parent, fork, head(conn, view), created)


def list_branches(conn: sqlite3.Connection) -> list[BranchInfo]:
    """Every what-if branch (not the main line), by name; broken ones say why (``problem``)."""
    names = [str(r[0]) for r in conn.execute("SELECT name FROM branches ORDER BY name")]
    return [info(conn, name) for name in names]


def create(conn: sqlite3.Connection, name: str, *, at: int, parent: str | None) -> BranchInfo:
    """Fork ``name`` from ``parent`` (None = main) at seq ``at``, in one write transaction.

    Raises:
        TwinInputError: a bad or taken name, an unknown parent, or ``at`` outside
            ``0..head of parent``.
    """
    if not isinstance(name, str) or not _NAME.match(name) or name == MAIN:
        raise TwinInputError(
            "a branch name is 1-100 letters, digits and ._@+/- (not 'main'), "
            "starting with a letter or digit",
            field="branch",
            value=name,
        )
    parent = normalise(parent)
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _row(conn, name) is not None:
            raise TwinInputError(f"branch {name!r} already exists", field="branch", value=name)
        parent_head = head(conn, segments(conn, parent))
        if isinstance(at, bool) or not isinstance(at, int) or not 0 <= at <= parent_head:
            raise TwinInputError(
                f"must be a seq from 0 to {parent_head}, the head of {parent or MAIN} (got {at!r})",
                field="at",
                value=at,
            )
        conn.execute(
            "INSERT INTO branches (name, parent, fork_seq, created_at) VALUES (?, ?, ?, ?)",
            (name, parent, at, utc_now()),
        )
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return info(conn, name)
