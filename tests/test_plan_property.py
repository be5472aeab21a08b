"""Property: checking a plan gives what appending its steps to a branch by hand and replaying does.

For random valid event sequences, the first part becomes a base journal and
the rest a plan. The plan is checked (on a read-only what-if session); the
same steps are appended to a branch of the base by hand, with the times the
plan gives them and, for group loads, the serving count of the base point
(counted here from the state, as the rule in docs/events.md says), and the
branch is replayed. After every step the metrics and active findings agree.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from journal import Journal
from twin.event_files import NewEvent
from twin.plan import parse_plan
from twin.plan.check import check_plan
from twin.plan.edit import step_text
from twin.plugin_manager import TwinPluginManager
from twin.preconditions import PreconditionError
from twin.replay import Replay
from twin.state import UP, TwinState
from twin.testing.strategies import event_sequences

MANAGER = TwinPluginManager(autoload=False, strict=True).load()
PROFILE = MANAGER.profile()
REGISTRY = MANAGER.event_registry()
START = datetime(2026, 5, 20, 1, 0, tzinfo=UTC)
_count = itertools.count()


def serving_by_hand(state: TwinState, group: int) -> int:
    members = [state.members[m] for m in state.groups[group]["members"]]
    up = [m for m in members if m["state"] == UP]
    at_active = [m for m in up if m["site"] == state.active_site]
    return len(at_active or up)


def findings_of(findings: Any) -> list[tuple[str, str, str, int]]:
    return sorted((a.finding.rule, a.finding.subject, a.finding.message, a.since) for a in findings)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(events=event_sequences(max_members=5, max_events=14, min_events=2), data=st.data())
def test_checking_a_plan_equals_a_branch_appended_by_hand(
    tmp_path_factory: Any, events: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    folder: Path = tmp_path_factory.mktemp(f"p{next(_count)}")
    first_member = next(i for i, (t, _d) in enumerate(events) if t == "member_added")
    cut = data.draw(st.integers(first_member + 1, len(events) - 1), label="cut")
    base_events, steps = events[:cut], events[cut:]
    journal_path = folder / "base.db"
    with Journal.create(journal_path, registry=REGISTRY) as journal:
        journal.append(
            [
                NewEvent(REGISTRY.decode(t, d), t, occurred_at=START.strftime("%Y-%m-%dT%H:%M:%SZ"))
                for t, d in base_events
            ]
        )
        head = journal.head()
        base_state = journal.state_at(head)
    durations = data.draw(
        st.lists(st.sampled_from(["1m", "5m", "90s"]), min_size=len(steps), max_size=len(steps)),
        label="durations",
    )
    text = '[plan]\nname = "p"\nbase = "base.db"\n'
    for (kind, fields), duration in zip(steps, durations, strict=True):
        text += step_text(kind, fields, duration=duration)
    plan = parse_plan(text, folder / "plan.toml", REGISTRY)
    try:
        result = check_plan(plan, MANAGER, PROFILE)
    except PreconditionError:
        assume(False)  # an operator mistake the plan refuses; the branch would take it
        raise

    # By hand: the same events on a branch of the base, then replayed.
    clock = START
    by_hand: list[NewEvent] = []
    for (kind, fields), duration in zip(steps, durations, strict=True):
        clock += timedelta(seconds={"1m": 60, "5m": 300, "90s": 90}[duration])
        fields = dict(fields)
        if kind == "load_changed" and "group" in fields and fields["group"] in base_state.groups:
            count = serving_by_hand(base_state, fields["group"])
            if count:
                fields["serving"] = count
        when = clock.strftime("%Y-%m-%dT%H:%M:%SZ")
        by_hand.append(NewEvent(REGISTRY.decode(kind, fields), kind, occurred_at=when))
    with Journal.open(journal_path, registry=REGISTRY) as journal:
        journal.create_branch("by-hand", at=head)
        journal.append(by_hand, branch="by-hand")
        replay = Replay(journal, MANAGER, PROFILE, branch="by-hand", snapshot_every=0)
        frames = [
            (f.seq, f.envelope.occurred_at, f.metrics.to_json(), findings_of(f.findings))
            for f in replay.frames(head + 1)
        ]
    assert len(frames) == len(result.steps)
    for step, (seq, when, metrics, findings) in zip(result.steps, frames, strict=True):
        assert (step.seq, step.occurred_at) == (seq, when)
        assert findings_of(step.findings) == findings
        for subject, names in step.metrics.items():
            for name, value in names.items():
                assert metrics[subject][name] == value, (step.number, subject, name)
        watched_present = {
            (subject, name) for subject, name in result.watched if name in metrics.get(subject, {})
        }
        assert watched_present == {(s, n) for s, names in step.metrics.items() for n in names}
