"""Hypothesis strategies for event sequences the reducer accepts.

Install ``maestro-twin[testing]`` (this module needs hypothesis). Every
strategy here draws ``(type, data)`` tuples, the same shape the builders
return and ``run_scenario`` takes::

    from hypothesis import given
    from twin.testing import run_scenario
    from twin.testing.strategies import event_sequences

    @given(event_sequences(max_members=6, max_events=40))
    def test_my_rule_never_crashes(events):
        run_scenario(events, plugins=[my_plugin])   # strict: a crash fails the test

Sequences are *valid*: ids are tracked, so every reference names something
that exists, no id is added twice, an upgrade finishes only after it
started, a rollback only follows an upgrade, and every value is in range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs
from hypothesis import strategies as st

from twin.testing.builders import EventTuple, member_id, orchestrator_id

VERSIONS = ("R81.10", "R81.20", "R82")
LOAD_FIELDS = ("connections", "cps", "cpu_pct", "throughput_gbps")

_Draw = Callable[[st.SearchStrategy[Any]], Any]


@attrs.define
class _Member:
    group: int
    site: int
    version: str
    upgrading: bool = False
    previous_version: str | None = None


@attrs.define
class _Model:
    """What the reducer will know after the events drawn so far."""

    sites: list[int] = attrs.field(factory=list)
    orchestrators: list[str] = attrs.field(factory=list)
    groups: list[int] = attrs.field(factory=list)
    members: dict[str, _Member] = attrs.field(factory=dict)
    links: dict[str, tuple[str, str]] = attrs.field(factory=dict)
    vs: dict[str, str] = attrs.field(factory=dict)
    next_member: dict[int, int] = attrs.field(factory=dict)
    next_link: int = 0
    next_vs: int = 0

    def new_member_id(self, site: int) -> str:
        n = self.next_member.get(site, 0) + 1
        self.next_member[site] = n
        return member_id(site, n)

    def orchestrators_at(self, site: int) -> list[str]:
        return [o for o in self.orchestrators if o.startswith(f"mho-{site}-")]

    def new_link_id(self, prefix: str) -> str:
        self.next_link += 1
        return f"{prefix}-{self.next_link}"


def _cores() -> st.SearchStrategy[int]:
    return st.sampled_from([8, 16, 32, 64])


def _memory() -> st.SearchStrategy[float]:
    return st.sampled_from([32.0, 64.0, 128.0, 256.0])


def _load_values(draw: _Draw, max_connections: int) -> dict[str, Any]:
    fields = draw(st.sets(st.sampled_from(LOAD_FIELDS), min_size=1))
    values: dict[str, Any] = {}
    for name in sorted(fields):
        if name == "connections":
            values[name] = draw(st.integers(0, max_connections))
        elif name == "cps":
            values[name] = draw(st.floats(0, 1_000_000, allow_nan=False, allow_infinity=False))
        elif name == "cpu_pct":
            values[name] = draw(st.floats(0, 100, allow_nan=False, allow_infinity=False))
        else:
            values[name] = draw(st.floats(0, 400, allow_nan=False, allow_infinity=False))
    return values


def load_events(
    groups: Sequence[int] = (1,),
    members: Sequence[str] = (),
    *,
    max_connections: int = 20_000_000,
) -> st.SearchStrategy[EventTuple]:
    """One ``load_changed`` event for one of ``groups`` or ``members``.

    Args:
        groups: group numbers to draw from (must exist in your scenario).
        members: member ids to draw from (may be empty).
        max_connections: the largest concurrent-connection count drawn.

    Returns:
        A strategy of ``("load_changed", data)`` with exactly one target and
        at least one of ``connections``, ``cps``, ``cpu_pct``, ``throughput_gbps``.
    """
    targets: list[dict[str, Any]] = [{"group": g} for g in groups]
    targets += [{"member": m} for m in members]
    if not targets:
        raise ValueError("give at least one group or member")

    @st.composite
    def build(draw: _Draw) -> EventTuple:
        target = draw(st.sampled_from(targets))
        return ("load_changed", {**target, **_load_values(draw, max_connections)})

    return build()


def _add_member(draw: _Draw, model: _Model, out: list[EventTuple]) -> None:
    site = draw(st.sampled_from(model.sites))
    group = draw(st.sampled_from(model.groups))
    member = model.new_member_id(site)
    version = draw(st.sampled_from(VERSIONS))
    data: dict[str, Any] = {
        "member": member,
        "group": group,
        "site": site,
        "cores": draw(_cores()),
        "memory_gb": draw(_memory()),
        "version": version,
    }
    if draw(st.booleans()):
        data["weight"] = draw(st.integers(0, 512))
    model.members[member] = _Member(group, site, version)
    out.append(("member_added", data))
    mhos = model.orchestrators_at(site)
    if mhos and draw(st.booleans()):
        link = model.new_link_id("dl")
        mho = draw(st.sampled_from(mhos))
        model.links[link] = (member, mho)
        out.append(("link_added", {"link": link, "a": member, "b": mho, "kind": "downlink"}))


def _draw_topology(draw: _Draw, model: _Model, max_members: int) -> list[EventTuple]:
    out: list[EventTuple] = []
    for site in range(1, draw(st.integers(1, 2)) + 1):
        model.sites.append(site)
        out.append(("site_added", {"site": site}))
        for k in range(1, draw(st.integers(1, 2)) + 1):
            mho = orchestrator_id(site, k)
            model.orchestrators.append(mho)
            out.append(("orchestrator_added", {"orchestrator": mho, "site": site}))
    for group in range(1, draw(st.integers(1, 2)) + 1):
        model.groups.append(group)
        out.append(("group_created", {"group": group, "hypersync": draw(st.booleans())}))
    for _ in range(draw(st.integers(1, max(1, max_members)))):
        _add_member(draw, model, out)
    for site in model.sites:
        for _ in range(draw(st.integers(0, 2))):
            link = model.new_link_id("sync")
            mho = draw(st.sampled_from(model.orchestrators_at(site)))
            model.links[link] = (mho, f"site:{site}")
            out.append(
                (
                    "link_added",
                    {
                        "link": link,
                        "a": mho,
                        "b": f"site:{site}",
                        "kind": "sync",
                        "gbps": draw(st.sampled_from([1.0, 10.0, 25.0])),
                        "dedicated": draw(st.booleans()),
                        "jumbo": draw(st.booleans()),
                    },
                )
            )
    if len(model.sites) == 2:
        link = model.new_link_id("site")
        model.links[link] = ("site:1", "site:2")
        out.append(("link_added", {"link": link, "a": "site:1", "b": "site:2", "kind": "site"}))
    return out


def topologies(max_members: int = 8) -> st.SearchStrategy[list[EventTuple]]:
    """Genesis events only: 1–2 sites, 1–2 orchestrators each, 1–2 groups, members and links.

    Args:
        max_members: the most members drawn (at least one is).
    """

    @st.composite
    def build(draw: _Draw) -> list[EventTuple]:
        return _draw_topology(draw, _Model(), max_members)

    return build()


def _operations(model: _Model, max_members: int) -> list[str]:
    """The operations that are valid on ``model`` now."""
    ops = ["group_load", "note", "checkpoint_interval_changed", "site_failover"]
    ops.append("metric_observed")
    ops += ["hypersync_changed", "orchestrator_failed", "orchestrator_recovered"]
    if len(model.members) < max_members:
        ops.append("member_added")
    if model.members:
        ops += ["member_failed", "member_recovered", "member_admin_changed", "member_load"]
        ops += ["weight_changed", "vs_created", "member_removed", "link_added"]
        if any(not m.upgrading for m in model.members.values()):
            ops.append("upgrade_started")
        if any(m.upgrading for m in model.members.values()):
            ops.append("upgrade_finished")
        if any(m.upgrading or m.previous_version for m in model.members.values()):
            ops.append("upgrade_rolled_back")
    if model.links:
        ops += ["link_failed", "link_restored"]
    if model.vs:
        ops.append("vs_removed")
    return ops


def _draw_operation(
    draw: _Draw, model: _Model, max_members: int, max_connections: int
) -> list[EventTuple]:
    op = draw(st.sampled_from(_operations(model, max_members)))
    members = sorted(model.members)
    if op == "member_added":
        out: list[EventTuple] = []
        _add_member(draw, model, out)
        return out
    if op == "group_load":
        group = draw(st.sampled_from(model.groups))
        return [("load_changed", {"group": group, **_load_values(draw, max_connections)})]
    if op == "member_load":
        member = draw(st.sampled_from(members))
        return [("load_changed", {"member": member, **_load_values(draw, max_connections)})]
    if op == "note":
        return [("note", {"text": draw(st.sampled_from(["peak", "change window", "ticket 42"]))})]
    if op == "checkpoint_interval_changed":
        return [(op, {"seconds": draw(st.sampled_from([10, 30, 60, 120, 600]))})]
    if op == "metric_observed":
        subjects = ["system", *(f"group:{g}" for g in model.groups)]
        subjects += [f"member:{m}" for m in members]
        metric, top = draw(
            st.sampled_from(
                [("load.cpu_pct", 100.0), ("load.connections", 1e7), ("sync.traffic_gbps", 20.0)]
            )
        )
        value = draw(st.floats(0, top, allow_nan=False))
        subject = draw(st.sampled_from(subjects))
        return [(op, {"subject": subject, "metric": metric, "value": value})]
    if op == "site_failover":
        return [(op, {"site": draw(st.sampled_from(model.sites))})]
    if op == "hypersync_changed":
        group = draw(st.sampled_from(model.groups))
        return [(op, {"group": group, "enabled": draw(st.booleans())})]
    if op in ("orchestrator_failed", "orchestrator_recovered"):
        return [(op, {"orchestrator": draw(st.sampled_from(model.orchestrators))})]
    if op in ("link_failed", "link_restored"):
        return [(op, {"link": draw(st.sampled_from(sorted(model.links)))})]
    if op == "vs_removed":
        vs = draw(st.sampled_from(sorted(model.vs)))
        del model.vs[vs]
        return [(op, {"vs": vs})]
    if op == "upgrade_started":
        member = draw(st.sampled_from([m for m in members if not model.members[m].upgrading]))
        target = draw(st.sampled_from(VERSIONS))
        model.members[member].upgrading = True
        return [(op, {"member": member, "to_version": target})]
    if op == "upgrade_finished":
        member = draw(st.sampled_from([m for m in members if model.members[m].upgrading]))
        record = model.members[member]
        version = draw(st.sampled_from(VERSIONS))
        record.upgrading, record.previous_version, record.version = False, record.version, version
        return [(op, {"member": member, "version": version})]
    if op == "upgrade_rolled_back":
        candidates = [
            m for m in members if model.members[m].upgrading or model.members[m].previous_version
        ]
        member = draw(st.sampled_from(candidates))
        record = model.members[member]
        if record.upgrading:
            record.upgrading = False
        else:
            record.version, record.previous_version = str(record.previous_version), None
        return [(op, {"member": member})]
    member = draw(st.sampled_from(members))
    if op == "member_failed":
        return [(op, {"member": member, "cause": "pnote:strategy"})]
    if op == "member_recovered":
        return [(op, {"member": member})]
    if op == "member_admin_changed":
        return [(op, {"member": member, "up": draw(st.booleans())})]
    if op == "weight_changed":
        return [(op, {"member": member, "weight": draw(st.integers(0, 512))})]
    if op == "vs_created":
        model.next_vs += 1
        vs = f"vs-{model.next_vs}"
        model.vs[vs] = member
        memory = draw(st.sampled_from([1.0, 4.0, 8.0, 16.0]))
        return [(op, {"vs": vs, "member": member, "memory_gb": memory})]
    if op == "link_added":
        site = model.members[member].site
        mho = draw(st.sampled_from(model.orchestrators_at(site)))
        link = model.new_link_id("dl")
        model.links[link] = (member, mho)
        return [(op, {"link": link, "a": member, "b": mho, "kind": "downlink"})]
    # member_removed: its Virtual Systems and links go with it.
    del model.members[member]
    model.vs = {k: v for k, v in model.vs.items() if v != member}
    model.links = {k: ends for k, ends in model.links.items() if member not in ends}
    return [("member_removed", {"member": member})]


def event_sequences(
    max_members: int = 8,
    max_events: int = 60,
    *,
    min_events: int = 0,
    max_connections: int = 20_000_000,
) -> st.SearchStrategy[list[EventTuple]]:
    """A topology prefix, then random operations, all valid for the reducer.

    Args:
        max_members: the most members alive at once (ids keep counting up
            after a removal, so an id is never reused).
        max_events: the most operations drawn after the topology prefix (an
            added member may bring its downlink along, as a second event).
        min_events: the fewest operations after the prefix.
        max_connections: the largest concurrent-connection count in a load event.

    Returns:
        A strategy of lists of ``(type, data)`` tuples covering every core
        event type: membership, faults, admin changes, links, orchestrators,
        load (group and member), weights, upgrades, Virtual Systems, HyperSync,
        checkpoint interval, site failover, observed metrics and notes.
    """

    @st.composite
    def build(draw: _Draw) -> list[EventTuple]:
        model = _Model()
        events = _draw_topology(draw, model, max_members)
        count = draw(st.integers(min_events, max_events))
        for _ in range(count):
            events += _draw_operation(draw, model, max_members, max_connections)
        return events

    return build()
