"""The topology at one event as a deterministic tree of labelled nodes (no Textual here)."""

from __future__ import annotations

from typing import Any

import attrs

from tui.formatting import printable
from twin.state import member_sort_key

MEMBER_GLYPH = {"UP": "●", "UPGRADING": "◐", "DOWN": "✖", "DOWN_ADMIN": "○"}


@attrs.frozen(slots=True)
class Node:
    """A topology tree node: a label with a status glyph, and its children."""

    label: str
    children: tuple[Node, ...] = ()
    changed: bool = False


def _short(subject: str) -> str:
    """``orchestrator:mho-1a`` → ``mho-1a`` (the kind is clear from the tree)."""
    return str(subject).split(":", 1)[-1]


def _link_node(state: Any, link: dict[str, Any], touched: set[str], ends: bool = False) -> Node:
    up = state.link_is_up(link)
    where = f" {_short(link['a'])}↔{_short(link['b'])}" if ends else f" {link['kind']}"
    label = f"{'⇄' if up else '✖'} {link['id']}{where} {'up' if up else 'DOWN'}"
    return Node(printable(label), changed=f"link:{link['id']}" in touched)


def _member_node(state: Any, mid: str, touched: set[str]) -> Node:
    m = state.members[mid]
    links = tuple(
        _link_node(state, link, touched)
        for link in state.links_at(f"member:{mid}")
        if link.get("kind") != "downlink" or not state.link_is_up(link)
    )
    glyph = MEMBER_GLYPH.get(m["state"], "◌")
    state = "" if m["state"] == "UP" else f" {m['state']}"
    label = f"{glyph} {mid} {m['cpu_pct']:3.0f}% {m['version']}{state}"
    return Node(printable(label), links, f"member:{mid}" in touched)


def topology_nodes(state: Any, touched: set[str]) -> tuple[Node, ...]:
    """Sites → orchestrators, groups → members (glyph, CPU %, links), sync links."""
    nodes: list[Node] = []
    for number in sorted(state.sites):
        site = state.sites[number]
        orchs = tuple(
            Node(
                printable(f"{'●' if o['up'] else '✖'} {oid} {o['model']}"),
                changed=f"orchestrator:{oid}" in touched,
            )
            for oid, o in sorted(state.orchestrators.items())
            if o["site"] == number
        )
        role = "ACTIVE" if site["active"] else "standby"
        label = f"site {number} {role} {site.get('name') or ''}".rstrip()
        nodes.append(Node(printable(label), orchs, f"site:{number}" in touched))
    for gid in sorted(state.groups):
        group = state.groups[gid]
        members = tuple(
            _member_node(state, mid, touched)
            for mid in sorted(group["members"], key=member_sort_key)
        )
        label = f"group {gid} SMO {state.smo_master(gid) or '—'} ({group['mode']})"
        nodes.append(Node(printable(label), members, f"group:{gid}" in touched))
    sync = tuple(
        _link_node(state, link, touched, ends=True) for link in state.links_of_kind("sync")
    )
    if sync:
        nodes.append(Node("sync links", sync))
    return tuple(nodes)
