"""The twin's state: a networkx graph of sites, orchestrators, groups, members and links.

Nodes are keyed by subject strings (``site:1``, ``orchestrator:mho-1``,
``group:1``, ``member:1_01``); links are edges of a multigraph keyed by link
id. The dictionaries ``sites``, ``orchestrators``, ``groups``, ``members`` and
``links`` hold the *same* attribute dicts as the graph (no copies), so rules
reach a member in one lookup.

Only :mod:`twin.reducer` changes a state. Rules get it read-only and use the
query methods here (``serving_members``, ``smo_master``, ``link_is_up``...).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

import orjson

from twin.records import GroupRecord, LinkRecord, MemberRecord, OrchestratorRecord, SiteRecord

if TYPE_CHECKING:
    import networkx as nx

# Member states (contract §2, domain reference §2).
UP = "UP"
DOWN = "DOWN"
DOWN_ADMIN = "DOWN_ADMIN"
UPGRADING = "UPGRADING"
MEMBER_STATES = (UP, DOWN, DOWN_ADMIN, UPGRADING)

ACTIVE = "ACTIVE"
STANDBY = "STANDBY"

LOAD_KEYS = ("connections", "cps", "cpu_pct", "throughput_gbps")


def member_sort_key(member_id: str) -> tuple[int, int, str]:
    """Order member ids as Maestro does: by site, then member number (``1_2`` < ``1_10``)."""
    site, _, n = member_id.partition("_")
    try:
        return (int(site), int(n), member_id)
    except ValueError:
        return (1 << 30, 0, member_id)


class TwinState:
    """A Maestro deployment at one point of its journal.

    Attributes:
        graph: the topology; node and edge attribute dicts are the records below.
        sites: site number → site record (``active`` is True for the ACTIVE site).
        orchestrators: orchestrator id → record (``up``).
        groups: group number → record (``members`` sorted, offered load, ``hypersync``).
        members: member id → record (state, hardware, derived load, churn counters).
        links: link id → edge record (``kind``, ``gbps``, ``up``, endpoints ``a``/``b``).
        virtual_systems: VS id → ``{"member": id, "memory_gb": float}``.
        observed: subject → metric → the latest ``metric_observed`` of it
            (``value``, ``source``, ``seq``, ``occurred_at``): what a gateway really showed.
        settings: deployment-wide settings (``checkpoint_interval_s``).
        plugin_state: namespace → the part of the state a plugin owns (plain JSON data),
            changed only by the plugin's own event types (``apply_state``, plugin API
            0.2); in the digest and in snapshots.
        seq: the seq of the last event applied (0 for an empty state).
        occurred_at: the domain time of the last event applied.
    """

    def __init__(self) -> None:
        import networkx as nx  # loaded with the first state, not by `twin --help`

        self.graph: nx.MultiGraph = nx.MultiGraph()
        self.sites: dict[int, dict[str, Any]] = {}
        self.orchestrators: dict[str, dict[str, Any]] = {}
        self.groups: dict[int, dict[str, Any]] = {}
        self.members: dict[str, dict[str, Any]] = {}
        self.links: dict[str, dict[str, Any]] = {}
        self.virtual_systems: dict[str, dict[str, Any]] = {}
        self.settings: dict[str, Any] = {"checkpoint_interval_s": None}
        self.observed: dict[str, dict[str, dict[str, Any]]] = {}
        self.plugin_state: dict[str, dict[str, Any]] = {}
        self.seq = 0
        self.occurred_at = ""
        # Derived, never part of the digest: group -> members with their load shares.
        self.distribution_cache: dict[int, Any] = {}

    # -- typed records (plugin API 0.2) -----------------------------------------------------

    def member(self, member_id: str) -> MemberRecord:
        """Member ``member_id``'s record, typed (the same dict as ``members[member_id]``).

        Raises:
            KeyError: no such member.
        """
        return cast(MemberRecord, self.members[member_id])

    def group(self, group: int) -> GroupRecord:
        """Group ``group``'s record, typed (the same dict as ``groups[group]``).

        Raises:
            KeyError: no such group.
        """
        return cast(GroupRecord, self.groups[group])

    def site(self, site: int) -> SiteRecord:
        """Site ``site``'s record, typed (the same dict as ``sites[site]``).

        Raises:
            KeyError: no such site.
        """
        return cast(SiteRecord, self.sites[site])

    def orchestrator(self, orchestrator: str) -> OrchestratorRecord:
        """Orchestrator ``orchestrator``'s record, typed.

        Raises:
            KeyError: no such orchestrator.
        """
        return cast(OrchestratorRecord, self.orchestrators[orchestrator])

    def link(self, link: str) -> LinkRecord:
        """Link ``link``'s record, typed (the same dict as ``links[link]``).

        Raises:
            KeyError: no such link.
        """
        return cast(LinkRecord, self.links[link])

    def owned(self, namespace: str) -> Mapping[str, Any]:
        """The part of the state plugin namespace ``namespace`` owns (empty until it has any).

        Read-only for rules; only the plugin's own events change it (``apply_state``).
        """
        return MappingProxyType(self.plugin_state.get(namespace, {}))

    def serving(self, group: int) -> tuple[MemberRecord, ...]:
        """The members that carry ``group``'s traffic, typed (see :meth:`serving_members`)."""
        return cast("tuple[MemberRecord, ...]", self._plan(group)[2])

    def members_of(self, group: int) -> list[MemberRecord]:
        """Every member of ``group`` in Maestro id order, typed."""
        members = self.members
        return [cast(MemberRecord, members[m]) for m in self.groups[group]["members"]]

    # -- queries ---------------------------------------------------------------------------

    @property
    def active_site(self) -> int | None:
        """The ACTIVE site's number (None before any site exists)."""
        for number in sorted(self.sites):
            if self.sites[number]["active"]:
                return number
        return None

    def member_by_hostname(self, hostname: str) -> str | None:
        """The id of the member whose ``hostname`` is ``hostname`` (any case), or None."""
        wanted = hostname.lower()
        for member_id in sorted(self.members, key=member_sort_key):
            name = self.members[member_id].get("hostname")
            if name is not None and name.lower() == wanted:
                return member_id
        return None

    def member_weight(self, member: dict[str, Any]) -> int:
        """A member's distribution weight: its own, or its core count by default."""
        weight = member["weight"]
        return int(member["cores"] if weight is None else weight)

    def group_members(self, group: int) -> Iterator[dict[str, Any]]:
        """The members of ``group`` in Maestro id order."""
        for member_id in self.groups[group]["members"]:
            yield self.members[member_id]

    def serving_members(self, group: int) -> tuple[dict[str, Any], ...]:
        """UP members that carry the group's traffic (read-only; cached).

        In a dual-site deployment only the ACTIVE site's members serve; the
        standby site holds backups. If the ACTIVE site has no UP member of the
        group, every UP member serves (the site grade would fail over).
        """
        return self._plan(group)[2]

    def distribution(self, group: int) -> tuple[tuple[tuple[dict[str, Any], float], ...], int]:
        """Each member of ``group`` with its share of the group's load, and how many serve.

        A serving member's share is its weight ÷ the serving members' weights
        (weight: its own, or its cores); everyone else's is 0.
        """
        shares, count, _serving = self._plan(group)
        return shares, count

    def forget_distribution(self, group: int) -> None:
        """Drop the cached plan of ``group`` (membership, states, weights or site changed)."""
        self.distribution_cache.pop(group, None)

    def _plan(
        self, group: int
    ) -> tuple[tuple[tuple[dict[str, Any], float], ...], int, tuple[dict[str, Any], ...]]:
        plan = self.distribution_cache.get(group)
        if plan is None:
            members = list(self.group_members(group))
            up = [m for m in members if m["state"] == UP]
            active = self.active_site
            serving = tuple([m for m in up if m["site"] == active] or up)
            weights = {m["id"]: self.member_weight(m) for m in serving}
            total = sum(weights[k] for k in sorted(weights))
            shares = tuple(
                (m, weights[m["id"]] / total if m["id"] in weights and total > 0 else 0.0)
                for m in members
            )
            plan = (shares, len(serving), serving)
            self.distribution_cache[group] = plan
        return plan

    def smo_master(self, group: int) -> str | None:
        """The SMO master: the UP member with the lowest id (None when none is UP)."""
        for m in self.group_members(group):
            if m["state"] == UP:
                return str(m["id"])
        return None

    def link_is_up(self, link: dict[str, Any]) -> bool:
        """A link carries traffic: it is up and neither end is a failed orchestrator."""
        if not link["up"]:
            return False
        for end in (link["a"], link["b"]):
            if end.startswith("orchestrator:") and not self.graph.nodes[end]["up"]:
                return False
        return True

    def links_of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every link of ``kind`` (``sync``, ``downlink``...), in id order."""
        return [self.links[k] for k in sorted(self.links) if self.links[k]["kind"] == kind]

    def links_at(self, subject: str) -> list[dict[str, Any]]:
        """The links with one end at ``subject`` (e.g. ``member:1_01``), in id order.

        In id order rather than the graph's insertion order, so that a state
        rebuilt from a snapshot lists them exactly as a replay from scratch does.
        """
        if subject not in self.graph:
            return []
        found = [
            data
            for _a, _b, data in self.graph.edges(subject, data=True)
            if data.get("kind") != "member_of"
        ]
        return sorted(found, key=lambda link: str(link["id"]))

    # -- identity --------------------------------------------------------------------------

    def to_canonical(self) -> dict[str, Any]:
        """The state as plain sorted data: the basis of :meth:`digest` and ``twin state``."""

        def clean(record: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key in sorted(record):
                value = record[key]
                if isinstance(value, set | frozenset):
                    value = sorted(value)
                elif isinstance(value, tuple):
                    value = list(value)
                elif isinstance(value, dict):
                    value = {str(k): value[k] for k in sorted(value, key=str)}
                out[key] = value
            return out

        canonical: dict[str, Any] = {
            "seq": self.seq,
            "occurred_at": self.occurred_at,
            "settings": clean(self.settings),
            "sites": [clean(self.sites[k]) for k in sorted(self.sites)],
            "orchestrators": [clean(self.orchestrators[k]) for k in sorted(self.orchestrators)],
            "groups": [clean(self.groups[k]) for k in sorted(self.groups)],
            "members": [clean(self.members[k]) for k in sorted(self.members, key=member_sort_key)],
            "links": [clean(self.links[k]) for k in sorted(self.links)],
            "virtual_systems": [
                {"vs": k, **clean(self.virtual_systems[k])} for k in sorted(self.virtual_systems)
            ],
            "observed": {
                s: {m: clean(self.observed[s][m]) for m in sorted(self.observed[s])}
                for s in sorted(self.observed)
            },
        }
        if self.plugin_state:  # absent when empty: states without plugin state keep their digest
            canonical["plugin_state"] = {k: self.plugin_state[k] for k in sorted(self.plugin_state)}
        return canonical

    def digest(self) -> str:
        """SHA-256 of the canonical state: equal states have equal digests, in any process."""
        blob = orjson.dumps(self.to_canonical(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(blob).hexdigest()

    def node_link_data(self) -> dict[str, Any]:
        """The topology as node-link data (``twin state --format json``'s ``topology``).

        Nodes, links and their attributes in a canonical order (not the graph's
        insertion order), so the output is the same whether the state was
        replayed from the first event or rebuilt from a snapshot.
        """
        import networkx as nx

        data: dict[str, Any] = nx.node_link_data(self.graph, edges="links")
        data["nodes"] = sorted(
            ({k: node[k] for k in sorted(node)} for node in data["nodes"]),
            key=lambda node: str(node["id"]),
        )
        data["links"] = sorted(
            ({k: link[k] for k in sorted(link)} for link in data["links"]),
            key=lambda link: (str(link["key"]), str(link["source"]), str(link["target"])),
        )
        return data
