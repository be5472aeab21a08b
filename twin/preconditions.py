"""Domain preconditions: operator actions that make no sense in the state they would land on.

The reducer refuses what cannot happen at all (an unknown id, finishing an
upgrade that never started). A change plan is stricter: it describes what an
operator intends to do, and some intentions are mistakes even where the
reducer could model their outcome. :func:`check` names the first broken
precondition of one event against the state before it; plans refuse such a
step (exit 2) with the step number and this reason.

What is refused, and why (domain reference §2.2, §2.3, §5.2):

- naming a member that does not exist;
- upgrading a member that is DOWN for a fault (recover it first);
- finishing (or rolling back) an upgrade that never started;
- admin UP on a member DOWN for a fault (``g_clusterXL_admin`` cannot lift a fault);
- taking the last UP member of a group at the ACTIVE site out of service
  (removing it, admin DOWN, or upgrading it): that site would carry nothing;
- a weight outside 0..512.

Failures (``member_failed``, ``link_failed``...) are never refused: a plan may
rehearse losing anything.

A plugin's event type changes no state, and the twin cannot know what it
means; but its fields named like the catalog's references (``member``,
``group``, ``site``, ``link``, ``orchestrator``, ``vs``) are taken as such:
naming one that does not exist at that point is refused like a core event's
(a plan step "drain 1_09" on a twin without 1_09 is a mistake, whoever
defined the step's type). Nothing else is checked for plugin types.
"""

from __future__ import annotations

from typing import Any

from twin import events as ev
from twin.errors import InvalidEventError
from twin.state import UP, TwinState, member_sort_key

MEMBER_EVENTS: tuple[type[ev.Event], ...] = (
    ev.MemberRemoved,
    ev.MemberFailed,
    ev.MemberRecovered,
    ev.MemberAdminChanged,
    ev.WeightChanged,
    ev.UpgradeStarted,
    ev.UpgradeFinished,
    ev.UpgradeRolledBack,
    ev.VsCreated,
)
"""Core events that name an existing member in their ``member`` field."""


class PreconditionError(InvalidEventError):
    """An event the state could take, but an operator should not do (a plan refuses it)."""


def _refuse(problem: str, field: str, value: Any) -> PreconditionError:
    return PreconditionError(problem, field=field, value=value)


def _known_members(state: TwinState) -> str:
    ids = sorted(state.members, key=member_sort_key)
    if not ids:
        return "none yet"
    shown = ", ".join(ids[:12])
    return shown + (f" and {len(ids) - 12} more" if len(ids) > 12 else "")


def _fault(member: dict[str, Any]) -> str:
    cause = member.get("cause")
    return f"DOWN for a fault ({cause})" if cause else "DOWN for a fault"


def _last_at_active_site(state: TwinState, member: dict[str, Any]) -> int | None:
    """The ACTIVE site's number if ``member`` is the last UP member of its group there."""
    active = state.active_site
    if member["state"] != UP or member["site"] != active:
        return None
    others = [
        m
        for m in state.group_members(member["group"])
        if m["id"] != member["id"] and m["site"] == active and m["state"] == UP
    ]
    return None if others else active


PLUGIN_REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("member", "members", "member"),
    ("group", "groups", "group"),
    ("site", "sites", "site"),
    ("link", "links", "link"),
    ("orchestrator", "orchestrators", "orchestrator"),
    ("vs", "virtual_systems", "virtual system"),
)
"""``(field, TwinState attribute, what)``: a plugin event's fields read as references."""

_CORE = frozenset(ev.CORE_EVENTS)


def _exists(known: dict[Any, Any], value: Any) -> bool:
    """``value`` names a key of ``known`` (``"1"`` names group 1, as text sources give it)."""
    if isinstance(value, bool):
        return False
    if value in known:
        return True
    if isinstance(value, str) and value.strip().isdigit():
        return int(value) in known
    return isinstance(value, int) and str(value) in known


def _listing(known: dict[Any, Any], what: str, state: TwinState) -> str:
    if what == "member":
        return _known_members(state)
    names = sorted(str(k) for k in known)
    if not names:
        return "none yet"
    more = f" and {len(names) - 12} more" if len(names) > 12 else ""
    return ", ".join(names[:12]) + more


def _check_plugin_references(state: TwinState, event: ev.Event) -> None:
    """A plugin event naming a member (group, site, link...) that does not exist is refused."""
    data = event.to_data()
    for field, attribute, what in PLUGIN_REFERENCES:
        value = data.get(field)
        if value is None:
            continue
        known: dict[Any, Any] = getattr(state, attribute)
        if not _exists(known, value):
            raise _refuse(
                f"{what} {value} does not exist at this point ({what}s: "
                f"{_listing(known, what, state)}); {event.event_type} names it in its "
                f"{field!r} field",
                field,
                value,
            )


def check(state: TwinState, event: ev.Event) -> None:
    """Refuse ``event`` if it breaks a precondition in ``state`` (the state before it).

    Args:
        state: the twin before the event; not changed.
        event: the proposed event.

    Raises:
        PreconditionError: the first broken precondition, naming the field and why.
    """
    if type(event) not in _CORE and not isinstance(event, ev.OpaqueEvent):
        _check_plugin_references(state, event)
        return
    if isinstance(event, ev.WeightChanged) and not 0 <= event.weight <= 512:
        raise _refuse(f"weight {event.weight} is outside 0..512", "weight", event.weight)
    if isinstance(event, ev.LoadChanged) and event.member is not None:
        member_id = event.member
    elif isinstance(event, MEMBER_EVENTS):
        member_id = str(getattr(event, "member"))  # noqa: B009  (every one of them has it)
    else:
        return
    if member_id not in state.members:
        raise _refuse(
            f"member {member_id} does not exist at this point (members: {_known_members(state)})",
            "member",
            member_id,
        )
    member = state.members[member_id]
    faulted = bool(member["fault"])
    if isinstance(event, ev.UpgradeStarted) and faulted:
        raise _refuse(
            f"member {member_id} is {_fault(member)}; recover it before upgrading it",
            "member",
            member_id,
        )
    if isinstance(event, ev.UpgradeFinished) and not member["upgrading"]:
        raise _refuse(
            f"member {member_id} is not upgrading: finishing an upgrade that never started "
            "(add an upgrade_started step first)",
            "member",
            member_id,
        )
    if isinstance(event, ev.UpgradeRolledBack) and not (
        member["upgrading"] or member["previous_version"] is not None
    ):
        raise _refuse(f"member {member_id} has no upgrade to roll back", "member", member_id)
    if isinstance(event, ev.MemberAdminChanged) and event.up and faulted:
        raise _refuse(
            f"member {member_id} is {_fault(member)}: admin UP cannot lift a fault "
            "(a member_recovered step can)",
            "up",
            event.up,
        )
    leaves_service = (
        isinstance(event, ev.MemberRemoved)
        or (isinstance(event, ev.MemberAdminChanged) and not event.up)
        or isinstance(event, ev.UpgradeStarted)
    )
    if leaves_service:
        site = _last_at_active_site(state, member)
        if site is not None:
            raise _refuse(
                f"member {member_id} is the last UP member of group {member['group']} at "
                f"site {site}, the ACTIVE site: taking it out of service leaves that site "
                "with none (fail over to the other site first, or bring another member UP)",
                "member",
                member_id,
            )
