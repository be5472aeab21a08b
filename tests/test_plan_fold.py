"""A plan's base folded (reducer only, then every rule once) ends where replaying it ends.

``twin plan check`` folds a long base that was never replayed instead of running
every event through the rules (twin.fork.WhatIf.open(fold=True)). These tests
force the fold on the bundled incident (``FOLD_BEYOND = 0``) and compare it with
the replay: the base's metrics and findings at many points, and every row of the
three bundled plans. The one difference allowed, and documented: findings active
at the base point carry ``since = at``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from journal import Journal
from twin import fork
from twin.fork import WhatIf
from twin.plan import read_plan
from twin.plan.check import PlanResult, check_plan
from twin.plugin_manager import TwinPluginManager, import_plugin_file
from twin.text_import import ImportOptions

ROOT = Path(__file__).resolve().parents[1]
INCIDENT = ROOT / "examples" / "incident-0412.jsonl"
PLANS = sorted((ROOT / "examples" / "plans").glob("*.toml"))
MANAGER = TwinPluginManager(autoload=False, strict=True).load()
PROFILE = MANAGER.profile()


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fold") / "incident.db"
    with Journal.create(path, registry=MANAGER.event_registry()) as j:
        j.import_file(INCIDENT)  # no engine snapshots: a base never replayed
    return path


@pytest.fixture
def always_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fork, "FOLD_BEYOND", 0)


def ended(session: WhatIf) -> tuple[dict[str, Any], list[tuple[str, str, str, str]]]:
    found = sorted(
        (a.finding.rule, a.finding.subject, a.finding.severity.value, a.finding.message)
        for a in session.findings
    )
    return session.metrics.to_json(), found


# Every 7th event from #8, and the story's turning points (examples/README.md). Before #8
# (the first link) evaluating everything also gives two system metrics no event has made
# incremental rules compute yet (sync.capacity_gbps, checkpoint.disk_write_factor); a base
# that short is never folded (fork.FOLD_BEYOND). Every point #8..#450 was compared once.
POINTS = sorted({*range(8, 451, 7), 46, 55, 80, 127, 135, 214, 225, 233, 234, 267, 322, 349, 450})


@pytest.mark.usefixtures("always_fold")
def test_a_folded_base_ends_where_the_replayed_one_does(journal: Path) -> None:
    for at in POINTS:
        with WhatIf.open(journal, MANAGER, PROFILE, at=at, fold=True) as folded:
            assert folded.folded, at
            got = ended(folded)
            since = {a.since for a in folded.findings}
        with WhatIf.open(journal, MANAGER, PROFILE, at=at) as replayed:
            assert not replayed.folded
            assert got == ended(replayed), f"at #{at}"
        assert since <= {at}, f"at #{at}: findings at a folded base are dated at it"


def plan_json(path: Path) -> dict[str, Any]:
    registry = MANAGER.event_registry()
    metrics = {n for r in MANAGER.rules() for n in r.rule.metrics}
    rules = {n for r in MANAGER.rules() for n in r.rule.raises}
    plan = read_plan(path, registry, metrics=metrics, rules=rules)
    result: PlanResult = check_plan(plan, MANAGER, PROFILE)
    return result.to_json()


def without_since(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with ``since`` taken out of the findings active at the base point."""
    at = doc["at"]

    def strip(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in f.items() if k != "since" or v > at} for f in found]

    steps = [{**s, "cleared": strip(s["cleared"])} for s in doc["steps"]]
    base = {k: v for k, v in doc["base_point"].items() if k != "folded"}
    return {**doc, "steps": steps, "base_point": {**base, "findings": strip(base["findings"])}}


@pytest.mark.parametrize("plan", PLANS, ids=[p.stem for p in PLANS])
def test_each_bundled_plan_gives_the_same_rows_folded_or_replayed(
    plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replayed = plan_json(plan)
    monkeypatch.setattr(fork, "FOLD_BEYOND", 0)
    folded = plan_json(plan)
    assert replayed["base_point"]["folded"] is False
    assert folded["base_point"]["folded"] is True
    # Step rows (metrics, raised, cleared, notes, expectations), worst, failed, ok: identical.
    assert without_since(folded) == without_since(replayed)
    # What differs, and is documented: a base finding's `since` is the base point.
    assert {f["since"] for f in folded["base_point"]["findings"]} == {folded["at"]}
    assert all(f["since"] < folded["at"] for f in replayed["base_point"]["findings"])


@pytest.mark.usefixtures("always_fold")
def test_a_base_with_observations_is_replayed_not_folded() -> None:
    # twin.model-drift judges an observation against the model at that moment: the state
    # after it cannot tell, so a base holding metric_observed events is replayed.
    syslog = ROOT / "tests" / "fixtures" / "gateway" / "messages-2026.log"
    options = ImportOptions(create_members=True)
    with WhatIf.open(syslog, MANAGER, PROFILE, fold=True, import_options=options) as session:
        assert not session.folded
    with WhatIf.open(syslog, MANAGER, PROFILE, at=7, fold=True, import_options=options) as early:
        assert early.folded  # before the first observation it is folded


@pytest.mark.usefixtures("always_fold")
def test_a_plugin_rule_means_the_base_is_replayed(journal: Path) -> None:
    # A plugin's rule may keep history (a verdict raised by one event type and kept);
    # only the built-in rules are known to be functions of the state.
    manager = TwinPluginManager(autoload=False, strict=True)
    manager.register(
        import_plugin_file("change_window", ROOT / "tests" / "plugins" / "change_window.py")
    )
    manager.load()
    with WhatIf.open(journal, manager, manager.profile(), fold=True) as session:
        assert not session.folded
