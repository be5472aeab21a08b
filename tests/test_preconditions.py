"""Operator actions a change plan refuses, each with the field and why."""

from __future__ import annotations

from typing import ClassVar

import attrs
import pytest

from twin import events as ev
from twin.preconditions import PreconditionError, check
from twin.reducer import apply
from twin.state import TwinState
from twin.testing.builders import dual_site, single_site


def state_of(events: list[tuple[str, dict[str, object]]]) -> TwinState:
    registry = ev.default_registry()
    state = TwinState()
    for kind, data in events:
        apply(state, registry.decode(kind, data))
    return state


def refused(state: TwinState, event: ev.Event) -> PreconditionError:
    with pytest.raises(PreconditionError) as caught:
        check(state, event)
    return caught.value


def test_a_member_that_does_not_exist() -> None:
    state = state_of(single_site(members=2))
    error = refused(state, ev.MemberFailed(member="1_09"))
    assert error.field == "member"
    assert "1_09 does not exist" in error.problem and "1_01, 1_02" in error.problem
    assert refused(state, ev.LoadChanged(member="1_09", cpu_pct=3.0)).field == "member"


def test_upgrading_a_member_down_for_a_fault() -> None:
    state = state_of(
        [*single_site(members=3), ("member_failed", {"member": "1_02", "cause": "hw"})]
    )
    error = refused(state, ev.UpgradeStarted(member="1_02", to_version="R82"))
    assert "DOWN for a fault (hw)" in error.problem and "recover it" in error.problem


def test_finishing_an_upgrade_that_never_started() -> None:
    state = state_of(single_site(members=3))
    error = refused(state, ev.UpgradeFinished(member="1_02", version="R82"))
    assert "never started" in error.problem


def test_rolling_back_nothing() -> None:
    state = state_of(single_site(members=3))
    assert "no upgrade to roll back" in refused(state, ev.UpgradeRolledBack(member="1_01")).problem


def test_admin_up_on_a_member_down_for_a_fault() -> None:
    state = state_of([*single_site(members=3), ("member_failed", {"member": "1_03"})])
    error = refused(state, ev.MemberAdminChanged(member="1_03", up=True))
    assert error.field == "up" and "cannot lift a fault" in error.problem


@pytest.mark.parametrize(
    "event",
    [
        ev.MemberRemoved(member="1_02"),
        ev.MemberAdminChanged(member="1_02", up=False),
        ev.UpgradeStarted(member="1_02", to_version="R82"),
    ],
    ids=["removed", "admin-down", "upgrade"],
)
def test_taking_the_last_up_member_of_the_active_site_out_of_service(event: ev.Event) -> None:
    state = state_of([*dual_site(members_per_site=2), ("member_failed", {"member": "1_01"})])
    error = refused(state, event)
    assert "last UP member of group 1 at site 1, the ACTIVE site" in error.problem


def test_the_standby_site_may_be_emptied_and_failures_are_never_refused() -> None:
    state = state_of([*dual_site(members_per_site=2), ("member_failed", {"member": "2_01"})])
    check(state, ev.UpgradeStarted(member="2_02", to_version="R82"))  # site 2 is standby
    check(state, ev.MemberFailed(member="1_01"))
    state = state_of(single_site(members=1))
    check(state, ev.MemberFailed(member="1_01"))  # a plan may rehearse losing anything


def test_a_weight_outside_0_to_512() -> None:
    state = state_of(single_site(members=2))
    # Built without validation, as a plugin or a hand-made object could.
    bad = object.__new__(ev.WeightChanged)
    object.__setattr__(bad, "member", "1_01")
    object.__setattr__(bad, "weight", 600)
    assert refused(state, bad).field == "weight"


def test_sensible_steps_pass() -> None:
    state = state_of(single_site(members=3))
    for event in (
        ev.UpgradeStarted(member="1_01", to_version="R82"),
        ev.MemberAdminChanged(member="1_02", up=False),
        ev.WeightChanged(member="1_03", weight=512),
        ev.MemberAdded(member="1_04", group=1, site=1),
        ev.Note(text="anything"),
    ):
        check(state, event)


# -- plugin event types ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DrainRequested(ev.Event):
    """A plugin's event: an operator asks for a member to be drained (changes no state)."""

    event_type: ClassVar[str] = "acme_drain_requested"
    member: str
    group: int | None = None
    ticket: str = ""


def test_a_plugin_event_naming_a_member_that_does_not_exist_is_refused() -> None:
    state = state_of(single_site(members=2))
    error = refused(state, DrainRequested(member="1_09", ticket="CHG-1"))
    assert error.field == "member" and error.value == "1_09"
    assert "member 1_09 does not exist at this point (members: 1_01, 1_02)" in error.problem
    assert "acme_drain_requested names it in its 'member' field" in error.problem
    assert refused(state, DrainRequested(member="1_01", group=7)).field == "group"


def test_a_plugin_event_naming_what_exists_is_not_second_guessed() -> None:
    state = state_of(
        [*single_site(members=2), ("member_failed", {"member": "1_02", "cause": "hw"})]
    )
    # A faulted member, group 1: the twin cannot know what the plugin's event means beyond names.
    check(state, DrainRequested(member="1_02", group=1))
    check(state, DrainRequested(member="1_01", ticket="no group given"))
