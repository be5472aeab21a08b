"""Topology builders: the genesis events of a typical deployment, ready for ``run_scenario``.

Every builder returns a plain list of ``(type, data)`` tuples, so scenarios
are built by adding lists::

    events = single_site(members=4) + group_load(connections=2_000_000, cps=80_000)
    result = run_scenario(events + [("member_failed", {"member": "1_02"})])

Naming, so that tests can refer to what a builder made:

- members are ``<site>_<nn>`` (``1_01``, ``1_02``, ``2_01``...);
- orchestrators are ``mho-<site>-<k>`` (``mho-1-1``);
- downlinks are ``dl-<member>-<k>`` (member to its site's ``k``-th orchestrator);
- sync links are ``sync-<site>-<k>`` (orchestrator to its site, dedicated, jumbo);
- the link between two sites is ``site-1-2``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

EventTuple = tuple[str, dict[str, Any]]
"""One event as ``(type, data)``: what builders return and ``run_scenario`` takes."""


def member_id(site: int, n: int) -> str:
    """The Maestro id of the ``n``-th member (from 1) at ``site``: ``member_id(1, 2) == "1_02"``."""
    return f"{site}_{n:02d}"


def orchestrator_id(site: int, k: int) -> str:
    """The id builders give the ``k``-th orchestrator (from 1) at ``site``: ``mho-1-1``."""
    return f"mho-{site}-{k}"


def _site(
    site: int,
    *,
    members: int,
    group: int,
    cores: int,
    memory_gb: float,
    version: str,
    sync_links: int,
    sync_gbps: float,
    orchestrators: int,
) -> tuple[list[EventTuple], list[EventTuple]]:
    """The nodes and the links of one site (nodes first, so links can name them)."""
    if members < 0 or orchestrators < 1 or sync_links < 0:
        raise ValueError("members and sync_links must be >= 0, orchestrators >= 1")
    mhos = [orchestrator_id(site, k) for k in range(1, orchestrators + 1)]
    nodes: list[EventTuple] = [
        ("orchestrator_added", {"orchestrator": mho, "site": site}) for mho in mhos
    ]
    links: list[EventTuple] = []
    for n in range(1, members + 1):
        member = member_id(site, n)
        nodes.append(
            (
                "member_added",
                {
                    "member": member,
                    "group": group,
                    "site": site,
                    "cores": cores,
                    "memory_gb": memory_gb,
                    "version": version,
                },
            )
        )
        for k, mho in enumerate(mhos, start=1):
            links.append(
                (
                    "link_added",
                    {"link": f"dl-{member}-{k}", "a": member, "b": mho, "kind": "downlink"},
                )
            )
    for k in range(1, sync_links + 1):
        links.append(
            (
                "link_added",
                {
                    "link": f"sync-{site}-{k}",
                    "a": mhos[(k - 1) % len(mhos)],
                    "b": f"site:{site}",
                    "kind": "sync",
                    "gbps": sync_gbps,
                    "dedicated": True,
                    "jumbo": True,
                },
            )
        )
    return nodes, links


def single_site(
    members: int = 4,
    group: int = 1,
    cores: int = 16,
    memory_gb: float = 64,
    version: str = "R81.20",
    hypersync: bool = True,
    sync_links: int = 1,
    *,
    site: int = 1,
    orchestrators: int = 2,
    sync_gbps: float = 10.0,
) -> list[EventTuple]:
    """One site with one Security Group of identical members.

    Args:
        members: how many members (``1_01`` ... ``1_<members>``).
        group: the Security Group number.
        cores: CPU cores of each member.
        memory_gb: installed memory of each member.
        version: software version of each member.
        hypersync: HyperSync on for the group.
        sync_links: dedicated sync links (``sync-1-1``...), each ``sync_gbps`` with jumbo frames.
        site: the site number.
        orchestrators: orchestrators at the site; every member has a downlink to each.
        sync_gbps: speed of each sync link.

    Returns:
        The events, in an order the reducer accepts: site, orchestrators,
        group, members, then links.
    """
    nodes, links = _site(
        site,
        members=members,
        group=group,
        cores=cores,
        memory_gb=memory_gb,
        version=version,
        sync_links=sync_links,
        sync_gbps=sync_gbps,
        orchestrators=orchestrators,
    )
    head: list[EventTuple] = [
        ("site_added", {"site": site}),
        ("group_created", {"group": group, "hypersync": hypersync}),
    ]
    return head + nodes + links


def dual_site(
    members_per_site: int = 3,
    group: int = 1,
    cores: int = 16,
    memory_gb: float = 64,
    version: str = "R81.20",
    hypersync: bool = True,
    sync_links: int = 1,
    *,
    orchestrators_per_site: int = 1,
    sync_gbps: float = 10.0,
    site_link_gbps: float = 100.0,
) -> list[EventTuple]:
    """Two sites (site 1 ACTIVE, site 2 STANDBY) sharing one Security Group.

    Args:
        members_per_site: members at each site (``1_01``..., ``2_01``...).
        group: the Security Group number.
        cores: CPU cores of each member.
        memory_gb: installed memory of each member.
        version: software version of each member.
        hypersync: HyperSync on for the group.
        sync_links: dedicated sync links per site.
        orchestrators_per_site: orchestrators at each site.
        sync_gbps: speed of each sync link.
        site_link_gbps: speed of the link between the sites (``site-1-2``).

    Returns:
        The events: both sites, the group, each site's orchestrators and
        members, then every link.
    """
    events: list[EventTuple] = [
        ("site_added", {"site": 1}),
        ("site_added", {"site": 2}),
        ("group_created", {"group": group, "hypersync": hypersync}),
    ]
    all_links: list[EventTuple] = []
    for site in (1, 2):
        nodes, links = _site(
            site,
            members=members_per_site,
            group=group,
            cores=cores,
            memory_gb=memory_gb,
            version=version,
            sync_links=sync_links,
            sync_gbps=sync_gbps,
            orchestrators=orchestrators_per_site,
        )
        events += nodes
        all_links += links
    all_links.append(
        (
            "link_added",
            {
                "link": "site-1-2",
                "a": "site:1",
                "b": "site:2",
                "kind": "site",
                "gbps": site_link_gbps,
            },
        )
    )
    return events + all_links


def _load(target: dict[str, Any], values: dict[str, float | int | None]) -> list[EventTuple]:
    given = {k: v for k, v in values.items() if v is not None}
    if not given:
        raise ValueError("give at least one of connections, cps, cpu_pct, throughput_gbps")
    return [("load_changed", {**target, **given})]


def group_load(
    connections: int | None = None,
    cps: float | None = None,
    cpu_pct: float | None = None,
    throughput_gbps: float | None = None,
    *,
    group: int = 1,
) -> list[EventTuple]:
    """Offered load on a whole group (the reducer spreads it over UP members by weight).

    Only the values given change; the others keep their previous level.

    Raises:
        ValueError: no value given.
    """
    values = {
        "connections": connections,
        "cps": cps,
        "cpu_pct": cpu_pct,
        "throughput_gbps": throughput_gbps,
    }
    return _load({"group": group}, values)


def member_load(
    member: str,
    connections: int | None = None,
    cps: float | None = None,
    cpu_pct: float | None = None,
    throughput_gbps: float | None = None,
) -> list[EventTuple]:
    """A load sample measured on one member (it wins over the member's share of group load).

    Raises:
        ValueError: no value given.
    """
    values = {
        "connections": connections,
        "cps": cps,
        "cpu_pct": cpu_pct,
        "throughput_gbps": throughput_gbps,
    }
    return _load({"member": member}, values)


def member_failure(member: str, cause: str | None = None) -> list[EventTuple]:
    """A member goes DOWN through a fault."""
    data: dict[str, Any] = {"member": member}
    if cause is not None:
        data["cause"] = cause
    return [("member_failed", data)]


def member_recovery(member: str) -> list[EventTuple]:
    """A faulted member comes back UP."""
    return [("member_recovered", {"member": member})]


def rolling_upgrade(members: Iterable[str], to_version: str) -> list[EventTuple]:
    """Upgrade members one at a time: ``upgrade_started`` then ``upgrade_finished`` each."""
    events: list[EventTuple] = []
    for member in members:
        events.append(("upgrade_started", {"member": member, "to_version": to_version}))
        events.append(("upgrade_finished", {"member": member, "version": to_version}))
    return events


def smoke_events() -> list[EventTuple]:
    """The standard smoke set ``check_plugin`` evaluates: every core event type at least once.

    A dual-site group of three members per site, then load, failures and
    recoveries, an admin change, link and orchestrator faults, weights,
    Virtual Systems, HyperSync and checkpoint changes, upgrades (finished and
    rolled back), site failovers, CPU overload, and a member that joins and
    leaves.
    """
    events = dual_site(members_per_site=3)
    events += group_load(connections=2_000_000, cps=90_000, cpu_pct=45, throughput_gbps=40)
    events += member_load("1_01", cpu_pct=50)
    events += member_failure("1_02", cause="pnote:Interface Active Check")
    events += group_load(connections=2_600_000, cps=120_000)
    events += member_recovery("1_02")
    events += [
        ("member_admin_changed", {"member": "1_03", "up": False}),
        ("member_admin_changed", {"member": "1_03", "up": True}),
        ("link_failed", {"link": "sync-1-1"}),
        ("link_restored", {"link": "sync-1-1"}),
        ("orchestrator_failed", {"orchestrator": orchestrator_id(2, 1)}),
        ("orchestrator_recovered", {"orchestrator": orchestrator_id(2, 1)}),
        ("weight_changed", {"member": "1_03", "weight": 8}),
        ("vs_created", {"vs": "vs-1", "member": "1_01", "memory_gb": 8}),
        ("vs_created", {"vs": "vs-2", "member": "1_01", "memory_gb": 48}),
        ("vs_removed", {"vs": "vs-2"}),
        ("hypersync_changed", {"group": 1, "enabled": False}),
        ("hypersync_changed", {"group": 1, "enabled": True}),
        ("checkpoint_interval_changed", {"seconds": 10}),
        ("checkpoint_interval_changed", {"seconds": 60}),
        ("upgrade_started", {"member": "1_01", "to_version": "R82"}),
        ("upgrade_finished", {"member": "1_01", "version": "R82"}),
        ("upgrade_started", {"member": "1_02", "to_version": "R82"}),
        ("upgrade_rolled_back", {"member": "1_02"}),
        ("upgrade_rolled_back", {"member": "1_01"}),
    ]
    events += rolling_upgrade(["1_01", "1_02", "1_03", "2_01", "2_02", "2_03"], "R82")
    events += [
        ("site_failover", {"site": 2}),
        ("member_failed", {"member": "2_01"}),
        ("site_failover", {"site": 1}),
        ("member_recovered", {"member": "2_01"}),
        ("note", {"text": "smoke: peak hour begins"}),
        (
            "metric_observed",
            {"subject": "member:1_01", "metric": "load.cpu_pct", "value": 55, "source": "smoke"},
        ),
    ]
    events += group_load(connections=5_000_000, cps=250_000, cpu_pct=92)
    events += [
        (
            "member_added",
            {"member": "1_04", "group": 1, "site": 1, "cores": 32, "memory_gb": 128},
        ),
        ("link_added", {"link": "dl-1_04-1", "a": "1_04", "b": "mho-1-1", "kind": "downlink"}),
        ("member_removed", {"member": "1_04"}),
    ]
    events += group_load(connections=0, cps=0, cpu_pct=0, throughput_gbps=0)
    return events


def event_types(events: Sequence[EventTuple]) -> set[str]:
    """The set of event types in ``events`` (handy for coverage assertions)."""
    return {event_type for event_type, _data in events}
