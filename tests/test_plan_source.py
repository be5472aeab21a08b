"""A plan file is a source (contract §3): its base up to its point, then its steps."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import run_twin

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "examples" / "plans"
MVC = PLANS / "mvc-upgrade-dual-site.toml"


def test_run_replays_the_base_to_its_point_then_the_steps_as_check_applies_them() -> None:
    run = run_twin("run", MVC, "--format", "jsonl", "--metrics", "convergence.failover_s")
    assert run.code == 0, run.err
    frames = run.jsonl()
    assert [f["seq"] for f in frames] == list(range(1, 55 + 30 + 1))  # #1..#55, then 30 steps
    checked = json.loads(run_twin("plan", "check", MVC, "--format", "json").out)
    for step in checked["steps"]:
        frame = frames[step["seq"] - 1]
        assert (frame["type"], frame["occurred_at"]) == (step["type"], step["occurred_at"])
        failover = step["metrics"]["system"]["convergence.failover_s"]
        assert frame["metrics"]["system"]["convergence.failover_s"] == failover


def test_log_shows_the_steps_recorded_as_a_plan_would_record_them() -> None:
    log = run_twin("log", MVC, "--from", "56", "--to", "57", "--format", "jsonl")
    assert log.code == 0, log.err
    first, second = log.jsonl()
    assert first["type"] == "note" and second["type"] == "upgrade_started"
    assert second["actor"] == "twin plan"
    assert second["correlation_id"] == "MVC upgrade to R82, dual site, groups B then A"
    assert second["occurred_at"] == "2026-04-12T01:03:00Z"  # 01:00 + 1 min + 2 min


def test_state_and_diff_read_a_plan(tmp_path: Path) -> None:
    state = run_twin("state", MVC, "--at", "74", "--format", "json")
    assert state.code == 0, state.err
    rules = {f["rule"] for f in json.loads(state.out)["findings"]}
    assert "convergence.cpu-overload" in rules  # step 19: 2_03 fails in the busy hour
    diff = run_twin("diff", MVC, "55", "85", "--format", "json")
    assert diff.code == 0, diff.err


def test_a_topology_file_is_still_not_a_source() -> None:
    outcome = run_twin("run", ROOT / "examples" / "dual-site.toml")
    assert outcome.one_line_error
    assert "not a journal or an event file" in outcome.err


def test_a_plan_whose_step_cannot_apply_is_refused_as_a_source(tmp_path: Path) -> None:
    plan = tmp_path / "bad.toml"
    plan.write_text(
        f'[plan]\nbase = "{(ROOT / "examples" / "incident-0412.jsonl").as_posix()}"\nat = 55\n\n'
        '[[step]]\ntype = "upgrade_finished"\nmember = "1_01"\nversion = "R82"\n',
        encoding="utf-8",
    )
    outcome = run_twin("run", plan)
    assert outcome.one_line_error
    assert f"{plan}:7: step 1: member: member 1_01 is not upgrading" in outcome.err
