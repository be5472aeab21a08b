"""`twin plan` as a user runs it: bundled plans, exit codes, one-line errors, the base untouched."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from tests.cli_helpers import Outcome, run_twin

ROOT = Path(__file__).resolve().parents[1]
PLANS = ROOT / "examples" / "plans"
INCIDENT = ROOT / "examples" / "incident-0412.jsonl"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def incident_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled incident as a journal file (made once; tests copy it)."""
    path = tmp_path_factory.mktemp("db") / "prod.db"
    assert run_twin("init", path).code == 0
    assert run_twin("import", path, INCIDENT).code == 0
    return path


def on_journal(tmp_path: Path, incident_db: Path, plan: str) -> tuple[Path, Path]:
    """A bundled plan rewritten to run on a journal copy of its base."""
    journal = tmp_path / "prod.db"
    shutil.copy(incident_db, journal)
    text = (PLANS / plan).read_text(encoding="utf-8")
    text = text.replace('base = "../incident-0412.jsonl"', 'base = "prod.db"')
    path = tmp_path / plan
    path.write_text(text, encoding="utf-8")
    return path, journal


# -- the bundled plans ----------------------------------------------------------------------------


def test_the_bundled_passing_plan_through_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # as from a fresh clone: the plan names its base relative to itself
    done = run_twin("plan", "check", "examples/plans/add-members-before-peak.toml")
    assert done.code == 0, done.err
    assert "✔ PLAN HOLDS: 5 expectations" in done.out
    assert "sales peak" in done.out
    assert done.err == ""


@pytest.mark.parametrize(
    ("plan", "code"),
    [
        ("add-members-before-peak.toml", 0),
        ("mvc-upgrade-dual-site.toml", 1),
        ("lose-a-sync-link.toml", 0),
    ],
)
def test_bundled_plans_pass_and_fail_as_designed(plan: str, code: int) -> None:
    outcome = run_twin("plan", "check", PLANS / plan, "--format", "json")
    assert outcome.code == code, outcome.err
    result = json.loads(outcome.out)
    assert {"plan", "base", "at", "profile", "steps", "failed", "ok"} <= set(result)
    assert result["ok"] is (code == 0)
    assert result["base"].endswith("incident-0412.jsonl") and result["at"] == 55
    for step in result["steps"]:
        assert {"step", "label", "type", "metrics", "raised", "cleared", "expectations"} <= set(
            step
        )
        for verdict in step["expectations"]:
            assert {"expect", "holds", "observed", "limit"} <= set(verdict)


def test_the_mvc_plan_fails_only_failover_and_only_while_2_03_is_down() -> None:
    outcome = run_twin("plan", "check", PLANS / "mvc-upgrade-dual-site.toml", "--format", "json")
    result = json.loads(outcome.out)
    labels = {s["step"]: s["label"] for s in result["steps"]}
    down = next(n for n, label in labels.items() if label == "2_03 fails")
    back = next(n for n, label in labels.items() if label == "2_03 back")
    assert {f["expect"] for f in result["failed"]} == {"convergence.failover_s < 1 (band)"}
    assert [f["step"] for f in result["failed"]] == list(range(down, back))
    assert all(f["observed"] == 9.0 and f["limit"] == 1.0 for f in result["failed"])
    last = result["steps"][-1]
    assert all(v["holds"] for v in last["expectations"])  # the window closed: one version


def test_the_table_names_the_failure() -> None:
    outcome = run_twin(
        "plan", "check", PLANS / "mvc-upgrade-dual-site.toml", env={"COLUMNS": "160"}
    )
    assert outcome.code == 1
    assert "✖ PLAN FAILS: 1 of 6 expectations broken" in outcome.out
    assert "E1 convergence.failover_s < 1.0 s (band): fails at steps 19–28" in outcome.out
    assert outcome.err == ""


def test_limits_are_shown_in_the_metrics_units_and_json_keeps_them_as_written() -> None:
    plan = PLANS / "add-members-before-peak.toml"
    table = run_twin("plan", "check", plan).out
    # capacity.utilization is a ratio (0.8 in the plan), load.cpu_pct a percent, failover seconds.
    assert "E4 capacity.utilization < 80.0%, after step 7 (sales peak)" in table
    assert "E5 load.cpu_pct@member:1_01 < 60.0%, after the last step" in table
    assert "E1 convergence.failover_s < 1.0 s (band), every step" in table
    assert "< 0.8" not in table
    doc = json.loads(run_twin("plan", "check", plan, "--format", "json").out)
    limits = {
        v["expect"]: v["limit"] for step in doc["steps"] for v in step["expectations"] if v["limit"]
    }
    assert limits["capacity.utilization < 0.8"] == 0.8
    assert limits["load.cpu_pct@member:1_01 < 60"] == 60


# -- the base is never written; --keep writes only a branch ---------------------------------------


def test_checking_a_plan_leaves_the_base_journal_byte_for_byte(
    tmp_path: Path, incident_db: Path
) -> None:
    plan, journal = on_journal(tmp_path, incident_db, "mvc-upgrade-dual-site.toml")
    before = sha(journal)
    files = sorted(p.name for p in tmp_path.iterdir())
    for fmt in ("table", "json"):
        assert run_twin("plan", "check", plan, "--format", fmt).code == 1
    assert sha(journal) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files


def test_keep_leaves_a_branch_that_diff_reads(tmp_path: Path, incident_db: Path) -> None:
    plan, journal = on_journal(tmp_path, incident_db, "add-members-before-peak.toml")
    outcome = run_twin("plan", "check", plan, "--keep", "plan/add-members")
    assert outcome.code == 0, outcome.err
    assert "kept as branch plan/add-members (forks #55, head #62)" in outcome.out
    branches = run_twin("branch", journal)
    assert "plan/add-members  from main at #55, head #62" in branches.out
    diff = run_twin("diff", journal, 55, 62, "--branch", "plan/add-members", "--format", "json")
    assert diff.code == 0, diff.err
    changes = json.loads(diff.out)
    added = {(row["kind"], row["id"]) for row in changes["topology"] if row["change"] == "added"}
    assert {("member", "1_07"), ("member", "1_08")} <= added
    assert run_twin("verify", journal).code == 0
    # The same name again is refused, and nothing more is written.
    before = sha(journal)
    again = run_twin("plan", "check", plan, "--keep", "plan/add-members")
    assert again.one_line_error and "already exists" in again.err
    assert sha(journal) == before


def test_keep_needs_a_journal_base() -> None:
    outcome = run_twin("plan", "check", PLANS / "lose-a-sync-link.toml", "--keep", "x")
    assert outcome.one_line_error
    assert "--keep needs a journal base" in outcome.err


# -- invalid plans: exit 2, one line naming the step or line --------------------------------------

VALID = """\
[plan]
name = "drill"
base = "{base}"
at = 55

[[step]]
label = "drain 1_02"
type = "member_admin_changed"
member = "1_02"
up = false

[[expect]]
max_severity = "error"
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('type = "member_admin_changed"', 'type = "member_admin_change"'),
            ":8: step 1 (drain 1_02): type: unknown event type",
        ),
        (
            ("up = false", "upp = false"),
            ":10: step 1 (drain 1_02): upp: unknown field for member_admin_changed; "
            "did you mean 'up'?",
        ),
        (
            ('member = "1_02"', 'member = "1_12"'),
            ":9: step 1 (drain 1_02): member: member 1_12 does not exist at this point",
        ),
        (
            (
                "up = false",
                'up = false\n\n[[step]]\ntype = "member_failed"\nmember = "1_03"\n'
                '\n[[step]]\ntype = "member_admin_changed"\nmember = "1_03"\nup = true',
            ),
            ":19: step 3: up: member 1_03 is DOWN for a fault: admin UP cannot lift a fault",
        ),
        (('max_severity = "error"', "max_severity = error"), ":13: not valid TOML"),
    ],
    ids=["unknown-type", "unknown-field", "absent-member", "precondition", "malformed-toml"],
)
def test_each_kind_of_invalid_plan_exits_2_with_one_line(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = VALID.format(base=INCIDENT.as_posix()).replace(*change)
    plan = tmp_path / "drill.toml"
    plan.write_text(text, encoding="utf-8")
    outcome = run_twin("plan", "check", plan)
    assert outcome.one_line_error, (outcome.code, outcome.err, outcome.traceback)
    assert outcome.err.startswith(f"twin: error: {plan}{message}"), outcome.err
    assert outcome.out == ""


def test_the_valid_drill_passes(tmp_path: Path) -> None:
    plan = tmp_path / "drill.toml"
    plan.write_text(VALID.format(base=INCIDENT.as_posix()), encoding="utf-8")
    outcome = run_twin("plan", "check", plan, "--format", "json")
    assert outcome.code == 0, outcome.err
    assert json.loads(outcome.out)["ok"] is True


def test_text_from_a_plan_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    plan = tmp_path / "drill.toml"
    evil = VALID.format(base=INCIDENT.as_posix()).replace(
        'label = "drain 1_02"', 'label = "drain \\u001b[2J[bold]1_02[/bold]"'
    )
    plan.write_text(evil, encoding="utf-8")
    outcome = run_twin("plan", "check", plan, env={"COLUMNS": "160"})
    assert outcome.code == 0, outcome.err
    assert "\x1b[2J" not in outcome.out
    assert "\\x1b[2J[bold]1_02[/bold]" in outcome.out


# -- building plans from the command line ---------------------------------------------------------


def _comment_columns(text: str) -> set[int]:
    """Where the end-of-line comments of a new plan's [plan] table start."""
    table = text.split("[plan]\n", 1)[1].split("\n\n", 1)[0]
    return {line.index("  #") + 2 for line in table.splitlines() if "  #" in line}


@pytest.mark.parametrize("folder", ["", "a-much-longer-folder-of-journals/by-site/", "x" * 70])
def test_new_lines_up_its_comments_whatever_the_base(tmp_path: Path, folder: str) -> None:
    base = tmp_path / folder / "incident-2026-12-02.jsonl"
    base.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(INCIDENT, base)
    for plan, extra in ((tmp_path / "with.toml", ["--base", base]), (tmp_path / "none.toml", [])):
        made = run_twin("plan", "new", plan, *extra)
        assert made.code == 0, made.err
        text = plan.read_text(encoding="utf-8")
        assert len(_comment_columns(text)) == 1, text
        if extra:  # the file still says the base (a too-long line has its comment above)
            assert tomllib.loads(text)["plan"]["base"].endswith("incident-2026-12-02.jsonl")
            assert "# a journal or event file, relative to this file" in text


def test_new_then_add_then_check(tmp_path: Path) -> None:
    base = tmp_path / "incident.jsonl"
    shutil.copy(INCIDENT, base)
    plan = tmp_path / "plans" / "tonight.toml"
    plan.parent.mkdir()
    made = run_twin("plan", "new", plan, "--base", base, "--at", "55")
    assert made.code == 0, made.err
    text = plan.read_text(encoding="utf-8")
    assert 'base = "../incident.jsonl"' in text and "at = 55" in text
    again = run_twin("plan", "new", plan, "--base", base)
    assert again.one_line_error and "already exists" in again.err
    added = run_twin(
        "plan",
        "add",
        plan,
        "member_failed",
        "member=1_03",
        "--label",
        "lose 1_03",
        "--duration",
        "20m",
    )
    assert added.code == 0, added.err
    assert "added step 1 (lose 1_03)" in added.out
    added = run_twin(
        "plan", "add", plan, "load_changed", "group=1", "cpu_pct=70", "connections=6000000"
    )
    assert added.code == 0, added.err
    tail = plan.read_text(encoding="utf-8").split("[[step]]")[-1]
    assert 'type = "load_changed"' in tail and "cpu_pct = 70.0" in tail
    assert "connections = 6000000" in tail
    checked = run_twin("plan", "check", plan, "--format", "json")
    result = json.loads(checked.out)
    assert [s["type"] for s in result["steps"]] == ["member_failed", "load_changed"]
    assert result["steps"][0]["occurred_at"] == "2026-04-12T01:20:00Z"  # #55 is 01:00


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("member_faild", "member=1_03"), "did you mean 'member_failed'"),
        (("member_failed", "membr=1_03"), "did you mean 'member'"),
        (("weight_changed", "member=1_01", "weight=900"), "weight: must be between 0 and 512"),
        (("member_failed", "member=1_99"), "step 1: member: member 1_99 does not exist"),
        (("member_failed", "1_03"), "give fields as key=value"),
        (("member_failed", "member=1_03", "--duration", "soon"), '"20m"'),
    ],
)
def test_add_refuses_a_bad_step_and_leaves_the_file_alone(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    plan = tmp_path / "p.toml"
    assert run_twin("plan", "new", plan, "--base", INCIDENT).code == 0
    before = plan.read_bytes()
    outcome = run_twin("plan", "add", plan, *args)
    assert outcome.one_line_error, (outcome.err, outcome.traceback)
    assert message in outcome.err
    assert plan.read_bytes() == before
    lines = before.decode().count("\n")
    cited = [int(n) for n in re.findall(rf"{re.escape(plan.name)}:(\d+):", outcome.err)]
    assert all(n <= lines for n in cited), f"cites a line the file does not have: {outcome.err}"


def test_add_without_check_only_checks_the_fields(tmp_path: Path) -> None:
    plan = tmp_path / "p.toml"
    assert run_twin("plan", "new", plan, "--base", INCIDENT).code == 0
    outcome = run_twin("plan", "add", plan, "member_failed", "member=1_99", "--no-check")
    assert outcome.code == 0, outcome.err
    assert run_twin("plan", "check", plan).one_line_error


# -- compare --------------------------------------------------------------------------------------


def test_compare_two_plans_on_the_same_base() -> None:
    outcome = run_twin(
        "plan",
        "compare",
        PLANS / "add-members-before-peak.toml",
        PLANS / "mvc-upgrade-dual-site.toml",
        "--format",
        "json",
    )
    assert outcome.code == 1, outcome.err  # B breaks an expectation
    result = json.loads(outcome.out)
    rows = {(r["metric"], r["subject"]): r for r in result["metrics"]}
    failover = rows[("convergence.failover_s", "system")]
    assert failover["a"]["observed"] == 0.3 and failover["b"]["observed"] == 9.0
    assert failover["b"]["label"] == "2_03 fails"
    assert ("load.cpu_pct", "member:1_01") in rows  # A's own, measured in B too
    only_b = {(f["rule"], f["subject"]) for f in result["only_b"]}
    assert ("convergence.cpu-overload", "member:2_01") in only_b
    assert ("versions.mixed", "group:1") in only_b
    assert result["broken"]["a"] == []
    assert [b["expect"] for b in result["broken"]["b"]] == ["convergence.failover_s < 1 (band)"]
    table = run_twin(
        "plan",
        "compare",
        PLANS / "add-members-before-peak.toml",
        PLANS / "mvc-upgrade-dual-site.toml",
        env={"COLUMNS": "160"},
    )
    assert "B breaks:" in table.out and "A keeps all 5 expectations" in table.out


def test_compare_refuses_different_bases_unless_forced(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(
        (PLANS / "lose-a-sync-link.toml")
        .read_text(encoding="utf-8")
        .replace('base = "../incident-0412.jsonl"', f'base = "{INCIDENT.as_posix()}"')
        .replace("at = 55", "at = 60"),
        encoding="utf-8",
    )
    refused: Outcome = run_twin("plan", "compare", PLANS / "add-members-before-peak.toml", other)
    assert refused.one_line_error and "different bases" in refused.err and "--force" in refused.err
    forced = run_twin(
        "plan",
        "compare",
        PLANS / "add-members-before-peak.toml",
        other,
        "--force",
        "--format",
        "json",
    )
    assert forced.code == 0, forced.err


# -- plugin event types as steps ------------------------------------------------------------------


def test_a_plugin_event_type_as_a_step_through_the_command(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    shutil.copy(ROOT / "tests" / "plugins" / "change_window.py", plugins / "change_window.py")
    plan = tmp_path / "window.toml"
    plan.write_text(
        f'[plan]\nbase = "{INCIDENT.as_posix()}"\nat = 55\n\n'
        '[[step]]\nlabel = "open CHG-9"\ntype = "change_window_opened"\nticket = "CHG-9"\n'
        "minutes = 90\n\n"
        '[[expect]]\npresent = "acme.change-window"\n',
        encoding="utf-8",
    )
    outcome = run_twin("--plugins-dir", plugins, "plan", "check", plan, "--format", "json")
    assert outcome.code == 0, outcome.err
    step = json.loads(outcome.out)["steps"][0]
    assert step["type"] == "change_window_opened"
    assert [f["message"] for f in step["raised"]] == ["change window CHG-9 open for 90 min"]
    plain = run_twin("plan", "check", plan)
    assert plain.one_line_error and "unknown event type 'change_window_opened'" in plain.err


DRAIN_PLUGIN = """\
from typing import ClassVar

import attrs

from twin.api import Event, hookimpl


@attrs.frozen(kw_only=True)
class DrainRequested(Event):
    event_type: ClassVar[str] = "acme_drain_requested"
    member: str
    ticket: str = ""


@hookimpl
def twin_register_event_types():
    return [DrainRequested]
"""


def test_a_plugin_step_naming_a_member_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "acme_drain.py").write_text(DRAIN_PLUGIN, encoding="utf-8")
    plan = tmp_path / "drain.toml"
    plan.write_text(
        f'[plan]\nbase = "{INCIDENT.as_posix()}"\nat = 55\n\n'
        '[[step]]\nlabel = "drain 1_03"\ntype = "acme_drain_requested"\nmember = "1_03"\n\n'
        '[[step]]\nlabel = "drain 1_09"\ntype = "acme_drain_requested"\nmember = "1_09"\n',
        encoding="utf-8",
    )
    outcome = run_twin("--plugins-dir", plugins, "plan", "check", plan)
    assert outcome.one_line_error, outcome
    assert f"{plan}:13: step 2 (drain 1_09): member: member 1_09 does not exist" in outcome.err


# -- a base that is gateway output ----------------------------------------------------------------

SYSLOG = ROOT / "tests" / "fixtures" / "gateway" / "messages-2026.log"

DRAIN_FW03 = """\
[plan]
name = "drain cor-fw03 during its CUL window"
base = "messages.log"
at = 9

[[step]]
label = "drain 1_01"
type = "member_admin_changed"
member = "1_01"
up = false

[[expect]]
after = "last"
absent = "convergence.cpu-overload"
"""


def syslog_plan(tmp_path: Path) -> Path:
    shutil.copy(SYSLOG, tmp_path / "messages.log")
    path = tmp_path / "drain.toml"
    path.write_text(DRAIN_FW03, encoding="utf-8")
    return path


def test_a_syslog_base_takes_the_gateway_options_like_any_source(tmp_path: Path) -> None:
    plan = syslog_plan(tmp_path)
    # Without a topology the syslog's hosts cannot be placed: the same one line `twin run` gives.
    refused = run_twin("plan", "check", plan)
    assert refused.one_line_error, refused
    assert "--create-members" in refused.err
    checked = run_twin("plan", "check", plan, "--create-members", "--format", "json")
    assert checked.code == 0, checked.err + (checked.traceback or "")
    doc = json.loads(checked.out)
    # #9: the CUL start put cor-fw03 (created as 1_01) at 86%; draining it clears the overload.
    base_rules = {(f["rule"], f["subject"]) for f in doc["base_point"]["findings"]}
    assert ("convergence.cpu-overload", "member:1_01") in base_rules
    cleared = {(f["rule"], f["subject"]) for f in doc["steps"][0]["cleared"]}
    assert ("convergence.cpu-overload", "member:1_01") in cleared
    assert doc["ok"] is True
    # What was read is said on stderr, as for `twin run FILE`.
    assert "detected format: clusterxl-syslog" in checked.err
    assert "created members: 1_01 (cor-fw03)" in checked.err


def test_a_plan_on_a_syslog_base_is_a_source_with_the_same_options(tmp_path: Path) -> None:
    plan = syslog_plan(tmp_path)
    ran = run_twin("run", plan, "--create-members", "--format", "jsonl", "--changes-only")
    assert ran.code == 0, ran.err + (ran.traceback or "")
    frames = ran.jsonl()
    last = frames[-1]
    assert last["type"] == "member_admin_changed"
    assert last["seq"] == 10  # the base's 9 events, then the step
    added = run_twin(
        "plan", "add", plan, "member_admin_changed", "member=1_01", "up=true", "--create-members"
    )
    assert added.code == 0, added.err + (added.traceback or "")
    assert "added step 2" in added.out


def test_gateway_options_on_a_journal_base_are_refused(tmp_path: Path, incident_db: Path) -> None:
    plan, _journal = on_journal(tmp_path, incident_db, "lose-a-sync-link.toml")
    refused = run_twin("plan", "check", plan, "--create-members")
    assert refused.one_line_error, refused
    assert "this source is a journal" in refused.err


def test_a_typo_in_a_step_type_suggests_the_type_and_no_option_that_does_not_exist(
    tmp_path: Path,
) -> None:
    plan = tmp_path / "p.toml"
    assert run_twin("plan", "new", plan, "--base", INCIDENT).code == 0
    typo = run_twin("plan", "add", plan, "member_fialed", "member=1_03")
    assert typo.one_line_error, typo
    assert "did you mean 'member_failed'?" in typo.err
    assert "--allow-unknown" not in typo.err  # twin plan add has no such option


def test_a_plan_without_expectations_says_so(tmp_path: Path) -> None:
    plan = tmp_path / "p.toml"
    plan.write_text(
        f'[plan]\nbase = "{INCIDENT.as_posix()}"\n\n[[step]]\ntype = "member_failed"\n'
        'member = "1_03"\n',
        encoding="utf-8",
    )
    checked = run_twin("plan", "check", plan)
    assert checked.code == 0, checked.err
    assert "profile seed, 1 step\n" in checked.out
    assert "expectations: none" in checked.out
    assert "✔ PLAN APPLIES: every step fits; no expectation to check" in checked.out
