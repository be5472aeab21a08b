"""Group load is demand: what a group-level ``load_changed`` means when the members change.

A group's ``connections``, ``cps`` and ``throughput_gbps`` are totals: spread
over whichever members serve, they stay the same demand. ``cpu_pct`` is not a
total but a mean, taken over the members that served when it was measured.
So a group load carries ``serving``, the number of members it was measured
on, and the twin turns it into *work*::

    work = cpu_pct × serving member-equivalents

and spreads that work over the members serving now (each member's CPU is its
share of the work over its cores; see :func:`twin.reducer.redistribute`).

- On the timeline it was recorded on, ``serving`` equals the members serving
  at that event, so the mean CPU of the serving members is ``cpu_pct``
  exactly, as it always was.
- On a what-if fork or in a plan, the same event keeps meaning the same work:
  "86% on today's four members" stays four members' worth of work when the
  plan has added two more (each then runs at 86 × 4 / 6 ≈ 57%).
- An event without ``serving`` (recorded before the field existed, or by a
  producer that left it out) means the members serving at that event. The
  twin fills ``serving`` whenever it records a group load (append, import),
  so events it records keep their meaning on any fork.

A member-equivalent is measured with the members serving now (their cores
and weights), so with equal members the rule is exact: CPU × ``serving`` ÷
members now.
"""

from __future__ import annotations

from typing import Any

import attrs

from twin.events import Event, LoadChanged
from twin.state import TwinState


def serving_count(state: TwinState, group_id: int) -> int:
    """How many members of ``group_id`` serve now (0 for an unknown group)."""
    if group_id not in state.groups:
        return 0
    return state.distribution(group_id)[1]


def with_serving(state: TwinState, event: Event) -> Event:
    """``event`` as the twin records it on ``state``: a group load gets its ``serving`` count.

    Any other event, a group load that already names ``serving``, a load for an
    unknown group (the reducer refuses it) or one for a group with no serving
    member comes back unchanged.

    Example::

        state = journal.state_at(120)
        recorded = with_serving(state, LoadChanged(group=1, cpu_pct=86.0))
        assert recorded.serving == serving_count(state, 1)
    """
    if type(event) is not LoadChanged or event.group is None or event.serving is not None:
        return event
    count = serving_count(state, event.group)
    if count < 1:
        return event
    return attrs.evolve(event, serving=count)


def _per_core_share(members: list[tuple[dict[str, Any], float]]) -> float:
    return float(sum(share / m["cores"] for m, share in members if share > 0))


def cpu_work(state: TwinState, group_id: int, cpu_pct: float, serving: int | None) -> float:
    """The work that a group CPU reading of ``cpu_pct`` measured on ``serving`` members stands for.

    Args:
        state: the twin now (its serving members define a member-equivalent).
        group_id: the group (must exist).
        cpu_pct: the mean CPU the reading gave.
        serving: how many members it was measured on; None means the members serving now.

    Returns:
        The work, in the units :func:`twin.reducer.redistribute` spreads (a member's
        CPU = work × its share ÷ its cores); 0 when nothing can carry it.
    """
    measured_on, per_core = work_factor(state, group_id, serving)
    if measured_on < 1 or per_core <= 0:
        return 0.0
    return cpu_pct * measured_on / per_core


def work_factor(state: TwinState, group_id: int, serving: int | None) -> tuple[int, float]:
    """``(measured_on, per_core)``: :func:`cpu_work` is ``cpu_pct × measured_on ÷ per_core``.

    Both depend on the state only, so a run of loads on an unchanged group (the
    engine's segment evaluation) computes them once; ``per_core`` ≤ 0 (or
    ``measured_on`` < 1) means the work is 0.
    """
    shares, now = state.distribution(group_id)
    measured_on = now if serving is None else serving
    if measured_on < 1:
        return measured_on, 0.0
    per_core = _per_core_share(list(shares))
    if per_core <= 0:
        # Nobody serves now, but the reading names its members: size a member-equivalent
        # from every member of the group by weight, so the work is kept for when they return.
        members = list(state.group_members(group_id))
        weights = [state.member_weight(m) for m in members]
        total = sum(weights)
        if total <= 0:
            return measured_on, 0.0
        per_core = _per_core_share([(m, w / total) for m, w in zip(members, weights, strict=True)])
    return measured_on, per_core
