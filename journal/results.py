"""What the journal's operations return."""

from __future__ import annotations

import attrs


@attrs.frozen
class AppendResult:
    """The outcome of an append or import.

    Attributes:
        first_seq: the seq of the first event written (head + 1 when nothing was written).
        last_seq: the seq of the last event written (the head when nothing was written).
        appended: how many events were written.
        skipped: how many were already in the journal (same ``event_id``) and were skipped.
        head_hash: the hash of the head after the append (64 zeros for an empty line):
            record it elsewhere to catch a rewritten history later (``twin verify --head``).
    """

    first_seq: int
    last_seq: int
    appended: int
    skipped: int
    head_hash: str | None = attrs.field(default=None, eq=False)


@attrs.frozen
class VerifyResult:
    """The outcome of checking a journal's hash chain.

    Attributes:
        ok: every event is where it should be and its hash matches.
        checked: how many events were found good (all of them when ``ok``).
        first_bad_seq: the first seq that is missing, edited or off the chain.
        problem: what is wrong with it, in words.
        branch: the line checked: None for the main line, else the branch's name.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None
    branch: str | None = attrs.field(default=None, eq=False)


@attrs.frozen
class BranchInfo:
    """A what-if branch.

    Attributes:
        name: its name.
        parent: the branch it forks from, or None for the main line.
        fork_seq: the parent's seq it forks at (its own events start at ``fork_seq + 1``).
        head: its last seq (``fork_seq`` while it has no events of its own).
        created_at: when it was made (UTC, ISO 8601).
        problem: why the branch cannot be read (parents missing or in a cycle: the
            ``branches`` table was edited), or None; ``head`` is then its fork seq.
    """

    name: str
    parent: str | None
    fork_seq: int
    head: int
    created_at: str
    problem: str | None = None
