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

from twin.api import (
    DISTRIBUTION_EVENTS,
    Finding,
    Metric,
    Parameter,
    RuleContext,
    Severity,
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

Out = list[Metric | Finding]


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


def _subject(finding: Finding) -> str:
    return finding.subject


def _touched_members(ctx: RuleContext) -> list[str]:
    members = ctx.state.members
    return [s[7:] for s in ctx.changes.subjects if s[:7] == "member:" and s[7:] in members]


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
)
def usage(ctx: RuleContext) -> Out:
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
    v = ctx.profile.values
    state = ctx.state
    out: Out = []
    findings: list[Finding] = []
    for member_id in _touched_members(ctx):
        m = state.members[member_id]
        subject = "member:" + member_id
        hypersync = state.groups[m["group"]]["hypersync"]
        physical = m["memory_gb"]
        table = m["connections"] * v[ENTRY] * (1 + v[COPIES] if hypersync else 1.0) / 1e9
        vs_gb = m["vs_memory_gb"]
        required = table * (1 + v[HEADROOM] if hypersync else 1.0) + vs_gb
        out.append(Metric(subject, "memory.table_gb", table))
        out.append(Metric(subject, "memory.required_gb", required))
        out.append(Metric(subject, "memory.physical_gb", physical))
        if physical < required:
            findings.append(
                Finding(
                    "memory.headroom",
                    Severity.ERROR,
                    subject,
                    f"member {member_id} needs {required:.1f} GB (tables {table:.1f} GB"
                    f"{' + HyperSync headroom' if hypersync else ''} + VS {vs_gb:g} GB) "
                    f"> {physical:g} GB installed",
                    evidence={"required_gb": required, "physical_gb": physical},
                )
            )
        if vs_gb > v[VS_MAX] * physical:
            findings.append(
                Finding(
                    "memory.vs-over-limit",
                    Severity.ERROR,
                    subject,
                    f"Virtual Systems on {member_id} take {vs_gb:g} GB = "
                    f"{vs_gb / physical:.0%} > {v[VS_MAX]:.0%} of {physical:g} GB",
                    evidence={"vs_gb": vs_gb, "physical_gb": physical},
                )
            )
        blades = len(m["blades"])
        if blades >= v[BLADES] and physical <= v[DEFAULT_GB]:
            findings.append(
                Finding(
                    "memory.upgrade-needed",
                    Severity.WARNING,
                    subject,
                    f"member {member_id} runs {blades} blades on {physical:g} GB "
                    f"(default ≤ {v[DEFAULT_GB]:g} GB): combined services need more memory",
                    evidence={"blades": blades, "physical_gb": physical},
                )
            )
    if len(findings) > 1:
        findings.sort(key=_subject)
    out.extend(findings)
    return out


# Events after which every member of the touched group has new churn counters.
GROUP_WIDE = frozenset({"member_added", "member_removed"})


@rule(
    id="memory.fragmentation",
    summary="memory lost to fragmentation by allocation churn since a member's last restart",
    events=EVENTS,
    parameters=(ENTRY, FRAG_MAX, PER_VS, PER_MEMBERSHIP, PER_TURNOVER, TOLERANCE),
    raises={"memory.fragmented": "warning"},
    metrics={"memory.fragmentation": "0..1"},
    incremental=True,
)
def fragmented(ctx: RuleContext) -> Out:
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
    v = ctx.profile.values
    state = ctx.state
    metrics = ctx.metrics
    subjects = ctx.changes.subjects
    out: Out = []
    findings: list[Finding] = []
    touched = [int(s[6:]) for s in subjects if s[:6] == "group:"]
    ids = {s[7:] for s in subjects if s[:7] == "member:"}
    if ctx.type in GROUP_WIDE:
        for g in touched:
            if g in state.groups:
                ids.update(state.groups[g]["members"])
    fresh: dict[str, float] = {}
    for member_id in ids:
        m = state.members.get(member_id)
        if m is not None:
            frag = fresh[member_id] = fragmentation(m, v)
            out.append(Metric("member:" + member_id, "memory.fragmentation", frag))
    tolerance = v[TOLERANCE]
    group_worst: dict[int, float] = {}
    for g in touched:
        group = state.groups.get(g)
        if group is None:
            continue
        worst = 0.0
        above: list[tuple[str, float]] = []
        for member_id in group["members"]:
            got = fresh.get(member_id)
            if got is None:
                metric = metrics.get("member:" + member_id, "memory.fragmentation")
                got = 0.0 if metric is None else metric.value
            frag = got
            worst = frag if frag > worst else worst
            if frag > tolerance:
                above.append((member_id, frag))
        group_worst[g] = worst
        subject = f"group:{g}"
        out.append(Metric(subject, "memory.fragmentation", worst))
        if above:
            shown = ", ".join(f"{i} {f:.1%}" for i, f in above[:4])
            more = f" and {len(above) - 4} more" if len(above) > 4 else ""
            findings.append(
                Finding(
                    "memory.fragmented",
                    Severity.WARNING,
                    subject,
                    f"fragmentation above {tolerance:.0%} of free memory on {shown}{more}: "
                    "a restart clears it",
                    evidence={"members": dict(above)},
                )
            )
    if state.groups:
        worst_all = 0.0
        for g in state.groups:
            known = group_worst.get(g)
            if known is None:
                metric = metrics.get(f"group:{g}", "memory.fragmentation")
                known = 0.0 if metric is None else metric.value
            worst = known
            worst_all = worst if worst > worst_all else worst_all
        out.append(Metric("system", "memory.fragmentation", worst_all))
    if len(findings) > 1:
        findings.sort(key=_subject)
    out.extend(findings)
    return out


@hookimpl
def twin_register_rules() -> list[Any]:
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
        ),
        parameter(
            VS_MAX,
            0.80,
            "ratio",
            provenance="seed",
            source="seed note: Limit VS instances to 80% of physical memory, reserve 20% for "
            "HyperSync",
            summary="largest share of physical memory Virtual Systems may take",
        ),
        parameter(
            ENTRY,
            1000,
            "B",
            provenance="assumption",
            source="assumption: one connection costs about 1 kB across the firewall, SecureXL and"
            " NAT tables; calibrate from `fw tab -s` on a member",
            summary="memory per connection-table entry",
        ),
        parameter(
            COPIES,
            1,
            "copies",
            provenance="assumption",
            source="domain reference §1.9 (inferred, widely reported): HyperSync keeps one backup"
            " entry per connection on another member",
            summary="backup entries each connection keeps on other members",
        ),
        parameter(
            FRAG_MAX,
            0.25,
            "0..1",
            provenance="assumption",
            source="assumption: allocators lose at most about a quarter of free memory to "
            "fragmentation before compaction or a restart",
            summary="fragmentation that endless churn tends to",
        ),
        parameter(
            PER_VS,
            0.05,
            "1/change",
            provenance="assumption",
            source="assumption: a Virtual System create or remove moves GBs at once; about 20 of "
            "them take fragmentation to 63% of its maximum",
            summary="churn weight of one VS created or removed",
        ),
        parameter(
            PER_MEMBERSHIP,
            0.01,
            "1/change",
            provenance="assumption",
            source="assumption: a member joining or leaving re-homes backup entries, a fifth of a"
            " VS change",
            summary="churn weight of one member joining or leaving the group",
        ),
        parameter(
            PER_TURNOVER,
            0.5,
            "1/turnover",
            provenance="assumption",
            source="assumption: freeing connection entries worth twice the physical memory takes "
            "fragmentation to 63% of its maximum",
            summary="churn weight of connection-table GB freed per physical GB",
        ),
        parameter(
            TOLERANCE,
            0.10,
            "0..1",
            provenance="assumption",
            source="assumption: losing more than 10% of free memory is worth a planned restart",
            summary="fragmentation above which memory.fragmented warns",
        ),
        parameter(
            BLADES,
            5,
            "blades",
            provenance="assumption",
            source="assumption: five blades is a firewall with the usual threat-prevention bundle"
            " (IPS, Application Control, URL Filtering, Anti-Bot): combined services",
            summary="blade count from which a member runs combined services",
        ),
        parameter(
            DEFAULT_GB,
            64,
            "GB",
            provenance="assumption",
            source="assumption: the event catalog's default member memory ("
            "member_added memory_gb 64) stands for the appliance's base configuration",
            summary="memory at or below which a member has the default configuration",
        ),
    ]
