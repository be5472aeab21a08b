"""Bisect: the first event at which a condition holds, in few probes, right on any timeline."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journal import Journal
from twin.bisect import MetricCondition, RuleCondition, bisect, parse_when, rule_condition
from twin.errors import TwinInputError
from twin.event_files import NewEvent
from twin.events import default_registry
from twin.plugin_manager import TwinPluginManager
from twin.replay import Replay
from twin.testing.builders import group_load, single_site

REGISTRY = default_registry()
MANAGER = TwinPluginManager(autoload=False, strict=True).load()
PROFILE = MANAGER.profile()
UNITS = {"load.cpu_pct": "%", "capacity.utilization": "ratio", "members.active": "count"}
_names = itertools.count()


def journal_with(tmp: Path, cpu: list[float]) -> tuple[Journal, int]:
    """A 4-member site, then one group load sample per value of ``cpu``.

    Returns the journal and the seq of the first load sample.
    """
    genesis = single_site(members=4) + group_load(connections=1_000_000, cps=50_000, cpu_pct=40)
    rows: list[tuple[str, dict[str, Any]]] = genesis + [
        ("load_changed", {"group": 1, "cpu_pct": value}) for value in cpu
    ]
    journal = Journal.create(tmp / f"j{next(_names)}.db", registry=REGISTRY)
    journal.append(
        [
            NewEvent(event=REGISTRY.decode(t, d), type=t, occurred_at="2026-03-14T02:00:00Z")
            for t, d in rows
        ]
    )
    return journal, len(genesis) + 1


def replay_of(journal: Journal) -> Replay:
    return Replay(journal, MANAGER, PROFILE)


def hot(threshold: float = 80) -> MetricCondition:
    return MetricCondition("load.cpu_pct", "group:1", ">", threshold)


@pytest.mark.parametrize(("n", "planted"), [(64, 40), (200, 117), (333, 1), (333, 333), (257, 2)])
def test_a_planted_first_bad_event_is_found_in_at_most_log2_n_plus_2_probes(
    tmp_path: Path, n: int, planted: int
) -> None:
    # Events 1..n of the range: the CPU samples; the first hot one is the planted event.
    cpu = [50.0] * (planted - 1) + [90.0] * (n - planted + 1)
    journal, first = journal_with(tmp_path, cpu)
    with journal:
        result = bisect(replay_of(journal), hot(), first, first + n - 1)
    assert result.seq == first + planted - 1
    assert len(result.probes) <= math.ceil(math.log2(n)) + 2
    assert result.monotone is True or planted == 1
    assert result.frame is not None and result.frame.envelope.seq == result.seq


def test_a_condition_that_holds_clears_and_holds_again_gets_its_first_holding_event(
    tmp_path: Path,
) -> None:
    # Hot from the 10th sample to the 19th, cool until the 150th, hot again to the end (200):
    # plain bisection between a cool start and a hot end would answer the 150th.
    cpu = [50.0] * 9 + [90.0] * 10 + [50.0] * 130 + [90.0] * 51
    journal, first = journal_with(tmp_path, cpu)
    with journal:
        result = bisect(replay_of(journal), hot(), first, first + 199)
    assert result.seq == first + 9
    assert result.monotone is False
    assert result.earlier == (first + 9, first + 19)
    assert result.last_rise == first + 149


def test_a_condition_that_holds_only_in_the_middle_is_still_found(tmp_path: Path) -> None:
    cpu = [50.0] * 30 + [90.0] * 5 + [50.0] * 30
    journal, first = journal_with(tmp_path, cpu)
    with journal:
        result = bisect(replay_of(journal), hot(), first, first + 64)
    assert result.seq == first + 30
    assert result.monotone is False
    assert result.earlier == (first + 30, first + 35)


def test_a_condition_that_never_holds_has_no_answer(tmp_path: Path) -> None:
    journal, first = journal_with(tmp_path, [50.0] * 40)
    with journal:
        result = bisect(replay_of(journal), hot(), first, first + 39)
    assert result.seq is None
    assert result.verified


def test_without_the_scan_the_answer_is_the_last_rise_and_says_it_was_not_checked(
    tmp_path: Path,
) -> None:
    cpu = [50.0] * 9 + [90.0] * 10 + [50.0] * 30 + [90.0] * 10
    journal, first = journal_with(tmp_path, cpu)
    with journal:
        result = bisect(replay_of(journal), hot(), first, first + 58, scan=False)
    assert result.seq == first + 49
    assert result.verified is False
    assert result.monotone is None


def test_progress_is_reported_after_every_probe_with_the_steps_left(tmp_path: Path) -> None:
    journal, first = journal_with(tmp_path, [50.0] * 70 + [90.0] * 58)
    seen: list[tuple[int, bool, int]] = []
    with journal:
        result = bisect(
            replay_of(journal),
            hot(),
            first,
            first + 127,
            on_probe=lambda p, left: seen.append((p.seq, p.holds, left)),
        )
    assert [s for s, _h, _l in seen] == [p.seq for p in result.probes]
    assert seen[0] == (first + 127, True, 7)  # a bracket of 127 events: 7 halvings
    assert seen[-1][2] == 0
    lefts = [left for _s, _h, left in seen[1:]]
    assert lefts == sorted(lefts, reverse=True)


def test_a_rule_condition_finds_where_the_finding_is_raised(tmp_path: Path) -> None:
    cpu = [50.0] * 20 + [95.0] * 20
    journal, first = journal_with(tmp_path, cpu)
    with journal:
        result = bisect(replay_of(journal), RuleCondition("convergence.cpu-overload"), first)
        on_one = bisect(
            replay_of(journal), RuleCondition("convergence.cpu-overload", "member:1_02"), first
        )
    assert result.seq == first + 20
    assert on_one.seq == first + 20
    assert result.frame is not None
    assert {a.finding.subject for a in result.frame.raised} >= {"member:1_01", "member:1_02"}


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(hot_samples=st.lists(st.booleans(), min_size=1, max_size=48))
def test_bisect_agrees_with_a_linear_search_on_any_timeline(
    tmp_path: Path, hot_samples: list[bool]
) -> None:
    journal, first = journal_with(tmp_path, [90.0 if h else 50.0 for h in hot_samples])
    expected = next((first + i for i, h in enumerate(hot_samples) if h), None)
    with journal:
        result = bisect(replay_of(journal), hot(), first, first + len(hot_samples) - 1)
    assert result.seq == expected


def test_bounds_outside_the_journal_or_reversed_are_refused(tmp_path: Path) -> None:
    journal, first = journal_with(tmp_path, [50.0] * 5)
    with journal:
        replay = replay_of(journal)
        with pytest.raises(TwinInputError, match="after --to"):
            bisect(replay, hot(), first + 3, first)
        with pytest.raises(TwinInputError, match="no event 999"):
            bisect(replay, hot(), 1, 999)


def test_conditions_parse_as_typed_and_refuse_typos() -> None:
    c = parse_when("load.cpu_pct@member:1_03 >= 80", UNITS)
    assert (c.metric, c.subject, c.op, c.threshold) == ("load.cpu_pct", "member:1_03", ">=", 80)
    assert parse_when("capacity.utilization>80%", UNITS).threshold == pytest.approx(0.8)
    assert parse_when("members.active != 12", UNITS).subject == "system"
    with pytest.raises(TwinInputError, match=r"did you mean 'load\.cpu_pct'"):
        parse_when("load.cpu_pc > 80", UNITS)
    with pytest.raises(TwinInputError, match="OP VALUE"):
        parse_when("load.cpu_pct is hot", UNITS)
    with pytest.raises(TwinInputError, match="must be a number"):
        parse_when("load.cpu_pct > hot", UNITS)
    with pytest.raises(TwinInputError, match=r"did you mean 'convergence\.cpu-overload'"):
        rule_condition("convergence.cpu-overlod", None, ["convergence.cpu-overload"])
