"""A :class:`~twin.state.TwinState` rebuilt from its canonical plain data, validated.

Snapshots store the state as the plain data of
:meth:`TwinState.to_canonical` (JSON: strings, numbers, lists, dicts), never
as pickles: a journal may come from a stranger, and nothing read from it may
run code. Loading checks the data like any other input — shapes, id types,
the fields the reducer reads, and that every reference (a member's group, a
link's ends, a group's member list) points at something that exists — and
refuses it with :class:`ValueError` otherwise. ``from_canonical(s.to_canonical())``
has the same digest as ``s`` and behaves the same under further events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twin.state import TwinState

# The fields the reducer and the rules read from each record (more may be present).
_SITE = frozenset({"kind", "id", "name", "active"})
_ORCHESTRATOR = frozenset({"kind", "id", "site", "model", "up"})
_GROUP = frozenset({"kind", "id", "mode", "hypersync", "members", "offered", "cpu_work", "serving"})
_MEMBER = frozenset(
    {
        "kind",
        "id",
        "group",
        "site",
        "model",
        "cores",
        "memory_gb",
        "version",
        "previous_version",
        "target_version",
        "weight",
        "connections_capacity",
        "throughput_capacity_gbps",
        "blades",
        "fault",
        "cause",
        "admin_down",
        "upgrading",
        "state",
        "vs",
        "vs_memory_gb",
        "sample",
        "share",
        "connections",
        "cps",
        "cpu_pct",
        "throughput_gbps",
        "vs_churn",
        "membership_churn",
        "conn_turnover",
    }
)
_LINK = frozenset({"id", "a", "b", "kind", "gbps", "dedicated", "jumbo", "up"})
_VS = frozenset({"vs", "member", "memory_gb"})
_TOP = frozenset(
    {
        "seq",
        "occurred_at",
        "settings",
        "sites",
        "orchestrators",
        "groups",
        "members",
        "links",
        "virtual_systems",
    }
)


def _records(data: dict[str, Any], name: str, needed: frozenset[str]) -> list[dict[str, Any]]:
    records = data[name]
    if not isinstance(records, list):
        raise ValueError(f"{name}: not a list")
    for record in records:
        if not isinstance(record, dict):
            raise ValueError(f"{name}: a record is not a table")
        missing = needed - record.keys()
        if missing:
            raise ValueError(f"{name}: a record lacks {', '.join(sorted(missing))}")
    return records


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(problem)


def _unique(records: list[dict[str, Any]], name: str, id_ok: Callable[[Any], bool]) -> None:
    seen: set[Any] = set()
    for record in records:
        ident = record["id"]
        _check(id_ok(ident), f"{name}: bad id {ident!r}")
        _check(ident not in seen, f"{name}: duplicate id {ident!r}")
        seen.add(ident)


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def from_canonical(data: Any) -> TwinState:
    """The state whose canonical data is ``data`` (from :meth:`TwinState.to_canonical`).

    Raises:
        ValueError: ``data`` is not the canonical data of a consistent state.
    """
    _check(isinstance(data, dict), "not a table")
    missing = _TOP - data.keys()
    _check(not missing, f"lacks {', '.join(sorted(missing))}")
    _check(_is_int(data["seq"]) and data["seq"] >= 0, "bad seq")
    _check(isinstance(data["occurred_at"], str), "bad occurred_at")
    _check(isinstance(data["settings"], dict), "bad settings")
    sites = _records(data, "sites", _SITE)
    orchestrators = _records(data, "orchestrators", _ORCHESTRATOR)
    groups = _records(data, "groups", _GROUP)
    members = _records(data, "members", _MEMBER)
    links = _records(data, "links", _LINK)
    systems = _records(data, "virtual_systems", _VS)
    _unique(sites, "sites", _is_int)
    _unique(orchestrators, "orchestrators", _is_name)
    _unique(groups, "groups", _is_int)
    _unique(members, "members", _is_name)
    _unique(links, "links", _is_name)

    state = TwinState()
    state.seq = data["seq"]
    state.occurred_at = data["occurred_at"]
    state.settings = dict(data["settings"])
    graph = state.graph
    for record in sites:
        subject = f"site:{record['id']}"
        graph.add_node(subject, **record)
        state.sites[record["id"]] = graph.nodes[subject]
    for record in orchestrators:
        _check(record["site"] in state.sites, f"orchestrator {record['id']}: unknown site")
        subject = f"orchestrator:{record['id']}"
        graph.add_node(subject, **record)
        state.orchestrators[record["id"]] = graph.nodes[subject]
    for record in groups:
        _check(isinstance(record["members"], list), f"group {record['id']}: bad members")
        _check(isinstance(record["offered"], dict), f"group {record['id']}: bad offered")
        subject = f"group:{record['id']}"
        graph.add_node(subject, **{**record, "members": list(record["members"])})
        state.groups[record["id"]] = graph.nodes[subject]
    for record in members:
        ident = record["id"]
        _check(record["group"] in state.groups, f"member {ident}: unknown group")
        _check(record["site"] in state.sites, f"member {ident}: unknown site")
        _check(_is_int(record["cores"]) and record["cores"] > 0, f"member {ident}: bad cores")
        for key in ("vs", "sample"):
            _check(isinstance(record[key], dict), f"member {ident}: bad {key}")
        _check(isinstance(record["blades"], list), f"member {ident}: bad blades")
        for key in ("share", "connections", "cps", "cpu_pct", "throughput_gbps", "memory_gb"):
            _check(_is_number(record[key]), f"member {ident}: bad {key}")
        subject = f"member:{ident}"
        graph.add_node(subject, **record)
        state.members[ident] = graph.nodes[subject]
        graph.add_edge(subject, f"group:{record['group']}", key=f"in:{ident}", kind="member_of")
    for number, group in state.groups.items():
        listed = group["members"]
        actual = sorted(m for m, rec in state.members.items() if rec["group"] == number)
        _check(sorted(listed) == actual, f"group {number}: member list does not match")
    for record in links:
        for end in (record["a"], record["b"]):
            _check(isinstance(end, str) and end in graph, f"link {record['id']}: unknown end")
        _check(record["a"] != record["b"], f"link {record['id']}: both ends are the same")
        graph.add_edge(record["a"], record["b"], key=record["id"], **record)
        state.links[record["id"]] = graph.edges[record["a"], record["b"], record["id"]]
    observed = data.get("observed", {})
    _check(isinstance(observed, dict), "bad observed")
    for subject, metrics in observed.items():
        _check(isinstance(metrics, dict), f"observed {subject!r}: not a table")
        for metric, record in metrics.items():
            _check(
                isinstance(record, dict)
                and _is_number(record.get("value"))
                and isinstance(record.get("source"), str | None)
                and _is_int(record.get("seq"))
                and isinstance(record.get("occurred_at"), str),
                f"observed {subject!r} {metric!r}: bad record",
            )
        state.observed[subject] = {m: dict(r) for m, r in metrics.items()}
    owned = data.get("plugin_state", {})
    _check(isinstance(owned, dict), "bad plugin_state")
    for namespace, part in owned.items():
        _check(
            _is_name(namespace) and isinstance(part, dict),
            f"plugin_state {namespace!r}: not a table",
        )
        state.plugin_state[namespace] = part
    for record in systems:
        ident = record["vs"]
        _check(_is_name(ident) and ident not in state.virtual_systems, f"bad vs id {ident!r}")
        _check(record["member"] in state.members, f"vs {ident}: unknown member")
        _check(_is_number(record["memory_gb"]), f"vs {ident}: bad memory_gb")
        state.virtual_systems[ident] = {
            "member": record["member"],
            "memory_gb": record["memory_gb"],
        }
    return state
