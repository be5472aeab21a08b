"""Checking plans: what each expectation kind says, refused steps, demand, plugin steps.

Expected numbers are derived by hand from the scenario (member counts, the
seed's 7-9 s overload band, CPU × serving ÷ members now), not from the code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from twin.errors import TwinInputError
from twin.plan import read_plan
from twin.plan.check import PlanResult, check_plan
from twin.plan.edit import step_text
from twin.plugin_manager import TwinPluginManager, import_plugin_file
from twin.testing.builders import single_site

ROOT = Path(__file__).resolve().parents[1]
MANAGER = TwinPluginManager(autoload=False, strict=True).load()
PROFILE = MANAGER.profile()
T0 = "2026-05-20T01:00:00Z"


def base_file(tmp_path: Path, events: list[tuple[str, dict[str, Any]]]) -> Path:
    path = tmp_path / "base.jsonl"
    rows = [{"type": t, **d} for t, d in events]
    rows[0]["ts"] = T0
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def plan_file(
    tmp_path: Path,
    steps: list[tuple[str, dict[str, Any], dict[str, Any]]],
    expects: str,
    *,
    header: str = '[plan]\nname = "t"\nbase = "base.jsonl"\n',
) -> Path:
    text = header
    for kind, data, options in steps:
        text += step_text(kind, data, **options)
    text += "\n" + expects
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def check(path: Path, manager: TwinPluginManager = MANAGER, **kwargs: Any) -> PlanResult:
    metrics = {n for r in manager.rules() for n in r.rule.metrics}
    rules = {n for r in manager.rules() for n in r.rule.raises}
    plan = read_plan(path, manager.event_registry(), metrics=metrics, rules=rules)
    return check_plan(plan, manager, manager.profile(), **kwargs)


def verdicts(result: PlanResult, index: int) -> list[tuple[int, bool | None, Any]]:
    return [
        (s.number, v.holds, v.observed)
        for s in result.steps
        for v in s.verdicts
        if v.expectation.index == index
    ]


LOSE_AND_RECOVER = [
    ("member_failed", {"member": "1_02"}, {"label": "lose 1_02"}),
    ("member_recovered", {"member": "1_02"}, {"label": "1_02 back"}),
]


def test_metric_expectations_below_above_between_and_after(tmp_path: Path) -> None:
    base_file(tmp_path, single_site(members=3))
    expects = """
[[expect]]
metric = "members.active"
above = 2

[[expect]]
metric = "members.active"
between = [2, 3]

[[expect]]
after = "lose 1_02"
metric = "members.active"
below = 3

[[expect]]
after = "last"
metric = "members.total"
below = 3
"""
    result = check(plan_file(tmp_path, LOSE_AND_RECOVER, expects))
    assert verdicts(result, 1) == [(1, False, 2.0), (2, True, 3.0)]
    assert verdicts(result, 2) == [(1, True, 2.0), (2, True, 3.0)]
    assert verdicts(result, 3) == [(1, True, 2.0)]
    assert verdicts(result, 4) == [(2, False, 3.0)]  # below is strict: 3 is not below 3
    assert not result.ok
    assert [(step, v.expectation.index) for step, v in result.failed] == [(1, 1), (2, 4)]
    worst = {w.expectation.index: (w.step, w.observed, w.holds) for w in result.worst()}
    assert worst[1] == (1, 2.0, False)
    out = result.to_json()
    assert out["failed"] == [
        {"step": 1, "expect": "members.active > 2", "observed": 2.0, "limit": 2.0},
        {"step": 2, "expect": "members.total < 3", "observed": 3.0, "limit": 3.0},
    ]
    assert out["ok"] is False
    assert [s["label"] for s in out["steps"]] == ["lose 1_02", "1_02 back"]
    assert out["steps"][0]["expectations"][0] == {
        "expect": "members.active > 2",
        "holds": False,
        "observed": 2.0,
        "limit": 2.0,
        "line": out["steps"][0]["expectations"][0]["line"],
    }


OVERLOAD = [("load_changed", {"group": 1, "cpu_pct": 90.0}, {"label": "overload"})]


def test_band_checks_the_worst_end(tmp_path: Path) -> None:
    # Every member above 80% CPU: the seed's overloaded failover is 8 s, band 7-9 s.
    base_file(tmp_path, single_site(members=3))
    expects = """
[[expect]]
metric = "convergence.failover_s"
below = 8.5

[[expect]]
metric = "convergence.failover_s"
below = 8.5
band = true

[[expect]]
metric = "convergence.failover_s"
above = 7.5
band = true

[[expect]]
metric = "convergence.failover_s"
between = [6.5, 9.5]
band = true
"""
    result = check(plan_file(tmp_path, OVERLOAD, expects))
    assert verdicts(result, 1) == [(1, True, 8.0)]
    assert verdicts(result, 2) == [(1, False, 9.0)]
    assert verdicts(result, 3) == [(1, False, 7.0)]
    assert verdicts(result, 4) == [(1, True, [7.0, 9.0])]


def test_rule_and_severity_expectations(tmp_path: Path) -> None:
    base_file(tmp_path, single_site(members=3))
    expects = """
[[expect]]
max_severity = "warning"

[[expect]]
absent = "convergence.cpu-overload"

[[expect]]
present = "convergence.cpu-overload"
subject = "member:1_01"

[[expect]]
absent = "convergence.cpu-overload"
subject = "member:9_99"

[[expect]]
max_severity = "info"
subject = "group:1"
"""
    result = check(plan_file(tmp_path, OVERLOAD, expects))
    members = ["member:1_01", "member:1_02", "member:1_03"]
    assert verdicts(result, 1) == [(1, False, "error")]
    assert verdicts(result, 2) == [(1, False, members)]
    assert verdicts(result, 3) == [(1, True, ["member:1_01"])]
    assert verdicts(result, 4) == [(1, True, [])]
    assert verdicts(result, 5) == [(1, True, None)]  # nothing active on group:1


def test_a_group_load_step_is_demand_measured_on_the_base_members(tmp_path: Path) -> None:
    base_file(tmp_path, single_site(members=4, cores=16))
    steps = [
        ("member_added", {"member": "1_05", "group": 1, "site": 1, "cores": 16}, {}),
        ("member_added", {"member": "1_06", "group": 1, "site": 1, "cores": 16}, {}),
        ("load_changed", {"group": 1, "cpu_pct": 86.0}, {"label": "peak"}),
        ("load_changed", {"group": 1, "cpu_pct": 86.0, "serving": 6}, {"label": "measured on 6"}),
    ]
    expects = """
[[expect]]
after = "peak"
metric = "load.cpu_pct"
subject = "member:1_06"
between = [57.3, 57.4]

[[expect]]
after = "measured on 6"
metric = "load.cpu_pct"
subject = "member:1_01"
between = [85.9, 86.1]
"""
    result = check(plan_file(tmp_path, steps, expects))
    assert result.ok, result.failed
    assert result.steps[2].data["serving"] == 4  # recorded as it would be kept
    assert verdicts(result, 1)[0][2] == pytest.approx(86 * 4 / 6)


def test_steps_advance_the_clock_by_their_duration(tmp_path: Path) -> None:
    base_file(tmp_path, single_site(members=3))
    steps = [
        ("note", {"text": "a"}, {"duration": "20m"}),
        ("note", {"text": "b"}, {}),
        ("note", {"text": "c"}, {"duration": "1h30m"}),
    ]
    result = check(plan_file(tmp_path, steps, ""))
    assert [s.occurred_at for s in result.steps] == [
        "2026-05-20T01:20:00Z",
        "2026-05-20T01:21:00Z",
        "2026-05-20T02:51:00Z",
    ]
    assert [s.seq for s in result.steps] == [result.at + 1, result.at + 2, result.at + 3]
    header = '[plan]\nbase = "base.jsonl"\nstart = 2026-06-01T22:00:00Z\n'
    result = check(plan_file(tmp_path, steps[:1], "", header=header))
    assert result.steps[0].occurred_at == "2026-06-01T22:20:00Z"


@pytest.mark.parametrize(
    ("steps", "key", "problem"),
    [
        (
            [("member_failed", {"member": "1_09"}, {"label": "lose 1_09"})],
            "member",
            "step 1 (lose 1_09): member: member 1_09 does not exist at this point",
        ),
        (
            [
                ("member_removed", {"member": "1_02"}, {}),
                ("member_failed", {"member": "1_02"}, {"label": "too late"}),
            ],
            "member",
            "step 2 (too late): member: member 1_02 does not exist at this point",
        ),
        (
            [("upgrade_finished", {"member": "1_01", "version": "R82"}, {})],
            "member",
            "step 1: member: member 1_01 is not upgrading: finishing an upgrade that never",
        ),
        (
            [
                ("member_failed", {"member": "1_01"}, {}),
                ("member_admin_changed", {"member": "1_01", "up": True}, {"label": "try"}),
            ],
            "up",
            "step 2 (try): up: member 1_01 is DOWN for a fault: admin UP cannot lift a fault",
        ),
        (
            [
                ("member_failed", {"member": "1_01"}, {}),
                ("upgrade_started", {"member": "1_01", "to_version": "R82"}, {}),
            ],
            "member",
            "step 2: member: member 1_01 is DOWN for a fault; recover it before upgrading it",
        ),
        (
            [
                ("member_admin_changed", {"member": "1_01", "up": False}, {}),
                ("member_admin_changed", {"member": "1_02", "up": False}, {}),
                ("member_removed", {"member": "1_03"}, {"label": "last one"}),
            ],
            "member",
            "step 3 (last one): member: member 1_03 is the last UP member of group 1 at site 1",
        ),
        (
            [("member_added", {"member": "1_01", "group": 1, "site": 1}, {})],
            "member",
            "step 1: member: member '1_01' already exists",
        ),
    ],
    ids=["absent", "removed", "unstarted", "admin-up", "faulted-upgrade", "last-up", "duplicate"],
)
def test_steps_that_cannot_apply_are_refused_with_step_and_line(
    tmp_path: Path, steps: list[Any], key: str, problem: str
) -> None:
    base_file(tmp_path, single_site(members=3))
    path = plan_file(tmp_path, steps, "")
    with pytest.raises(TwinInputError) as caught:
        check(path)
    text = path.read_text().split("\n")
    found = caught.value
    # the refused step is the last one: its `key = ...` line is the last such line
    assert found.line == max(n for n, line in enumerate(text, 1) if line.startswith(f"{key} ="))
    assert found.one_line().startswith(f"{path}:{found.line}: ")
    assert problem in found.one_line()


def test_a_metric_that_never_has_a_value_is_a_plan_mistake(tmp_path: Path) -> None:
    base_file(tmp_path, single_site(members=3))
    expects = '[[expect]]\nmetric = "load.cpu_pct"\nbelow = 80\n'  # per member, not system
    path = plan_file(tmp_path, OVERLOAD, expects)
    with pytest.raises(TwinInputError) as caught:
        check(path)
    assert "no value on system" in caught.value.problem
    assert caught.value.line == path.read_text().split("\n").index("[[expect]]") + 1


def test_a_missing_base_and_an_at_past_the_end_point_at_the_plan(tmp_path: Path) -> None:
    path = plan_file(tmp_path, OVERLOAD, "")  # base.jsonl was never written
    with pytest.raises(TwinInputError) as caught:
        check(path)
    assert (caught.value.field, caught.value.line) == ("base", 3)
    base_file(tmp_path, single_site(members=3))
    header = '[plan]\nbase = "base.jsonl"\nat = 999\n'
    path = plan_file(tmp_path, OVERLOAD, "", header=header)
    with pytest.raises(TwinInputError) as caught:
        check(path)
    assert (caught.value.field, caught.value.line) == ("at", 3)
    assert "from 0 to" in caught.value.problem


def test_a_plugin_event_type_works_as_a_step(tmp_path: Path) -> None:
    manager = TwinPluginManager(autoload=False, strict=True)
    module = import_plugin_file("plan_test_change_window", ROOT / "tests/plugins/change_window.py")
    manager.register(module, name="change_window")
    manager.load()
    base_file(tmp_path, single_site(members=2))
    steps = [("change_window_opened", {"ticket": "CHG-7", "minutes": 90}, {"label": "open"})]
    expects = '[[expect]]\npresent = "acme.change-window"\n'
    result = check(plan_file(tmp_path, steps, expects), manager)
    assert result.ok
    assert result.steps[0].data == {"ticket": "CHG-7", "minutes": 90}
    assert [a.finding.message for a in result.steps[0].raised] == [
        "change window CHG-7 open for 90 min"
    ]
    # Without the plugin, the same step is an unknown type (exit 2), with a hint.
    with pytest.raises(TwinInputError, match="unknown event type 'change_window_opened'"):
        check(tmp_path / "plan.toml")


def test_findings_raised_at_a_step_come_in_one_order(tmp_path: Path) -> None:
    base_file(tmp_path, single_site(members=3))
    result = check(plan_file(tmp_path, OVERLOAD, ""))
    raised = [
        (a.finding.severity.value, a.finding.rule, a.finding.subject)
        for a in result.steps[0].raised
    ]
    assert raised == sorted(
        raised, key=lambda r: ({"error": 0, "warning": 1, "info": 2}[r[0]], r[1], r[2])
    )
    assert [r[2] for r in raised if r[1] == "convergence.cpu-overload"] == [
        "member:1_01",
        "member:1_02",
        "member:1_03",
    ]
