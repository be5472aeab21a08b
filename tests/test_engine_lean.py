"""The lean engine: metrics computed on read, findings as evidence, the reducer's fast path.

Invariants checked over generated journals (hypothesis) and long seeded scenarios:
per-member metrics computed when read equal the ones stored after every event
(lazy = eager), and a member's own load sample refreshes that member exactly as a
full redistribution would.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from tests.rules_helpers import EventGenerator
from twin.bulk import YOUNG_THRESHOLD, quiet_gc
from twin.engine import Engine, PluginError, RegisteredRule
from twin.envelope import Envelope
from twin.frames import Frame
from twin.plugin_manager import TwinPluginManager
from twin.profile import default_profile
from twin.reducer import Changes, apply, redistribute
from twin.rules import Finding, Metric, RuleContext, Severity, rule
from twin.testing import make_envelopes
from twin.testing.strategies import event_sequences

SAMPLES = Path(__file__).parent / "plugins"
MANAGER = TwinPluginManager(autoload=False, strict=True).load()
REGISTRY = MANAGER.event_registry()
TOPOLOGY: list[tuple[str, dict[str, Any]]] = [
    ("site_added", {"site": 1}),
    ("group_created", {"group": 1}),
    ("member_added", {"member": "1_01", "group": 1, "site": 1}),
    ("member_added", {"member": "1_02", "group": 1, "site": 1}),
]


def frames_of(engine: Engine, events: list[Any]) -> Iterator[Frame]:
    return engine.run(make_envelopes(events, REGISTRY))


# -- metrics computed on read ---------------------------------------------------------------


def assert_lazy_equals_eager(events: list[Any]) -> None:
    lazy = MANAGER.build_engine()
    eager = Engine(MANAGER.rules(), MANAGER.profile(), strict=True, lazy=False)
    assert lazy.metrics.computed_names, "the built-ins compute some metrics on read"
    for a, b in zip(frames_of(lazy, events), frames_of(eager, events), strict=True):
        assert a.metrics.to_json() == b.metrics.to_json(), f"metrics differ at seq {a.seq}"
        assert [f.to_json() for f in a.findings] == [f.to_json() for f in b.findings]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=event_sequences(max_events=50))
def test_metrics_computed_on_read_equal_the_ones_stored_after_every_event(
    events: list[Any],
) -> None:
    assert_lazy_equals_eager(events)


@pytest.mark.parametrize("seed", [11, 12])
def test_lazy_equals_eager_over_a_long_random_scenario(seed: int) -> None:
    assert_lazy_equals_eager(EventGenerator(seed).events(600))


def test_every_per_member_metric_is_there_for_every_member_and_gone_with_it() -> None:
    engine = MANAGER.build_engine()
    frames = list(
        frames_of(
            engine,
            [*TOPOLOGY, ("load_changed", {"group": 1, "connections": 1000, "cpu_pct": 40})],
        )
    )
    member_metrics = set(frames[-1].metrics.to_json(subjects=["member:1_02"])["member:1_02"])
    assert engine.metrics.computed_names <= member_metrics
    assert frames[-1].metrics.value("member:1_02", "load.connections") == 500.0
    list(frames_of(engine, [("member_removed", {"member": "1_02"})]))
    assert engine.metrics.get("member:1_02", "load.connections") is None
    assert "member:1_02" not in engine.metrics.to_json()


def test_snapshots_keep_only_what_rules_wrote() -> None:
    engine = MANAGER.build_engine()
    list(frames_of(engine, [*TOPOLOGY, ("load_changed", {"group": 1, "cpu_pct": 40})]))
    stored = engine.metrics.stored()
    assert "load.cpu_pct" not in stored.get("member:1_01", {})
    restored = MANAGER.build_engine()
    restored.restore(engine.snapshot())
    assert restored.metrics.to_json() == engine.metrics.to_json()


# -- the reducer's fast path for member samples ------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(events=event_sequences(max_events=40))
def test_a_member_sample_refreshes_that_member_as_a_full_redistribution_would(
    events: list[Any],
) -> None:
    state = copy.deepcopy(MANAGER.build_engine().state)
    for seq, envelope in enumerate(make_envelopes(events, REGISTRY), start=1):
        event = envelope.event
        is_sample = envelope.type == "load_changed" and getattr(event, "member", None)
        if not is_sample:
            apply(state, event, seq=seq)
            continue
        slow = copy.deepcopy(state)
        fast_changes = apply(state, event, seq=seq)
        slow_changes = apply(slow, event, seq=seq)
        redistribute(slow, slow.members[event.member]["group"], Changes())
        assert state.digest() == slow.digest(), f"seq {seq}"
        assert f"member:{event.member}" in fast_changes.subjects
        assert fast_changes.subjects <= slow_changes.subjects | {"system"}


# -- findings: evidence now, message when read ------------------------------------------------

HOT = "CPU {cpu:.0f}% on {member}"


@rule(
    id="test.hot",
    summary="a member above 80% CPU; an error above 95%",
    events=["load_changed"],
    raises={"test.hot": "warning"},
    metrics={"test.cpu": "%"},
    incremental=True,
)
def hot(ctx: RuleContext) -> None:
    for member_id in ctx.changes.touched_members():
        member = ctx.state.members[member_id]
        subject = f"member:{member_id}"
        ctx.metric(subject, "test.cpu", member["cpu_pct"], 0.0, 100.0)
        if member["cpu_pct"] > 80:
            severity = Severity.ERROR if member["cpu_pct"] > 95 else None
            ctx.finding("test.hot", subject, HOT, severity, cpu=member["cpu_pct"], member=member_id)


def engine_with(*rules: Any, strict: bool = True) -> Engine:
    return Engine([RegisteredRule(r, "tests") for r in rules], default_profile([]), strict=strict)


def test_a_finding_keeps_since_through_new_numbers_and_a_new_severity() -> None:
    engine = engine_with(hot)
    frames = list(
        frames_of(
            engine,
            [
                *TOPOLOGY,
                ("load_changed", {"group": 1, "cpu_pct": 85}),  # 5: raised, warning
                ("load_changed", {"group": 1, "cpu_pct": 90}),  # 6: new numbers
                ("load_changed", {"member": "1_02", "cpu_pct": 99}),  # 7: 1_02 escalates
                ("load_changed", {"member": "1_02", "cpu_pct": 10}),  # 8: 1_02 clears
            ],
        )
    )
    assert [a.finding.message for a in frames[4].findings] == [
        "CPU 85% on 1_01",
        "CPU 85% on 1_02",
    ]
    assert frames[5].raised == () and frames[5].cleared == ()
    assert [a.finding.message for a in frames[5].findings] == [
        "CPU 90% on 1_01",
        "CPU 90% on 1_02",
    ]
    assert frames[4].findings[0].finding.message == "CPU 85% on 1_01", "kept frames keep theirs"
    escalated = frames[6].findings[0]
    assert (escalated.finding.subject, escalated.finding.severity, escalated.since) == (
        "member:1_02",
        Severity.ERROR,
        5,
    ), "the error sorts first and keeps the seq that first raised it"
    assert [a.finding.subject for a in frames[7].cleared] == ["member:1_02"]
    assert frames[7].metrics.get("member:1_01", "test.cpu") == Metric(
        "member:1_01", "test.cpu", 90.0, 0.0, 100.0
    )


def test_an_unchanged_set_of_findings_is_the_same_tuple() -> None:
    engine = engine_with(hot)
    frames = list(
        frames_of(
            engine,
            [
                *TOPOLOGY,
                ("load_changed", {"group": 1, "cpu_pct": 85}),
                ("load_changed", {"member": "1_01", "connections": 5}),
            ],
        )
    )
    assert frames[-1].findings is frames[-2].findings


@rule(id="test.sloppy", summary="raises what it does not declare", events=["load_changed"])
def sloppy(ctx: RuleContext) -> None:
    ctx.finding("test.other", "system", "oops")


def test_a_finding_not_declared_in_raises_is_a_crash() -> None:
    quiet = engine_with(sloppy, strict=False)
    last = list(frames_of(quiet, [*TOPOLOGY, ("load_changed", {"group": 1, "cpu_pct": 1})]))[-1]
    crashed = [a for a in last.findings if a.finding.rule == "twin.rule-crashed"]
    assert crashed and "test.other" in crashed[0].finding.message
    with pytest.raises(PluginError, match="does not declare"):
        list(
            frames_of(
                engine_with(sloppy), [*TOPOLOGY, ("load_changed", {"group": 1, "cpu_pct": 1})]
            )
        )


def test_a_template_that_does_not_fit_its_evidence_still_shows_a_message() -> None:
    finding = Finding("x.y", Severity.INFO, "system", None, {"a": 1}, render="{b}")
    assert "could not be made" in finding.message
    assert "KeyError" in finding.message


# -- envelopes and frames are cheap tuples with the same surface -------------------------------


def test_envelopes_and_frames_keep_their_names_and_stay_immutable() -> None:
    envelope = make_envelopes([("note", {"text": "hi"})], REGISTRY)[0]
    same = Envelope(
        **{
            name: getattr(envelope, name)
            for name in (
                "seq",
                "event_id",
                "type",
                "schema",
                "occurred_at",
                "recorded_at",
                "actor",
                "reason",
                "correlation_id",
                "causation_id",
                "data",
                "prev_hash",
                "hash",
                "event",
            )
        }
    )
    assert same == envelope and hash(same) == hash(envelope)
    assert envelope.to_json()["type"] == "note"
    assert "event=" not in repr(envelope)
    with pytest.raises(AttributeError):
        envelope.seq = 9  # type: ignore[misc]
    frame = next(iter(frames_of(engine_with(), [("note", {"text": "hi"})])))
    assert (frame.seq, frame.envelope.type, frame.raised, frame.cleared) == (1, "note", (), ())
    assert frame.to_json()["type"] == "note"
    with pytest.raises(AttributeError):
        frame.findings = ()  # type: ignore[misc]


# -- the plugin check sees what a rule writes through the context -------------------------------


def test_a_plugin_writing_through_the_context_passes_the_check() -> None:
    from twin.testing import check_plugin, load_plugin_file, run_scenario, single_site

    lean = load_plugin_file(SAMPLES / "lean.py")
    assert check_plugin(lean, name="lean") == []
    result = run_scenario(
        [*single_site(members=2), ("load_changed", {"member": "1_01", "cpu_pct": 95})],
        plugins=[lean],
    )
    result.assert_finding("lean.hot", "member:1_01", severity="warning")
    assert result.findings_for("lean.hot")[0].finding.message == "CPU 95% > 90%"
    assert result.value("lean.cpu_headroom", "member:1_02") == 90.0
    assert result.value("lean.hot_members") == 1.0


def test_the_check_names_a_finding_written_but_not_declared() -> None:
    from twin.testing import check_plugin, load_plugin_file

    lean = load_plugin_file(SAMPLES / "lean.py")
    lean.hot = attrs.evolve(lean.hot, raises={})
    problems = check_plugin(lean, name="lean")
    assert any("'lean.hot'" in p and "not declared in its raises" in p for p in problems), problems


# -- quiet garbage collection -----------------------------------------------------------------


def test_a_bulk_run_quiets_the_collector_and_puts_it_back() -> None:
    import gc

    before = gc.get_threshold()
    engine = engine_with(hot)
    seen = []
    for _frame in engine.run(make_envelopes(TOPOLOGY, REGISTRY), bulk=True):
        seen.append(gc.get_threshold()[0])
        with quiet_gc():  # nests
            pass
    assert seen and all(t == YOUNG_THRESHOLD for t in seen)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


@rule(id="test.quits", summary="calls sys.exit", events=["load_changed"])
def quits(ctx: RuleContext) -> None:
    raise SystemExit(3)


def test_a_rule_calling_sys_exit_is_a_crash_not_the_end_of_the_replay() -> None:
    quiet = engine_with(quits, strict=False)
    last = list(frames_of(quiet, [*TOPOLOGY, ("load_changed", {"group": 1, "cpu_pct": 1})]))[-1]
    assert [a.finding.subject for a in last.findings if a.finding.rule == "twin.rule-crashed"] == [
        "rule:test.quits"
    ]
