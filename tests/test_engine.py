"""The engine: rule order, scoped finding lifecycles, crash isolation, observers, snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from twin.engine import Engine, PluginError, RegisteredRule, order_rules
from twin.events import default_registry
from twin.profile import default_profile
from twin.rules import Finding, Metric, RuleContext, Severity, rule
from twin.testing import make_envelopes

TOPOLOGY: list[tuple[str, dict[str, Any]]] = [
    ("site_added", {"site": 1}),
    ("group_created", {"group": 1}),
    ("member_added", {"member": "1_01", "group": 1, "site": 1}),
    ("member_added", {"member": "1_02", "group": 1, "site": 1}),
]


@rule(
    id="test.hot",
    summary="a member above 80% CPU",
    events=["load_changed", "member_failed", "member_recovered"],
    raises={"test.hot": "error"},
    metrics={"test.cpu": "%"},
    incremental=True,
)
def hot(ctx: RuleContext) -> Iterator[Metric | Finding]:
    for member_id in ctx.changes.touched_members():
        member = ctx.state.members.get(member_id)
        if member is None:
            continue
        subject = f"member:{member_id}"
        yield Metric(subject, "test.cpu", member["cpu_pct"])
        if member["cpu_pct"] > 80:
            yield Finding("test.hot", Severity.ERROR, subject, f"CPU {member['cpu_pct']:.0f}%")


@rule(id="test.boom", summary="always raises", raises={"test.boom": "error"})
def boom(ctx: RuleContext) -> list[Metric]:
    raise RuntimeError("kaput")


@rule(
    id="test.a-double",
    summary="reads test.cpu",
    events=["load_changed"],
    metrics={"test.double": "%"},
    reads=["test.cpu"],
    incremental=True,
)
def double(ctx: RuleContext) -> Iterator[Metric]:
    for member_id in ctx.changes.touched_members():
        cpu = ctx.metrics.get(f"member:{member_id}", "test.cpu")
        if cpu is not None:
            yield Metric(f"member:{member_id}", "test.double", cpu.value * 2)


def engine_with(*rules: Any, strict: bool = False) -> Engine:
    registered = [RegisteredRule(r, "tests") for r in rules]
    return Engine(registered, default_profile([]), strict=strict)


def run(engine: Engine, events: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return list(engine.run(make_envelopes(events, default_registry())))


def test_finding_raises_keeps_its_since_and_clears_when_the_condition_stops() -> None:
    engine = engine_with(hot)
    frames = run(
        engine,
        [
            *TOPOLOGY,
            ("load_changed", {"group": 1, "cpu_pct": 90}),  # seq 5: raised on both
            ("load_changed", {"group": 1, "cpu_pct": 95}),  # seq 6: same condition, new numbers
            ("load_changed", {"member": "1_01", "cpu_pct": 40}),  # seq 7: only 1_01 clears
        ],
    )
    assert {(f.finding.subject, f.since) for f in frames[4].findings} == {
        ("member:1_01", 5),
        ("member:1_02", 5),
    }
    assert {f.finding.message for f in frames[5].findings} == {"CPU 95%"}
    assert all(f.since == 5 for f in frames[5].findings)
    assert [f.finding.subject for f in frames[6].findings] == ["member:1_02"]
    assert [c.finding.subject for c in frames[6].cleared] == ["member:1_01"]


def test_a_crashing_rule_becomes_a_finding_and_the_others_still_run() -> None:
    engine = engine_with(hot, boom)
    frames = run(engine, [*TOPOLOGY, ("load_changed", {"group": 1, "cpu_pct": 90})])
    last = frames[-1]
    crashed = [f for f in last.findings if f.finding.rule == "twin.rule-crashed"]
    assert len(crashed) == 1
    assert crashed[0].finding.subject == "rule:test.boom"
    assert "kaput" in crashed[0].finding.message
    assert last.metrics.get("member:1_01", "test.cpu") is not None
    assert any(f.finding.rule == "test.hot" for f in last.findings)


def test_strict_mode_reraises_a_crashing_rule() -> None:
    engine = engine_with(boom, strict=True)
    with pytest.raises(PluginError, match=r"test\.boom"):
        run(engine, TOPOLOGY)


def test_rules_run_in_id_order_unless_they_read_another_rules_metrics() -> None:
    order = [r.id for r in order_rules([RegisteredRule(r, "t") for r in (hot, double, boom)])]
    # test.a-double sorts first but reads test.cpu, so it runs after test.hot.
    assert order == ["test.boom", "test.hot", "test.a-double"]
    engine = engine_with(double, hot)
    frames = run(engine, [*TOPOLOGY, ("load_changed", {"group": 1, "cpu_pct": 30})])
    assert frames[-1].metrics.value("member:1_02", "test.double") == pytest.approx(60)


def test_rules_skip_events_they_do_not_declare() -> None:
    calls: list[str] = []

    @rule(id="test.count", summary="counts", events=["member_failed"])
    def count(ctx: RuleContext) -> list[Metric]:
        calls.append(ctx.type)
        return []

    run(engine_with(count), [*TOPOLOGY, ("member_failed", {"member": "1_01"})])
    assert calls == ["member_failed"]


def test_unknown_event_types_raise_an_info_finding_and_change_nothing() -> None:
    engine = engine_with(hot)
    frames = run(engine, [*TOPOLOGY, {"type": "psu_swapped", "unit": 2}])
    info = [f for f in frames[-1].findings if f.finding.rule == "twin.unknown-event-type"]
    assert info and info[0].finding.severity is Severity.INFO
    assert frames[-1].changes.subjects == set()


def test_removed_members_lose_their_metrics_and_findings() -> None:
    engine = engine_with(hot)
    events = [*TOPOLOGY, ("load_changed", {"group": 1, "cpu_pct": 90})]
    frames = run(engine, [*events, ("member_removed", {"member": "1_02"})])
    assert frames[-1].metrics.get("member:1_02", "test.cpu") is None
    assert "member:1_02" not in {f.finding.subject for f in frames[-1].findings}


def test_observers_see_every_frame() -> None:
    seen: list[int] = []
    engine = Engine([], default_profile([]), observers=[lambda f: seen.append(f.seq)])
    run(engine, TOPOLOGY)
    assert seen == [1, 2, 3, 4]


def test_snapshot_restore_resumes_exactly() -> None:
    events = [
        *TOPOLOGY,
        ("load_changed", {"group": 1, "cpu_pct": 90}),
        ("member_failed", {"member": "1_02"}),
        ("load_changed", {"group": 1, "cpu_pct": 50}),
    ]
    envelopes = make_envelopes(events, default_registry())
    straight = engine_with(hot)
    list(straight.run(envelopes))
    resumed = engine_with(hot)
    list(resumed.run(envelopes[:5]))
    blob = resumed.snapshot()
    fresh = engine_with(hot)
    fresh.restore(blob)
    list(fresh.run(envelopes[5:]))
    assert fresh.state_digest() == straight.state_digest()
    assert fresh.metrics.to_json() == straight.metrics.to_json()
    assert [f.to_json() for f in fresh.findings] == [f.to_json() for f in straight.findings]
    with pytest.raises(ValueError, match="unusable snapshot"):
        fresh.restore(b"not a snapshot")
