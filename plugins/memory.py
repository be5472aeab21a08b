"""Memory: connection tables, HyperSync headroom, Virtual Systems, fragmentation.

Model lines 5 (HyperSync needs 20% headroom beyond the connection tables),
6 (Virtual Systems may use at most 80% of physical memory), 13 (allocation
churn fragments memory until a restart) and 14 (combined services on a
default memory configuration need a hardware upgrade).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from twin.api import (
    DISTRIBUTION_EVENTS,
    Parameter,
    Rule,
    RuleContext,
    Segment,
    expm1_exact,
    hookimpl,
    parameter,
    rule,
)

HEADROOM = "memory.hypersync_headroom"
VS_MAX = "memory.vs_max_fraction"
ENTRY = "memory.bytes_per_connection"
COPIES = "hypersync.backup_copies"
FRAG_MAX = "memory.fragmentation_max"
PER_VS = "memory.fragmentation_per_vs_change"
PER_MEMBERSHIP = "memory.fragmentation_per_membership_change"
PER_TURNOVER = "memory.fragmentation_per_turnover"
TOLERANCE = "memory.fragmentation_tolerance"
BLADES = "memory.combined_services_blades"
DEFAULT_GB = "memory.default_gb"
NAMES: tuple[str, ...] = (HEADROOM, VS_MAX, ENTRY, COPIES, FRAG_MAX, PER_VS, PER_MEMBERSHIP)
NAMES += (PER_TURNOVER, TOLERANCE, BLADES, DEFAULT_GB)

EVENTS = (*DISTRIBUTION_EVENTS, "hypersync_changed", "vs_created", "vs_removed")


def fragmentation(member: dict[str, Any], v: Mapping[str, float]) -> float:
    """The member's fragmentation (0..max) from the reducer's churn counters."""
    # conn_turnover sums |Δconnections| since the last restart: growth plus shrinkage.
    # Only entries freed fragment memory; freed = (turnover − connections now) ÷ 2.
    freed = (member["conn_turnover"] - member["connections"]) / 2
    freed_gb = freed * v[ENTRY] / 1e9 if freed > 0 else 0.0
    churn = (
        v[PER_VS] * member["vs_churn"]
        + v[PER_MEMBERSHIP] * member["membership_churn"]
        + v[PER_TURNOVER] * freed_gb / member["memory_gb"]
    )
    return v[FRAG_MAX] * -math.expm1(-churn)


def _tables(ctx: RuleContext, m: dict[str, Any]) -> tuple[float, float, bool]:
    """(connection-table GB, required GB, HyperSync on) of a member."""
    v = ctx.values
    hypersync: bool = ctx.state.groups[m["group"]]["hypersync"]
    table: float = m["connections"] * v[ENTRY] * (1 + v[COPIES] if hypersync else 1.0) / 1e9
    required: float = table * (1 + v[HEADROOM] if hypersync else 1.0) + m["vs_memory_gb"]
    return table, required, hypersync


def _table_gb(ctx: RuleContext, m: dict[str, Any]) -> float:
    return _tables(ctx, m)[0]


def _required_gb(ctx: RuleContext, m: dict[str, Any]) -> float:
    return _tables(ctx, m)[1]


def _physical_gb(ctx: RuleContext, m: dict[str, Any]) -> float:
    physical: float = m["memory_gb"]
    return physical


def _headroom_message(e: Mapping[str, Any]) -> str:
    headroom = " + HyperSync headroom" if e["hypersync"] else ""
    return (
        f"member {e['member']} needs {e['required_gb']:.1f} GB (tables {e['table_gb']:.1f} GB"
        f"{headroom} + VS {e['vs_gb']:g} GB) > {e['physical_gb']:g} GB installed"
    )


VS_OVER = (
    "Virtual Systems on {member} take {vs_gb:g} GB = {share:.0%} > {limit:.0%} "
    "of {physical_gb:g} GB"
)
UPGRADE = (
    "member {member} runs {blades} blades on {physical_gb:g} GB "
    "(default ≤ {default_gb:g} GB): combined services need more memory"
)


def _usage_segment(seg: Segment) -> None:
    """:func:`usage` over a run of load events (the same arithmetic, on columns)."""
    v = seg.values
    vs_max = v[VS_MAX]
    state = seg.state
    touched = seg.loads.members
    rows: dict[str, tuple[Any, Any]] = {}
    for g, group_table in seg.loads.tables.items():  # a group's members at once, same arithmetic
        on = bool(state.groups[g]["hypersync"])
        vs = np.fromiter((state.members[i]["vs_memory_gb"] for i in group_table.ids), np.float64)
        tables = group_table.connections * v[ENTRY] * (1 + v[COPIES] if on else 1.0) / 1e9
        needs = tables * (1 + v[HEADROOM] if on else 1.0) + vs[:, None]
        rows.update(zip(group_table.ids, zip(tables, needs, strict=True), strict=True))
    for member_id, m in state.members.items():
        subject = "member:" + member_id
        hypersync = bool(state.groups[m["group"]]["hypersync"])
        found = rows.get(member_id)
        if found is not None:
            table, required = found
        else:
            connections = seg.member_loads(member_id).connections
            table = connections * v[ENTRY] * (1 + v[COPIES] if hypersync else 1.0) / 1e9
            required = table * (1 + v[HEADROOM] if hypersync else 1.0) + m["vs_memory_gb"]
        physical = m["memory_gb"]
        vs_gb = m["vs_memory_gb"]
        if member_id in touched:
            seg.metric(subject, "memory.table_gb", table)
            seg.metric(subject, "memory.required_gb", required)
            seg.metric(subject, "memory.physical_gb", physical)
        seg.finding(
            "memory.headroom",
            subject,
            _headroom_message,
            physical < required,
            member=member_id,
            required_gb=required,
            table_gb=table,
            vs_gb=vs_gb,
            physical_gb=physical,
            hypersync=hypersync,
        )
        seg.finding(
            "memory.vs-over-limit",
            subject,
            VS_OVER,
            vs_gb > vs_max * physical,
            member=member_id,
            vs_gb=vs_gb,
            share=vs_gb / physical,
            limit=vs_max,
            physical_gb=physical,
        )
        blades = len(m["blades"])
        seg.finding(
            "memory.upgrade-needed",
            subject,
            UPGRADE,
            blades >= v[BLADES] and physical <= v[DEFAULT_GB],
            member=member_id,
            blades=blades,
            physical_gb=physical,
            default_gb=v[DEFAULT_GB],
        )


@rule(
    id="memory.usage",
    summary="connection-table memory, HyperSync headroom, VS limit, memory upgrades",
    events=EVENTS,
    parameters=(HEADROOM, VS_MAX, ENTRY, COPIES, BLADES, DEFAULT_GB),
    raises={
        "memory.headroom": "error",
        "memory.vs-over-limit": "error",
        "memory.upgrade-needed": "warning",
    },
    metrics={"memory.table_gb": "GB", "memory.required_gb": "GB", "memory.physical_gb": "GB"},
    incremental=True,
    per_member={
        "memory.table_gb": _table_gb,
        "memory.required_gb": _required_gb,
        "memory.physical_gb": _physical_gb,
    },
    segment=_usage_segment,
)
def usage(ctx: RuleContext) -> None:
    """Per member: ``memory.table_gb`` = connections × ``memory.bytes_per_connection``
    × (1 + ``hypersync.backup_copies`` when the group's HyperSync is on: each member
    also holds backup entries of its peers' connections) ÷ 1e9.
    ``memory.required_gb`` = table × (1 + ``memory.hypersync_headroom``, with HyperSync
    on only) + the member's Virtual Systems' memory. ``memory.physical_gb`` = installed
    memory.

    Findings per member: ``memory.headroom`` when physical < required;
    ``memory.vs-over-limit`` when VS memory > ``memory.vs_max_fraction`` × physical;
    ``memory.upgrade-needed`` when it runs ≥ ``memory.combined_services_blades`` blades
    on ≤ ``memory.default_gb`` of memory (combined services on a default memory
    configuration)."""
    v = ctx.values
    vs_max = v[VS_MAX]
    members = ctx.state.members
    for subject in ctx.changes.subjects:
        if subject[:7] != "member:":
            continue
        m = members.get(subject[7:])
        if m is None:
            continue
        physical = m["memory_gb"]
        table, required, hypersync = _tables(ctx, m)
        vs_gb = m["vs_memory_gb"]
        if physical < required:
            ctx.finding(
                "memory.headroom",
                subject,
                _headroom_message,
                member=m["id"],
                required_gb=required,
                table_gb=table,
                vs_gb=vs_gb,
                physical_gb=physical,
                hypersync=hypersync,
            )
        if vs_gb > vs_max * physical:
            ctx.finding(
                "memory.vs-over-limit",
                subject,
                VS_OVER,
                member=m["id"],
                vs_gb=vs_gb,
                share=vs_gb / physical,
                limit=vs_max,
                physical_gb=physical,
            )
        blades = len(m["blades"])
        if blades >= v[BLADES] and physical <= v[DEFAULT_GB]:
            ctx.finding(
                "memory.upgrade-needed",
                subject,
                UPGRADE,
                member=m["id"],
                blades=blades,
                physical_gb=physical,
                default_gb=v[DEFAULT_GB],
            )


# Events after which every member of the touched group has new churn counters.
GROUP_WIDE = frozenset({"member_added", "member_removed"})


def _fragmented_message(e: Mapping[str, Any]) -> str:
    above: Mapping[str, float] = e["members"]
    shown = ", ".join(f"{i} {f:.1%}" for i, f in list(above.items())[:4])
    more = f" and {len(above) - 4} more" if len(above) > 4 else ""
    return (
        f"fragmentation above {e['tolerance']:.0%} of free memory on {shown}{more}: "
        "a restart clears it"
    )


def _fragmented_segment(seg: Segment) -> None:
    """:func:`fragmented` over a run of load events (the same arithmetic, on columns)."""
    v = seg.values
    state = seg.state
    # A whole group's members at once (one row each), the same arithmetic as below.
    rows: dict[str, Any] = {}
    with np.errstate(invalid="ignore"):
        for table in seg.loads.tables.values():
            found = [state.members[i] for i in table.ids]
            n = len(found)
            fixed = np.fromiter(
                (
                    v[PER_VS] * m["vs_churn"] + v[PER_MEMBERSHIP] * m["membership_churn"]
                    for m in found
                ),
                dtype=np.float64,
                count=n,
            )[:, None]
            memory = np.fromiter((m["memory_gb"] for m in found), dtype=np.float64, count=n)
            freed = (table.conn_turnover - table.connections) / 2
            freed_gb = np.where(freed > 0, freed * v[ENTRY] / 1e9, 0.0)
            churn = fixed + v[PER_TURNOVER] * freed_gb / memory[:, None]
            table_frag = v[FRAG_MAX] * -expm1_exact(-churn.ravel()).reshape(churn.shape)
            rows.update(zip(table.ids, table_frag, strict=True))
    for member_id, loads in seg.loads.members.items():
        frag: Any = rows.get(member_id)
        if frag is None:  # a member another rule asked for: its loads are constant
            m = state.members[member_id]
            freed = (loads.conn_turnover - loads.connections) / 2
            with np.errstate(invalid="ignore"):
                freed_gb = np.where(freed > 0, freed * v[ENTRY] / 1e9, 0.0)
            churn = (
                v[PER_VS] * m["vs_churn"]
                + v[PER_MEMBERSHIP] * m["membership_churn"]
                + v[PER_TURNOVER] * freed_gb / m["memory_gb"]
            )
            frag = v[FRAG_MAX] * -expm1_exact(-churn)
        seg.metric("member:" + member_id, "memory.fragmentation", frag)
    tolerance = v[TOLERANCE]
    worst_all: Any = 0.0
    for g, group in state.groups.items():
        worst: Any = 0.0
        above: list[tuple[str, Any]] = []
        for member_id in group["members"]:
            frag = seg.column("member:" + member_id, "memory.fragmentation", 0.0)
            worst = np.maximum(worst, frag)
            above.append((member_id, frag))
        subject = f"group:{g}"
        seg.metric(subject, "memory.fragmentation", worst)
        holds = worst > tolerance
        members = np.empty(seg.size, dtype=object)
        for i in np.flatnonzero(holds).tolist():
            members[i] = {mid: float(f[i]) for mid, f in above if f[i] > tolerance}
        seg.finding(
            "memory.fragmented",
            subject,
            _fragmented_message,
            holds,
            members=members,
            tolerance=tolerance,
        )
        worst_all = np.maximum(worst_all, worst)
    if state.groups:
        seg.metric("system", "memory.fragmentation", worst_all)


@rule(
    id="memory.fragmentation",
    summary="memory lost to fragmentation by allocation churn since a member's last restart",
    events=EVENTS,
    parameters=(ENTRY, FRAG_MAX, PER_VS, PER_MEMBERSHIP, PER_TURNOVER, TOLERANCE),
    raises={"memory.fragmented": "warning"},
    metrics={"memory.fragmentation": "0..1"},
    incremental=True,
    segment=_fragmented_segment,
)
def fragmented(ctx: RuleContext) -> None:
    """``memory.fragmentation`` (per member) = ``memory.fragmentation_max`` × (1 − e^−x),
    x = ``memory.fragmentation_per_vs_change`` × Virtual Systems created and removed
    + ``memory.fragmentation_per_membership_change`` × members that joined or left its
    group + ``memory.fragmentation_per_turnover`` × connection-table GB freed ÷ physical
    GB (freed entries = (the reducer's turnover Σ|Δconnections| − connections now) ÷ 2,
    × ``memory.bytes_per_connection``: growing the table does not fragment it, load
    swings do), all counted by the reducer since the member's last restart: recovery,
    upgrade and rollback bring it back to 0. It rises with churn and saturates;
    ``capacity`` takes it off the member's connection capacity. Per group and system:
    the worst member's value, because the most fragmented member runs out first.

    ``memory.fragmented`` (warning, per group) names the members whose fragmentation
    is above ``memory.fragmentation_tolerance``: restarting them clears it. It is
    judged per group because a member's churn counters also move when a peer joins or
    leaves, and the group is what such an event touches."""
    v = ctx.values
    state = ctx.state
    stored = ctx.metrics.value
    subjects = ctx.changes.subjects
    touched = ctx.touched_groups()
    ids = {s[7:] for s in subjects if s[:7] == "member:"}
    if ctx.type in GROUP_WIDE:
        for g in touched:
            ids.update(state.groups[g]["members"])
    fresh: dict[str, float] = {}
    # fragmentation(m, v), inlined with the parameters read once: a group sample
    # changes every member of the group, so this runs a dozen times per event.
    entry, frag_max = v[ENTRY], v[FRAG_MAX]
    per_vs, per_membership, per_turnover = v[PER_VS], v[PER_MEMBERSHIP], v[PER_TURNOVER]
    expm1 = math.expm1
    record = ctx.metric
    members = state.members
    for member_id in ids:
        m = members.get(member_id)
        if m is not None:
            freed = (m["conn_turnover"] - m["connections"]) / 2
            freed_gb = freed * entry / 1e9 if freed > 0 else 0.0
            churn = (
                per_vs * m["vs_churn"]
                + per_membership * m["membership_churn"]
                + per_turnover * freed_gb / m["memory_gb"]
            )
            frag = fresh[member_id] = frag_max * -expm1(-churn)
            record("member:" + member_id, "memory.fragmentation", frag)
    tolerance = v[TOLERANCE]
    group_worst: dict[int, float] = {}
    for g in touched:
        group = state.groups[g]
        worst = 0.0
        above: dict[str, float] = {}
        for member_id in group["members"]:
            got = fresh.get(member_id)
            frag = (
                stored("member:" + member_id, "memory.fragmentation", 0.0) if got is None else got
            )
            if frag > worst:
                worst = frag
            if frag > tolerance:
                above[member_id] = frag
        group_worst[g] = worst
        subject = f"group:{g}"
        ctx.metric(subject, "memory.fragmentation", worst)
        if above:
            ctx.finding(
                "memory.fragmented",
                subject,
                _fragmented_message,
                members=above,
                tolerance=tolerance,
            )
    if state.groups:
        worst_all = 0.0
        for g in state.groups:
            got = group_worst.get(g)
            known = stored(f"group:{g}", "memory.fragmentation", 0.0) if got is None else got
            if known > worst_all:
                worst_all = known
        ctx.metric("system", "memory.fragmentation", worst_all)


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The memory family's rules."""
    return [usage, fragmented]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The memory family's parameters."""
    return [
        parameter(
            HEADROOM,
            0.20,
            "ratio",
            provenance="seed",
            source="seed note: HyperSync operations require 20% memory headroom beyond connection"
            " tables",
            summary="memory HyperSync needs on top of the connection tables",
            domain="non-negative",
        ),
        parameter(
            VS_MAX,
            0.80,
            "ratio",
            provenance="seed",
            source="seed note: Limit VS instances to 80% of physical memory, reserve 20% for "
            "HyperSync",
            summary="largest share of physical memory Virtual Systems may take",
            domain="share",
        ),
        parameter(
            ENTRY,
            1000,
            "B",
            provenance="assumption",
            source="assumption: one connection costs about 1 kB across the firewall, SecureXL and"
            " NAT tables; calibrate from `fw tab -s` on a member",
            summary="memory per connection-table entry",
            domain="positive",
        ),
        parameter(
            COPIES,
            1,
            "copies",
            provenance="assumption",
            source="domain reference §1.9 (inferred, widely reported): HyperSync keeps one backup"
            " entry per connection on another member",
            summary="backup entries each connection keeps on other members",
            domain="non-negative",
        ),
        parameter(
            FRAG_MAX,
            0.25,
            "0..1",
            provenance="assumption",
            source="assumption: allocators lose at most about a quarter of free memory to "
            "fragmentation before compaction or a restart",
            summary="fragmentation that endless churn tends to",
            domain="fraction",
        ),
        parameter(
            PER_VS,
            0.05,
            "1/change",
            provenance="assumption",
            source="assumption: a Virtual System create or remove moves GBs at once; about 20 of "
            "them take fragmentation to 63% of its maximum",
            summary="churn weight of one VS created or removed",
            domain="non-negative",
        ),
        parameter(
            PER_MEMBERSHIP,
            0.01,
            "1/change",
            provenance="assumption",
            source="assumption: a member joining or leaving re-homes backup entries, a fifth of a"
            " VS change",
            summary="churn weight of one member joining or leaving the group",
            domain="non-negative",
        ),
        parameter(
            PER_TURNOVER,
            0.5,
            "1/turnover",
            provenance="assumption",
            source="assumption: freeing connection entries worth twice the physical memory takes "
            "fragmentation to 63% of its maximum",
            summary="churn weight of connection-table GB freed per physical GB",
            domain="non-negative",
        ),
        parameter(
            TOLERANCE,
            0.10,
            "0..1",
            provenance="assumption",
            source="assumption: losing more than 10% of free memory is worth a planned restart",
            summary="fragmentation above which memory.fragmented warns",
            domain="fraction",
        ),
        parameter(
            BLADES,
            5,
            "blades",
            provenance="assumption",
            source="assumption: five blades is a firewall with the usual threat-prevention bundle"
            " (IPS, Application Control, URL Filtering, Anti-Bot): combined services",
            summary="blade count from which a member runs combined services",
            domain="positive",
        ),
        parameter(
            DEFAULT_GB,
            64,
            "GB",
            provenance="assumption",
            source="assumption: the event catalog's default member memory ("
            "member_added memory_gb 64) stands for the appliance's base configuration",
            summary="memory at or below which a member has the default configuration",
            domain="positive",
        ),
    ]
