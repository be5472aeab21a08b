"""Folding a view into the reducer state at a seq: nearest snapshot, then replay.

This is the machinery behind :meth:`journal.Journal.state_at` and the
validation step of every append. It never evaluates rules: it is the
reducer's state only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from journal import snapshots
from journal.branches import Segment
from journal.reading import read_view
from twin.errors import TwinInputError
from twin.events import EventRegistry
from twin.reducer import apply, apply_structure
from twin.state import TwinState
from twin.stored_events import USABLE_ERRORS, explain

REPLAY_CHUNK = 2000
"""Rows per read while replaying."""


def fold(
    conn: sqlite3.Connection,
    view: Sequence[Segment],
    target: int,
    *,
    registry: EventRegistry,
    shown: str | None,
    use_snapshots: bool,
    start: TwinState | None = None,
    warn: Callable[[str], None] | None = None,
    structure: bool = False,
) -> tuple[TwinState, list[snapshots.SnapshotRow]]:
    """The reducer state after seq ``target`` of a view.

    With ``structure``, loads are only checked, not folded
    (:func:`twin.reducer.apply_structure`): the state appends validate against,
    several times cheaper on load-heavy journals, with its own snapshots
    (:data:`~journal.snapshots.STRUCTURE_KEY`).

    Args:
        conn: the journal's connection.
        view: the view's segments.
        target: the seq to stop at (0 gives an empty state).
        registry: decodes payloads.
        shown: the journal's name for messages.
        use_snapshots: start from the nearest state snapshot (and offer new ones).
        start: a state of this same view at some seq <= ``target`` that the caller
            lets this function mutate (used instead of a snapshot when it is newer);
            a structure state when ``structure``, a full one otherwise.
        warn: check the rows' cheap invariants as they stream and report the first
            problem here (see :func:`~journal.reading.read_view`).
        structure: fold the structure only (see above).

    Returns:
        The state, and snapshot rows for every :data:`~journal.snapshots.SNAPSHOT_EVERY`
        boundary that the replay passed (empty when ``use_snapshots`` is false); the
        caller decides whether and when to write them.

    Raises:
        TwinInputError: a stored event the reducer refuses (a journal written by
            another tool), cannot decode, or whose data is of the wrong type (edited).
    """
    state: TwinState | None = None
    if start is not None and start.seq <= target:
        state = start
    key = snapshots.STRUCTURE_KEY if structure else snapshots.STATE_KEY
    step = apply_structure if structure else apply
    if use_snapshots:
        found = snapshots.newest_state(
            conn, view, target, above=0 if state is None else state.seq, key=key
        )
        if found is not None:
            state = found
    if state is None:
        state = TwinState()
    pending: list[snapshots.SnapshotRow] = []
    every = snapshots.STRUCTURE_EVERY if structure else snapshots.SNAPSHOT_EVERY
    for env in read_view(
        conn,
        view,
        state.seq + 1,
        target,
        chunk=REPLAY_CHUNK,
        registry=registry,
        shown=shown,
        warn=warn,
    ):
        try:
            step(state, env.event, seq=env.seq, occurred_at=env.occurred_at)
        except TwinInputError as exc:
            raise TwinInputError(
                f"event {env.seq} ({env.type}) does not fit the state: {exc.problem}",
                field=exc.field,
                value=exc.value,
                source=shown,
            ) from None
        except USABLE_ERRORS:
            explained = explain(registry, env, shown)
            if explained is None:
                raise
            raise explained from None
        if use_snapshots and env.seq % every == 0:
            blob, digest = snapshots.encode_state(state)
            pending.append(snapshots.row(view, key, env.seq, blob, digest))
    return state, pending
