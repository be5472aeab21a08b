"""The reducer: ``apply(state, event)`` mutates the state in place and says what changed.

It is pure and deterministic: no wall clock, no randomness, no dependence on
set order. Every handler validates the whole event against the state *before*
it changes anything, so a refused event leaves the state as it was.

What the reducer derives itself (because it is the domain's behaviour, not a
rule's opinion): member states from faults, admin state and upgrades (admin
UP cannot lift a fault DOWN); the weighted distribution of a group's offered
load over its serving members; churn counters that the fragmentation model
reads; which site is ACTIVE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from twin import events as ev
from twin.demand import cpu_work
from twin.errors import InvalidEventError
from twin.observed import observed_subject
from twin.state import (
    DOWN,
    DOWN_ADMIN,
    UP,
    UPGRADING,
    TwinState,
    member_sort_key,
)

_CHANGES_FIELDS = ("subjects", "added", "removed", "fields", "notes")


class Changes:
    """What one event changed.

    Attributes:
        subjects: every subject whose inputs changed (``system`` included when
            anything did); rules re-evaluate exactly these.
        added: subjects that appeared.
        removed: subjects that disappeared.
        fields: ``(subject, field, old, new)`` for every recorded attribute change.
        notes: remarks for people (e.g. "admin UP ignored: member is DOWN by fault").
    """

    __slots__ = ("added", "fields", "notes", "removed", "subjects")

    def __init__(
        self,
        subjects: set[str] | None = None,
        added: set[str] | None = None,
        removed: set[str] | None = None,
        fields: list[tuple[str, str, Any, Any]] | None = None,
        notes: list[str] | None = None,
    ) -> None:
        # One of these is built per event: a plain slotted class is ~4x cheaper than attrs.
        self.subjects: set[str] = set() if subjects is None else subjects
        self.added: set[str] = set() if added is None else added
        self.removed: set[str] = set() if removed is None else removed
        self.fields: list[tuple[str, str, Any, Any]] = [] if fields is None else fields
        self.notes: list[str] = [] if notes is None else notes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Changes):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in _CHANGES_FIELDS)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={getattr(self, k)!r}" for k in _CHANGES_FIELDS)
        return f"Changes({inner})"

    def touched_members(self) -> list[str]:
        """Ids of the members (still present) among the touched subjects, in Maestro order."""
        ids = [s[7:] for s in self.subjects if s[:7] == "member:" and s not in self.removed]
        return sorted(ids, key=member_sort_key)

    def touched_groups(self) -> list[int]:
        """Numbers of the groups (still present) among the touched subjects, sorted."""
        return sorted(
            int(s[6:]) for s in self.subjects if s[:6] == "group:" and s not in self.removed
        )


def _set(changes: Changes, subject: str, record: dict[str, Any], key: str, value: Any) -> None:
    old = record.get(key)
    if old != value:
        record[key] = value
        changes.fields.append((subject, key, old, value))
        changes.subjects.add(subject)


def _known(table: dict[Any, Any], key: Any, field: str, what: str) -> None:
    if key not in table:
        known = ", ".join(str(k) for k in sorted(table, key=str)[:12]) or "none yet"
        raise InvalidEventError(f"unknown {what} {key!r} (known: {known})", field=field, value=key)


def _new(table: dict[Any, Any], key: Any, field: str, what: str) -> None:
    if key in table:
        raise InvalidEventError(f"{what} {key!r} already exists", field=field, value=key)


def _derive_state(member: dict[str, Any]) -> str:
    if member["upgrading"]:
        return UPGRADING
    if member["fault"]:
        return DOWN
    if member["admin_down"]:
        return DOWN_ADMIN
    return UP


# -- distribution ---------------------------------------------------------------------------------


def redistribute(state: TwinState, group_id: int, changes: Changes) -> None:
    """Spread a group's offered load over its serving members in proportion to their weights.

    CPU is carried as work: the group's ``cpu_pct`` was measured with the
    cores that served then, so when fewer cores serve, each one works harder.
    A member's own sample (a member-level ``load_changed``) wins over its share.
    This runs on every load event, so it is written for speed: one pass over
    cached shares, and only real changes are recorded.
    """
    group = state.groups[group_id]
    shares, serving = state.distribution(group_id)
    offered = group["offered"]
    conns = offered.get("connections", 0.0)
    cps = offered.get("cps", 0.0)
    gbps = offered.get("throughput_gbps", 0.0)
    work = group["cpu_work"] or 0.0
    for m, share in shares:
        sample = m["sample"]
        c = conns * share
        p = cps * share
        g = gbps * share
        cpu = min(100.0, work * share / m["cores"]) if work else 0.0
        if sample:
            c = float(sample.get("connections", c))
            p = float(sample.get("cps", p))
            g = float(sample.get("throughput_gbps", g))
            cpu = float(sample.get("cpu_pct", cpu))
        _store_load(m, share, c, p, g, cpu, changes)  # records nothing if nothing changed
    if group["serving"] != serving:
        changes.fields.append((f"group:{group_id}", "serving", group["serving"], serving))
        group["serving"] = serving
    changes.subjects.add(f"group:{group_id}")


def _touch_group(state: TwinState, group_id: int, changes: Changes) -> None:
    """Membership, a state, a weight or the ACTIVE site changed: re-plan, then redistribute."""
    state.forget_distribution(group_id)
    redistribute(state, group_id, changes)


def _membership_churn(
    state: TwinState, group_id: int, changes: Changes, except_id: str | None = None
) -> None:
    """A join or leave re-homes backup entries on every other member of the group."""
    for member in state.group_members(group_id):
        if member["id"] != except_id:
            member["membership_churn"] += 1
            changes.subjects.add("member:" + member["id"])


def _restart(member: dict[str, Any]) -> None:
    """A restart (recovery, upgrade) clears fragmentation and stale load samples."""
    member["vs_churn"] = 0
    member["membership_churn"] = 0
    member["conn_turnover"] = 0.0


def _member_state_changed(
    state: TwinState, member: dict[str, Any], changes: Changes, *, restart: bool = False
) -> None:
    subject = f"member:{member['id']}"
    member["sample"] = {}
    if restart:
        _restart(member)
    _set(changes, subject, member, "state", _derive_state(member))
    changes.subjects.add(subject)
    _touch_group(state, member["group"], changes)


# -- handlers ---------------------------------------------------------------------------


def _site_added(state: TwinState, e: ev.SiteAdded, ch: Changes) -> None:
    _new(state.sites, e.site, "site", "site")
    record = {
        "kind": "site",
        "id": e.site,
        "name": e.name or f"site {e.site}",
        "active": not state.sites,
    }
    subject = f"site:{e.site}"
    state.graph.add_node(subject, **record)
    state.sites[e.site] = state.graph.nodes[subject]
    ch.added.add(subject)
    ch.subjects.add(subject)


def _orchestrator_added(state: TwinState, e: ev.OrchestratorAdded, ch: Changes) -> None:
    _new(state.orchestrators, e.orchestrator, "orchestrator", "orchestrator")
    _known(state.sites, e.site, "site", "site")
    subject = f"orchestrator:{e.orchestrator}"
    if subject in state.graph:
        _new({subject: 1}, subject, "orchestrator", "node")
    state.graph.add_node(
        subject, kind="orchestrator", id=e.orchestrator, site=e.site, model=e.model, up=True
    )
    state.orchestrators[e.orchestrator] = state.graph.nodes[subject]
    ch.added.add(subject)
    ch.subjects.add(subject)


def _orchestrator_up(state: TwinState, orchestrator: str, up: bool, ch: Changes) -> None:
    _known(state.orchestrators, orchestrator, "orchestrator", "orchestrator")
    subject = f"orchestrator:{orchestrator}"
    record = state.orchestrators[orchestrator]
    _set(ch, subject, record, "up", up)
    for link in state.links_at(subject):
        ch.subjects.add(f"link:{link['id']}")


def _orchestrator_failed(state: TwinState, e: ev.OrchestratorFailed, ch: Changes) -> None:
    _orchestrator_up(state, e.orchestrator, False, ch)


def _orchestrator_recovered(state: TwinState, e: ev.OrchestratorRecovered, ch: Changes) -> None:
    _orchestrator_up(state, e.orchestrator, True, ch)


def _group_created(state: TwinState, e: ev.GroupCreated, ch: Changes) -> None:
    _new(state.groups, e.group, "group", "group")
    subject = f"group:{e.group}"
    state.graph.add_node(
        subject,
        kind="group",
        id=e.group,
        mode=e.mode,
        hypersync=e.hypersync,
        members=[],
        offered={},
        cpu_work=None,
        serving=0,
    )
    state.groups[e.group] = state.graph.nodes[subject]
    ch.added.add(subject)
    ch.subjects.add(subject)


def _member_added(state: TwinState, e: ev.MemberAdded, ch: Changes) -> None:
    _new(state.members, e.member, "member", "member")
    _known(state.groups, e.group, "group", "group")
    _known(state.sites, e.site, "site", "site")
    if e.hostname is not None:
        for other in state.members.values():
            name = other.get("hostname")
            if name is not None and name.lower() == e.hostname.lower():
                raise InvalidEventError(
                    f"hostname {e.hostname!r} already names member {other['id']}",
                    field="hostname",
                    value=e.hostname,
                )
    subject = f"member:{e.member}"
    state.graph.add_node(
        subject,
        kind="member",
        id=e.member,
        group=e.group,
        site=e.site,
        model=e.model,
        cores=e.cores,
        memory_gb=float(e.memory_gb),
        version=e.version,
        previous_version=None,
        target_version=None,
        weight=e.weight,
        connections_capacity=e.connections_capacity,
        throughput_capacity_gbps=e.throughput_gbps,
        blades=list(e.blades or ()),
        hostname=e.hostname,
        fault=False,
        cause=None,
        admin_down=False,
        upgrading=False,
        state=UP,
        vs={},
        vs_memory_gb=0.0,
        sample={},
        share=0.0,
        connections=0.0,
        cps=0.0,
        cpu_pct=0.0,
        throughput_gbps=0.0,
        vs_churn=0,
        membership_churn=0,
        conn_turnover=0.0,
    )
    member = state.graph.nodes[subject]
    state.members[e.member] = member
    group = state.groups[e.group]
    group["members"] = sorted([*group["members"], e.member], key=member_sort_key)
    state.graph.add_edge(subject, f"group:{e.group}", key=f"in:{e.member}", kind="member_of")
    _membership_churn(state, e.group, ch, except_id=e.member)
    ch.added.add(subject)
    ch.subjects.add(subject)
    _touch_group(state, e.group, ch)


def _member_removed(state: TwinState, e: ev.MemberRemoved, ch: Changes) -> None:
    _known(state.members, e.member, "member", "member")
    in_use = sorted(k for k, v in state.virtual_systems.items() if v["member"] == e.member)
    links = sorted(link["id"] for link in state.links_at(f"member:{e.member}"))
    subject = f"member:{e.member}"
    member = state.members.pop(e.member)
    for vs in in_use:
        del state.virtual_systems[vs]
        ch.removed.add(f"vs:{vs}")
    for link_id in links:
        del state.links[link_id]
        ch.removed.add(f"link:{link_id}")
        ch.subjects.add(f"link:{link_id}")
    state.graph.remove_node(subject)
    group = state.groups[member["group"]]
    group["members"] = [m for m in group["members"] if m != e.member]
    _membership_churn(state, member["group"], ch)
    ch.removed.add(subject)
    ch.subjects.add(subject)
    _touch_group(state, member["group"], ch)


def _member(state: TwinState, member_id: str) -> dict[str, Any]:
    _known(state.members, member_id, "member", "member")
    return state.members[member_id]


def _member_failed(state: TwinState, e: ev.MemberFailed, ch: Changes) -> None:
    member = _member(state, e.member)
    member["fault"] = True
    _set(ch, f"member:{e.member}", member, "cause", e.cause)
    _member_state_changed(state, member, ch)


def _member_recovered(state: TwinState, e: ev.MemberRecovered, ch: Changes) -> None:
    member = _member(state, e.member)
    was_faulted = member["fault"]
    if not was_faulted:
        ch.notes.append(f"member {e.member} was not DOWN by fault; nothing to recover")
    member["fault"] = False
    _set(ch, f"member:{e.member}", member, "cause", None)
    # Only a real recovery is a restart (which clears fragmentation).
    _member_state_changed(state, member, ch, restart=was_faulted)


def _member_admin_changed(state: TwinState, e: ev.MemberAdminChanged, ch: Changes) -> None:
    member = _member(state, e.member)
    member["admin_down"] = not e.up
    if e.up and member["fault"]:
        ch.notes.append(f"admin UP cannot lift a fault: member {e.member} stays DOWN")
    _member_state_changed(state, member, ch)


def _resolve_end(state: TwinState, end: str, field: str) -> str:
    if end in state.graph and not end.startswith("group:"):
        return end
    if end in state.members:
        return f"member:{end}"
    if end in state.orchestrators:
        return f"orchestrator:{end}"
    if end.isdigit() and int(end) in state.sites:
        return f"site:{end}"
    raise InvalidEventError(
        f"unknown link end {end!r}: name a member, an orchestrator or site:N",
        field=field,
        value=end,
    )


def _link_added(state: TwinState, e: ev.LinkAdded, ch: Changes) -> None:
    _new(state.links, e.link, "link", "link")
    a = _resolve_end(state, e.a, "a")
    b = _resolve_end(state, e.b, "b")
    if a == b:
        raise InvalidEventError("a link needs two different ends", field="b", value=e.b)
    state.graph.add_edge(
        a,
        b,
        key=e.link,
        id=e.link,
        a=a,
        b=b,
        kind=e.kind,
        gbps=float(e.gbps),
        dedicated=e.dedicated,
        jumbo=e.jumbo,
        up=True,
    )
    state.links[e.link] = state.graph.edges[a, b, e.link]
    subject = f"link:{e.link}"
    ch.added.add(subject)
    ch.subjects.add(subject)


def _link_up(state: TwinState, link_id: str, up: bool, ch: Changes) -> None:
    _known(state.links, link_id, "link", "link")
    _set(ch, f"link:{link_id}", state.links[link_id], "up", up)
    ch.subjects.add(f"link:{link_id}")


def _link_failed(state: TwinState, e: ev.LinkFailed, ch: Changes) -> None:
    _link_up(state, e.link, False, ch)


def _link_restored(state: TwinState, e: ev.LinkRestored, ch: Changes) -> None:
    _link_up(state, e.link, True, ch)


def _load_changed(state: TwinState, e: ev.LoadChanged, ch: Changes) -> None:
    values = e.values()
    if e.group is not None:
        _known(state.groups, e.group, "group", "group")
        group = state.groups[e.group]
        offered = dict(group["offered"])
        for key in ("connections", "cps", "throughput_gbps"):
            if key in values:
                offered[key] = float(values[key])
        _set(ch, f"group:{e.group}", group, "offered", offered)
        if "cpu_pct" in values:
            # Carry CPU as work (group load is demand, see twin.demand): cpu_pct was the
            # mean over `serving` members; each member's CPU is work x share / cores.
            work = cpu_work(state, e.group, float(values["cpu_pct"]), e.serving)
            _set(ch, f"group:{e.group}", group, "cpu_work", work)
        redistribute(state, e.group, ch)
    else:
        member = _member(state, str(e.member))
        sample = dict(member["sample"])
        sample.update({k: float(v) for k, v in values.items()})
        member["sample"] = sample
        ch.subjects.add(f"member:{e.member}")
        resample(state, member, ch)


def resample(state: TwinState, m: dict[str, Any], changes: Changes) -> None:
    """A member's own sample changed: its load is refreshed, nobody else's.

    The fast path of :func:`redistribute` for member-level ``load_changed``: a
    sample changes neither the group's offered load nor anyone's share, so the
    other members' loads stay as they are. The member's values are computed
    exactly as :func:`redistribute` computes them.
    """
    group_id = m["group"]
    group = state.groups[group_id]
    share = m["share"]
    offered = group["offered"]
    work = group["cpu_work"] or 0.0
    sample = m["sample"]
    c = float(sample.get("connections", offered.get("connections", 0.0) * share))
    p = float(sample.get("cps", offered.get("cps", 0.0) * share))
    g = float(sample.get("throughput_gbps", offered.get("throughput_gbps", 0.0) * share))
    cpu = min(100.0, work * share / m["cores"]) if work else 0.0
    cpu = float(sample.get("cpu_pct", cpu))
    _store_load(m, share, c, p, g, cpu, changes)
    changes.subjects.add(f"group:{group_id}")


def _store_load(
    m: dict[str, Any], share: float, c: float, p: float, g: float, cpu: float, changes: Changes
) -> None:
    """Write a member's load, recording what changed (and its connection turnover)."""
    old_c = m["connections"]
    if (
        old_c == c
        and m["share"] == share
        and m["cps"] == p
        and m["throughput_gbps"] == g
        and m["cpu_pct"] == cpu
    ):
        return
    subject = "member:" + m["id"]
    record = changes.fields.append
    # Unrolled (this runs for every member a load reaches): share, connections, cps,
    # throughput_gbps, cpu_pct, in that order.
    before = m["share"]
    if before != share:
        m["share"] = share
        record((subject, "share", before, share))
    if old_c != c:
        m["connections"] = c
        record((subject, "connections", old_c, c))
    before = m["cps"]
    if before != p:
        m["cps"] = p
        record((subject, "cps", before, p))
    before = m["throughput_gbps"]
    if before != g:
        m["throughput_gbps"] = g
        record((subject, "throughput_gbps", before, g))
    before = m["cpu_pct"]
    if before != cpu:
        m["cpu_pct"] = cpu
        record((subject, "cpu_pct", before, cpu))
    m["conn_turnover"] += abs(c - old_c)
    changes.subjects.add(subject)


def _weight_changed(state: TwinState, e: ev.WeightChanged, ch: Changes) -> None:
    member = _member(state, e.member)
    _set(ch, f"member:{e.member}", member, "weight", e.weight)
    _touch_group(state, member["group"], ch)


def _upgrade_started(state: TwinState, e: ev.UpgradeStarted, ch: Changes) -> None:
    member = _member(state, e.member)
    if member["upgrading"]:
        raise InvalidEventError(
            f"member {e.member} is already upgrading", field="member", value=e.member
        )
    member["upgrading"] = True
    _set(ch, f"member:{e.member}", member, "target_version", e.to_version)
    _member_state_changed(state, member, ch)


def _upgrade_finished(state: TwinState, e: ev.UpgradeFinished, ch: Changes) -> None:
    member = _member(state, e.member)
    if not member["upgrading"]:
        raise InvalidEventError(
            f"member {e.member} is not upgrading (no upgrade_started)",
            field="member",
            value=e.member,
        )
    member["upgrading"] = False
    subject = f"member:{e.member}"
    _set(ch, subject, member, "previous_version", member["version"])
    _set(ch, subject, member, "version", e.version)
    _set(ch, subject, member, "target_version", None)
    _member_state_changed(state, member, ch, restart=True)


def _upgrade_rolled_back(state: TwinState, e: ev.UpgradeRolledBack, ch: Changes) -> None:
    member = _member(state, e.member)
    subject = f"member:{e.member}"
    if member["upgrading"]:
        member["upgrading"] = False
    elif member["previous_version"] is not None:
        _set(ch, subject, member, "version", member["previous_version"])
        _set(ch, subject, member, "previous_version", None)
    else:
        raise InvalidEventError(
            f"member {e.member} has no upgrade to roll back", field="member", value=e.member
        )
    _set(ch, subject, member, "target_version", None)
    _member_state_changed(state, member, ch, restart=True)


def _vs_created(state: TwinState, e: ev.VsCreated, ch: Changes) -> None:
    _new(state.virtual_systems, e.vs, "vs", "virtual system")
    member = _member(state, e.member)
    state.virtual_systems[e.vs] = {"member": e.member, "memory_gb": float(e.memory_gb)}
    subject = f"member:{e.member}"
    _set(ch, subject, member, "vs", {**member["vs"], e.vs: float(e.memory_gb)})
    _set(ch, subject, member, "vs_memory_gb", sum(member["vs"][k] for k in sorted(member["vs"])))
    member["vs_churn"] += 1
    ch.added.add(f"vs:{e.vs}")
    ch.subjects.add(f"group:{member['group']}")


def _vs_removed(state: TwinState, e: ev.VsRemoved, ch: Changes) -> None:
    _known(state.virtual_systems, e.vs, "vs", "virtual system")
    vs = state.virtual_systems.pop(e.vs)
    member = state.members[vs["member"]]
    subject = f"member:{vs['member']}"
    remaining = {k: v for k, v in member["vs"].items() if k != e.vs}
    _set(ch, subject, member, "vs", remaining)
    _set(ch, subject, member, "vs_memory_gb", sum(remaining[k] for k in sorted(remaining)))
    member["vs_churn"] += 1
    ch.removed.add(f"vs:{e.vs}")
    ch.subjects.add(f"group:{member['group']}")


def _hypersync_changed(state: TwinState, e: ev.HypersyncChanged, ch: Changes) -> None:
    _known(state.groups, e.group, "group", "group")
    _set(ch, f"group:{e.group}", state.groups[e.group], "hypersync", e.enabled)
    for member_id in state.groups[e.group]["members"]:
        ch.subjects.add(f"member:{member_id}")


def _checkpoint_interval_changed(
    state: TwinState, e: ev.CheckpointIntervalChanged, ch: Changes
) -> None:
    _set(ch, "system", state.settings, "checkpoint_interval_s", float(e.seconds))


def _site_failover(state: TwinState, e: ev.SiteFailover, ch: Changes) -> None:
    _known(state.sites, e.site, "site", "site")
    for number in sorted(state.sites):
        _set(ch, f"site:{number}", state.sites[number], "active", number == e.site)
    for group_id in sorted(state.groups):
        _touch_group(state, group_id, ch)


def _subject_exists(state: TwinState, subject: str) -> bool:
    kind, _, key = subject.partition(":")
    if subject == "system":
        return True
    if kind == "member":
        return key in state.members
    if kind == "link":
        return key in state.links
    if kind == "orchestrator":
        return key in state.orchestrators
    if kind in ("group", "site") and key.isdigit():
        return int(key) in (state.groups if kind == "group" else state.sites)
    return False


def _metric_observed(state: TwinState, e: ev.MetricObserved, ch: Changes) -> None:
    if not _subject_exists(state, e.subject):
        raise InvalidEventError(
            f"unknown subject {e.subject!r}: observe system or an existing member, group, "
            "site, link or orchestrator",
            field="subject",
            value=e.subject,
        )
    record = {
        "value": float(e.value),
        "source": e.source,
        "seq": None,  # stamped by apply() once the event is accepted
        "occurred_at": None,
    }
    state.observed[e.subject] = {**state.observed.get(e.subject, {}), e.metric: record}
    ch.subjects.add(observed_subject(e.subject, e.metric))


def _note(state: TwinState, e: ev.Note, ch: Changes) -> None:
    """A note changes nothing."""


def _plugin_event(state: TwinState, event: Any, ch: Changes) -> None:
    """A plugin's event type changes the part of the state its plugin owns (plugin API 0.2).

    The class names its namespace (``state_namespace``) and changes a copy of that
    part in ``apply_state(owned)``: a ``ValueError`` refuses the event (the state is
    unchanged), and what it leaves must be plain JSON data (dicts with string keys,
    lists, strings, numbers, booleans, None), because snapshots store it as JSON and
    a restored state must equal a replayed one.
    """
    namespace = getattr(type(event), "state_namespace", None)
    if not isinstance(namespace, str) or not namespace:
        raise TypeError(
            f"{type(event).__name__} has apply_state but no state_namespace (a str naming "
            "the part of the state its plugin owns)"
        )
    before = state.plugin_state.get(namespace, {})
    work = orjson.loads(orjson.dumps(before))  # a deep copy, of plain data
    try:
        event.apply_state(work)
    except ValueError as exc:
        raise InvalidEventError(str(exc), field="type", value=event.event_type) from None
    try:
        plain = orjson.loads(orjson.dumps(work))
    except TypeError as exc:
        raise TypeError(f"{namespace}'s state is not plain JSON data: {exc}") from None
    if plain != work or not isinstance(work, dict):
        raise TypeError(
            f"{namespace}'s state is not plain JSON data (tuples, sets or non-string keys?)"
        )
    if work != before:
        state.plugin_state[namespace] = plain
        subject = f"plugin:{namespace}"
        ch.fields.append((subject, "state", before, plain))
        ch.subjects.add(subject)


def _opaque(state: TwinState, e: ev.OpaqueEvent, ch: Changes) -> None:
    """An event no plugin understands changes nothing; the engine raises an info finding."""


Handler = Callable[[TwinState, Any, Changes], None]

HANDLERS: dict[type[ev.Event], Handler] = {
    ev.SiteAdded: _site_added,
    ev.OrchestratorAdded: _orchestrator_added,
    ev.OrchestratorFailed: _orchestrator_failed,
    ev.OrchestratorRecovered: _orchestrator_recovered,
    ev.GroupCreated: _group_created,
    ev.MemberAdded: _member_added,
    ev.MemberRemoved: _member_removed,
    ev.MemberFailed: _member_failed,
    ev.MemberRecovered: _member_recovered,
    ev.MemberAdminChanged: _member_admin_changed,
    ev.LinkAdded: _link_added,
    ev.LinkFailed: _link_failed,
    ev.LinkRestored: _link_restored,
    ev.LoadChanged: _load_changed,
    ev.WeightChanged: _weight_changed,
    ev.UpgradeStarted: _upgrade_started,
    ev.UpgradeFinished: _upgrade_finished,
    ev.UpgradeRolledBack: _upgrade_rolled_back,
    ev.VsCreated: _vs_created,
    ev.VsRemoved: _vs_removed,
    ev.HypersyncChanged: _hypersync_changed,
    ev.CheckpointIntervalChanged: _checkpoint_interval_changed,
    ev.SiteFailover: _site_failover,
    ev.Note: _note,
    ev.MetricObserved: _metric_observed,
    ev.OpaqueEvent: _opaque,
}


def apply_structure(
    state: TwinState, event: ev.Event, *, seq: int = 0, occurred_at: str = ""
) -> Changes | None:
    """Like :func:`apply`, but a ``load_changed`` is only checked, not folded.

    What validating an append needs is the structure (what exists, which states
    members are in); loads are derived data that nothing refuses, so folding
    them is left to readers. The state this leaves is the structure of the twin
    with stale loads: use it only to check further events, never as the twin.

    Returns:
        What changed, or None for a load that was only checked.

    Raises:
        InvalidEventError: as :func:`apply` (for a load: an unknown group or member).
    """
    if type(event) is not ev.LoadChanged:
        return apply(state, event, seq=seq, occurred_at=occurred_at)
    # What folding it would trip over in a payload edited behind the twin's back.
    for value in (*event.values().values(), 0 if event.serving is None else event.serving):
        kind = type(value)
        if kind is not float and kind is not int:
            raise TypeError(f"a load value is {kind.__name__}, not a number")
    if event.group is not None:
        _known(state.groups, event.group, "group", "group")
    else:
        _member(state, str(event.member))
    state.seq = seq
    state.occurred_at = occurred_at
    return None


def apply(state: TwinState, event: ev.Event, *, seq: int = 0, occurred_at: str = "") -> Changes:
    """Apply one event to ``state`` in place and return what changed.

    Args:
        state: the state to change.
        event: the event to apply.
        seq: the event's journal position (recorded as ``state.seq``).
        occurred_at: the event's domain time (recorded as ``state.occurred_at``).

    Raises:
        InvalidEventError: the event does not fit the state (unknown id, duplicate,
            impossible transition); the state is unchanged.
    """
    changes = Changes()
    handler = HANDLERS.get(type(event))
    if handler is not None:
        handler(state, event, changes)
    elif callable(getattr(event, "apply_state", None)):
        _plugin_event(state, event, changes)
    if changes.subjects:
        changes.subjects.add("system")
    state.seq = seq
    state.occurred_at = occurred_at
    if type(event) is ev.MetricObserved:
        record = state.observed[event.subject][event.metric]
        record["seq"] = seq
        record["occurred_at"] = occurred_at
    return changes
