"""Members: a member out of service, as a finding, so that faults show in timelines.

A member DOWN for a fault (``member_failed``) is an error until it recovers:
its share of the load has moved to the others and the group has one member
less to fail over to. A member taken DOWN by an operator
(``member_admin_changed up=false``) is an info finding: planned, but still a
member less. Postmortems list both among their key moments, and the TUI
marks them on its scrubber.
"""

from __future__ import annotations

from twin.api import (
    DOWN,
    DOWN_ADMIN,
    MEMBER_STATE_EVENTS,
    Finding,
    Metric,
    Parameter,
    Rule,
    RuleContext,
    Severity,
    hookimpl,
    rule,
)

Out = list[Metric | Finding]


@rule(
    id="members.out-of-service",
    summary="a member DOWN for a fault (error) or taken DOWN by an operator (info)",
    events=MEMBER_STATE_EVENTS,
    raises={"members.down": "error", "members.down-admin": "info"},
    incremental=True,
)
def out_of_service(ctx: RuleContext) -> Out:
    """``members.down`` (error, per member) while a member is DOWN for a fault
    (``member_failed``), naming the cause the event gave; it clears when the member
    recovers (``member_recovered``) or is removed. An admin UP does not lift a fault,
    so the finding stays. ``members.down-admin`` (info, per member) while a member is
    DOWN (admin) (``member_admin_changed up=false``) and not faulted; it clears when
    the operator brings it back UP. An UPGRADING member raises neither: the versions
    family follows upgrades."""
    out: Out = []
    members = ctx.state.members
    for member_id in ctx.changes.touched_members():
        m = members[member_id]
        subject = "member:" + member_id
        if m["state"] == DOWN:
            cause = m.get("cause")
            why = f": {cause}" if cause else " (no cause recorded)"
            out.append(
                Finding(
                    "members.down",
                    Severity.ERROR,
                    subject,
                    f"member {member_id} is DOWN{why}; its load moved to the members still "
                    "serving until it recovers",
                    evidence={"cause": cause, "group": m["group"], "site": m["site"]},
                )
            )
        elif m["state"] == DOWN_ADMIN:
            out.append(
                Finding(
                    "members.down-admin",
                    Severity.INFO,
                    subject,
                    f"member {member_id} is DOWN (admin): taken out of service by an operator",
                    evidence={"group": m["group"], "site": m["site"]},
                )
            )
    return out


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The members family's rules."""
    return [out_of_service]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The members family declares no parameters (it reads states, it does not measure)."""
    return []
