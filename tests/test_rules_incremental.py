"""Incremental evaluation reaches what evaluating everything from scratch reaches.

The built-in rules evaluate only the subjects an event touched and keep system
aggregates from per-group metrics. This checks, over long seeded random
scenarios on the core catalog, that a fresh engine given a copy of the state
and asked to evaluate everything computes the same metrics (exactly) and the
same findings (rule, subject and message) as the incremental run.
"""

from __future__ import annotations

import copy

import pytest

from tests.rules_helpers import EventGenerator
from twin.engine import Engine
from twin.plugin_manager import TwinPluginManager
from twin.testing import make_envelopes

CHECK_EVERY = 97


def _metrics(engine: Engine) -> dict[tuple[str, str], tuple[float, float, float]]:
    return {
        (subject, name): (m.value, m.low, m.high)
        for subject, names in engine.metrics.by_subject.items()
        for name, m in names.items()
    }


def _findings(engine: Engine) -> set[tuple[str, str, str]]:
    return {(a.finding.rule, a.finding.subject, a.finding.message) for a in engine.findings}


def _assert_same_as_full(manager: TwinPluginManager, engine: Engine, envelope: object) -> None:
    fresh = manager.build_engine(engine.profile)
    fresh.state = copy.deepcopy(engine.state)
    fresh.evaluate_everything(envelope)  # type: ignore[arg-type]
    incremental, full = _metrics(engine), _metrics(fresh)
    missing = sorted(set(full) - set(incremental))
    extra = sorted(set(incremental) - set(full))
    assert not missing, f"at seq {engine.state.seq}: incremental run lacks {missing[:5]}"
    assert not extra, f"at seq {engine.state.seq}: incremental run has stale {extra[:5]}"
    differ = [(k, incremental[k], full[k]) for k in sorted(full) if incremental[k] != full[k]]
    assert not differ, f"at seq {engine.state.seq}: metrics differ {differ[:5]}"
    assert _findings(engine) == _findings(fresh), f"at seq {engine.state.seq}"


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_incremental_equals_evaluate_everything(seed: int) -> None:
    manager = TwinPluginManager(autoload=False, strict=True)
    engine = manager.build_engine()
    events = EventGenerator(seed).events(1500)
    envelopes = make_envelopes(events, manager.event_registry())
    for index, envelope in enumerate(envelopes):
        engine.step(envelope)
        if index % CHECK_EVERY == CHECK_EVERY - 1:
            _assert_same_as_full(manager, engine, envelope)
    _assert_same_as_full(manager, engine, envelopes[-1])
    assert engine.findings, "a long random scenario should raise something"
