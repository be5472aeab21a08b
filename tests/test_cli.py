"""The `twin` command as a user runs it: real files, exit codes, one-line errors.

Commands run in this process (tests/cli_helpers.py): the click group maps every
error to its line and exit code, so this is what a user sees. The real-process
smoke tests are in tests/test_cli_process.py.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import Outcome, run_twin


def twin(*args: Any, env: dict[str, str] | None = None) -> Outcome:
    """``twin ARGS...`` in this process; no traceback ever reaches the user."""
    result = run_twin(*args, env=env)
    assert result.traceback is None, result.traceback
    return result


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def topology_rows(members: int = 3) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
        {"type": "orchestrator_added", "orchestrator": "mho-1a", "site": 1},
        {"type": "orchestrator_added", "orchestrator": "mho-1b", "site": 1},
        {"type": "group_created", "group": 1},
    ]
    for n in range(1, members + 1):
        rows.append({"type": "member_added", "member": f"1_0{n}", "group": 1, "site": 1})
    rows.append(
        {"type": "link_added", "link": "sync-1", "a": "mho-1a", "b": "mho-1b", "kind": "sync"}
    )
    return rows


@pytest.fixture
def incident(tmp_path: Path) -> Path:
    rows = topology_rows()
    rows += [
        {
            "ts": "2026-03-14T02:00:00Z",
            "type": "load_changed",
            "group": 1,
            "connections": 3_000_000,
            "cps": 120_000,
            "cpu_pct": 50,
        },
        {"ts": "2026-03-14T02:14:00Z", "type": "load_changed", "group": 1, "cpu_pct": 85},
        {
            "ts": "2026-03-14T02:20:00Z",
            "type": "member_failed",
            "member": "1_02",
            "cause": "pnote:Interface Active Check",
        },
        {"ts": "2026-03-14T02:30:00Z", "type": "load_changed", "group": 1, "cpu_pct": 40},
        {"ts": "2026-03-14T02:40:00Z", "type": "note", "text": "all quiet"},
    ]
    for number, row in enumerate(rows, start=1):
        row["event_id"] = f"INC-0412-{number:04d}"
    return write_jsonl(tmp_path / "incident.jsonl", rows)


def test_help_explains_the_commands() -> None:
    result = twin("--help")
    assert result.code == 0
    for command in (
        "demo",
        "init",
        "import",
        "append",
        "log",
        "run",
        "state",
        "diff",
        "branch",
        "verify",
        "plugins",
        "rules",
        "profile",
    ):
        assert command in result.out


def test_journal_lifecycle_init_import_append_log_verify(tmp_path: Path, incident: Path) -> None:
    db = tmp_path / "prod.db"
    assert twin("init", db).code == 0
    imported = twin("import", db, incident)
    assert imported.code == 0, imported.err
    assert "imported 13 events" in imported.out
    again = twin("import", db, incident)
    assert again.code == 0
    assert "skipped 13" in again.out
    appended = twin("append", db, "member_recovered", "member=1_02", "--reason", "RMA done")
    assert appended.code == 0, appended.err
    assert "#14" in appended.out
    log = twin("log", db, "--format", "jsonl").jsonl()
    assert [row["seq"] for row in log] == list(range(1, 15))
    assert log[-1]["type"] == "member_recovered"
    assert log[-1]["reason"] == "RMA done"
    assert {"event_id", "occurred_at", "recorded_at", "hash", "data", "schema"} <= set(log[0])
    verified = twin("verify", db)
    assert verified.code == 0 and "ok: 14 events" in verified.out


def test_bad_line_refuses_the_whole_file_with_file_line_field(tmp_path: Path) -> None:
    db = tmp_path / "prod.db"
    twin("init", db)
    rows = topology_rows()
    rows.append({"type": "weight_changed", "member": "1_01", "weight": 600})
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = twin("import", db, bad)
    assert result.code == 2
    assert result.err.strip() == (
        f"twin: error: {bad}:{len(rows)}: weight: must be between 0 and 512 (got 600)"
    )
    assert "Traceback" not in result.err
    assert twin("log", db, "--format", "jsonl").out == ""


def test_reference_to_an_unknown_member_is_refused_with_its_line(tmp_path: Path) -> None:
    rows = [*topology_rows(), {"type": "member_failed", "member": "1_09"}]
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    result = twin("run", bad)
    assert result.code == 2
    assert f"{bad}:{len(rows)}: member: unknown member '1_09'" in result.err


def test_unknown_type_suggests_and_allow_unknown_keeps_it(tmp_path: Path) -> None:
    db = tmp_path / "prod.db"
    twin("init", db)
    rows = [*topology_rows(), {"type": "member_faild", "member": "1_01"}]
    bad = write_jsonl(tmp_path / "typo.jsonl", rows)
    refused = twin("import", db, bad)
    assert refused.code == 2
    assert "did you mean 'member_failed'" in refused.err
    kept = twin("import", db, bad, "--allow-unknown")
    assert kept.code == 0
    state = json.loads(twin("state", db, "--format", "json").out)
    assert any(f["rule"] == "twin.unknown-event-type" for f in state["findings"])


def test_expect_head_conflict_exits_1_and_says_conflict(tmp_path: Path, incident: Path) -> None:
    db = tmp_path / "prod.db"
    twin("init", db)
    twin("import", db, incident)
    ok = twin("append", db, "note", "text=hello", "--expect-head", "13")
    assert ok.code == 0
    late = twin("append", db, "note", "text=again", "--expect-head", "13")
    assert late.code == 1
    assert "conflict" in late.err and "14" in late.err and "13" in late.err


def test_run_jsonl_is_the_machine_contract(incident: Path) -> None:
    rows = twin("run", incident, "--format", "jsonl").jsonl()
    assert [r["seq"] for r in rows] == list(range(1, 14))
    peak = rows[9]
    assert peak["type"] == "load_changed"
    assert set(peak) >= {"seq", "type", "occurred_at", "metrics", "findings"}
    for metrics in peak["metrics"].values():
        for metric in metrics.values():
            assert set(metric) == {"value", "low", "high"}
            assert metric["low"] <= metric["value"] <= metric["high"]
    narrowed = twin(
        "run", incident, "--format", "jsonl", "--metrics", "members.active", "--subjects", "system"
    ).jsonl()
    assert all(set(r["metrics"]) <= {"system"} for r in narrowed)
    assert narrowed[-1]["metrics"]["system"]["members.active"]["value"] == 2


def test_state_at_a_point_and_diff_between_two(incident: Path) -> None:
    state = json.loads(twin("state", incident, "--at", "11", "--format", "json").out)
    assert state["seq"] == 11
    assert state["profile"] == "seed"
    nodes = {n["id"]: n for n in state["topology"]["nodes"]}
    assert nodes["member:1_02"]["state"] == "DOWN"
    diff = json.loads(twin("diff", incident, "9", "12", "--format", "json").out)
    assert diff["events"] == {"load_changed": 2, "member_failed": 1}
    assert {"kind": "member", "id": "1_02", "change": "state", "a": "UP", "b": "DOWN"} in diff[
        "topology"
    ]
    table = twin("diff", incident, "9", "12")
    assert table.code == 0 and "member_failed ×1" in table.out


def test_state_at_out_of_range_is_bad_input(incident: Path) -> None:
    result = twin("state", incident, "--at", "99")
    assert result.code == 2
    assert "--at: no event 99" in result.err
    # every command says the range the same way
    expected = "no event 99: use 0 (before the first event) to 13"
    assert expected in result.err
    assert expected in twin("diff", incident, "1", "99").err
    assert expected in twin("tui", incident, "--at", "99").err
    rule = "convergence.cpu-overload"
    bisect_to = twin("bisect", incident, "--rule", rule, "--to", "99")
    assert f"--to: {expected}" in bisect_to.err
    bisect_from = twin("bisect", incident, "--rule", rule, "--from", "99")
    assert f"--from: {expected}" in bisect_from.err


def test_whatif_and_report_say_an_event_outside_the_journal_as_state_does(
    incident: Path, tmp_path: Path
) -> None:
    # both need an event that exists (no "before the first event"): the same words, from 1
    expected = "no event 99: use 1 to 13"
    whatif = twin("whatif", incident, "--at", "99", "note", "text=x")
    assert whatif.code == 2 and f"--at: {expected}" in whatif.err, whatif.err
    out = tmp_path / "r.md"
    report_from = twin("report", incident, "-o", out, "--from", "99")
    assert report_from.code == 2 and f"--from: {expected}" in report_from.err
    report_to = twin("report", incident, "-o", out, "--to", "99")
    assert report_to.code == 2 and f"--to: {expected}" in report_to.err


def test_run_from_past_the_end_is_bad_input_not_an_empty_table(incident: Path) -> None:
    for start in ("99", "-5"):
        result = twin("run", incident, "--from", start)
        assert result.one_line_error, result.err
        assert f"--from: no event {start}: use 1 to 13" in result.err
        assert result.out == ""
    last = twin("run", incident, "--from", "13")
    assert last.code == 0 and "events 13–13 of 13" in last.out


def test_branch_is_a_what_if_that_leaves_main_alone(tmp_path: Path, incident: Path) -> None:
    db = tmp_path / "prod.db"
    twin("init", db)
    twin("import", db, incident)
    assert twin("branch", db, "calm", "--at", "6").code == 0
    appended = twin(
        "append", db, "member_admin_changed", "member=1_02", "up=false", "--branch", "calm"
    )
    assert appended.code == 0, appended.err
    branch_log = twin("log", db, "--branch", "calm", "--format", "jsonl").jsonl()
    assert [r["seq"] for r in branch_log] == [1, 2, 3, 4, 5, 6, 7]
    assert branch_log[-1]["type"] == "member_admin_changed"
    assert len(twin("log", db, "--format", "jsonl").jsonl()) == 13
    assert twin("verify", db, "--branch", "calm").code == 0


def test_verify_names_the_first_tampered_seq(tmp_path: Path, incident: Path) -> None:
    db = tmp_path / "prod.db"
    twin("init", db)
    twin("import", db, incident)
    with sqlite3.connect(db) as conn:
        triggers = [
            r[0] for r in conn.execute("select name from sqlite_master where type='trigger'")
        ]
        for name in triggers:
            conn.execute(f'drop trigger "{name}"')
        conn.execute("update events set data = replace(data, '3000000', '9000000') where seq = 9")
    conn.close()
    result = twin("verify", db)
    assert result.code == 1
    assert "seq 9" in result.err


def test_profile_file_overrides_and_is_named_in_the_output(tmp_path: Path, incident: Path) -> None:
    profile = tmp_path / "lab.toml"
    profile.write_text(
        '[profile]\nname = "lab"\n\n[parameters]\n"hypersync.capacity_factor" = 0.25\n'
    )
    seed = json.loads(twin("state", incident, "--format", "json").out)
    lab = json.loads(twin("state", incident, "--format", "json", "--profile", profile).out)
    assert lab["profile"] == "lab"
    cap = "capacity.connections_max"
    assert lab["metrics"]["system"][cap]["value"] == pytest.approx(
        seed["metrics"]["system"][cap]["value"] / 2
    )
    listed = json.loads(twin("profile", "--json", "--profile", profile).out)
    factor = next(p for p in listed["parameters"] if p["name"] == "hypersync.capacity_factor")
    assert factor["value"] == 0.25 and factor["provenance"] == "measured"


def test_bad_profile_names_the_parameter_and_suggests(tmp_path: Path, incident: Path) -> None:
    profile = tmp_path / "typo.toml"
    profile.write_text('[parameters]\n"hypersync.capacity_factr" = 0.5\n')
    result = twin("run", incident, "--profile", profile)
    assert result.code == 2
    assert f"{profile}:2: hypersync.capacity_factr: unknown parameter" in result.err
    assert "did you mean 'hypersync.capacity_factor'" in result.err


def test_plugins_rules_and_profile_list_the_builtins() -> None:
    plugins = json.loads(twin("plugins", "--json").out)
    names = {p["name"]: p for p in plugins}
    assert {"capacity", "sync", "memory", "convergence"} <= set(names)
    assert all(names[n]["builtin"] and names[n]["status"] == "loaded" for n in ("capacity", "sync"))
    rules = json.loads(twin("rules", "--json").out)
    assert any("convergence.cpu-overload" in r["raises"] for r in rules)
    assert any(r["metrics"].get("sync.traffic_gbps") == "Gbps" for r in rules)
    profile = json.loads(twin("profile", "--json").out)
    assert profile["profile"] == "seed"
    assert all(
        p["provenance"] in {"seed", "official", "community", "assumption"}
        for p in profile["parameters"]
    )


def test_disable_plugin_removes_its_rules(incident: Path) -> None:
    plugins = json.loads(twin("--disable-plugin", "sync", "plugins", "--json").out)
    sync = next(p for p in plugins if p["name"] == "sync")
    assert sync["status"] == "blocked"
    rows = twin("--disable-plugin", "sync", "run", incident, "--format", "jsonl").jsonl()
    assert "sync.traffic_gbps" not in rows[-1]["metrics"]["system"]


def test_missing_and_wrong_files_are_one_line_errors(tmp_path: Path) -> None:
    missing = twin("run", tmp_path / "nope.jsonl")
    assert missing.code == 2 and "no such file" in missing.err
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    wrong = twin("run", text)
    assert wrong.code == 2 and "not a journal or an event file" in wrong.err
    exists = tmp_path / "x.db"
    twin("init", exists)
    again = twin("init", exists)
    assert again.code == 2 and "already exists" in again.err
    usage = twin("run")
    assert usage.code == 2


def test_csv_event_files_work_like_jsonl(tmp_path: Path) -> None:
    csv_file = tmp_path / "events.csv"
    csv_file.write_text(
        "ts,type,site,group,member,connections,cpu_pct\n"
        "2026-03-14T01:00:00Z,site_added,1,,,,\n"
        ",group_created,,1,,,\n"
        ",member_added,1,1,1_01,,\n"
        ",load_changed,,1,,1000,91\n"
    )
    rows = twin("run", csv_file, "--format", "jsonl").jsonl()
    assert rows[-1]["metrics"]["member:1_01"]["load.cpu_pct"]["value"] == 91
    assert any(f["rule"] == "convergence.cpu-overload" for f in rows[-1]["findings"])


def test_snapshots_are_listed_dropped_and_keyed_by_the_profile(
    tmp_path: Path, incident: Path
) -> None:
    db = tmp_path / "prod.db"
    twin("init", db)
    twin("import", db, incident)
    assert twin("snapshots", db).out.strip() == "no snapshots"
    # A journal of 13 events gets no engine snapshot (every 64); build a longer one.
    rows = [{"type": "load_changed", "group": 1, "cps": 1000 + n} for n in range(140)]
    more = write_jsonl(tmp_path / "more.jsonl", rows)
    assert twin("import", db, more).code == 0
    seed = json.loads(twin("state", db, "--at", "150", "--format", "json").out)
    listed = twin("snapshots", db).out
    assert "engine:" in listed and "2 snapshots" in listed
    profile = tmp_path / "lab.toml"
    profile.write_text('[parameters]\n"sync.bytes_per_new_connection" = 600\n')
    lab = json.loads(twin("state", db, "--at", "150", "--format", "json", "--profile", profile).out)
    # Another profile never reads the seed profile's snapshots: its own numbers show.
    traffic = "sync.traffic_gbps"
    assert lab["metrics"]["system"][traffic]["value"] > seed["metrics"]["system"][traffic]["value"]
    assert len([line for line in twin("snapshots", db).out.splitlines() if "engine:" in line]) == 2
    dropped = twin("snapshots", db, "--drop")
    assert dropped.code == 0 and "dropped" in dropped.out
    assert twin("snapshots", db).out.strip() == "no snapshots"


def test_diff_far_apart_uses_snapshots_and_agrees_with_a_straight_replay(
    tmp_path: Path, incident: Path
) -> None:
    rows = [json.loads(line) for line in incident.read_text().splitlines()]
    rows += [
        {"type": "load_changed", "group": 1, "cps": 1000 + n, "cpu_pct": 40 + n % 50}
        for n in range(140)
    ]
    events = write_jsonl(tmp_path / "long.jsonl", rows)
    db = tmp_path / "long.db"
    twin("init", db)
    twin("import", db, events)
    twin("state", db)  # leaves engine snapshots every 64 events
    diff = json.loads(twin("diff", db, "5", "150", "--format", "json").out)
    straight = json.loads(twin("state", events, "--at", "150", "--format", "json").out)
    # #6..#150: the fixture's loads at #9, #10 and #12, then the added ones at #14..#150.
    assert diff["events"]["load_changed"] == 3 + 137
    for row in diff["metrics"]:
        assert row["b"] == straight["metrics"][row["subject"]][row["metric"]]["value"]


def test_click_runner_sees_what_a_user_sees(tmp_path: Path) -> None:
    # The click group maps errors to lines and exit codes itself, not only the console script.
    from click.testing import CliRunner

    from twin.cli import cli

    runner = CliRunner(env={"TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"})
    missing = runner.invoke(cli, ["state", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2
    assert missing.stderr == f"twin: error: {tmp_path / 'nope.jsonl'}: no such file\n"
    usage = runner.invoke(cli, ["state", str(tmp_path / "nope.jsonl"), "--at", "abc"])
    assert usage.exit_code == 2
    assert usage.stderr == (
        "twin: error: --at: 'abc' is not a valid integer (see 'twin state --help')\n"
    )
    listed = runner.invoke(cli, ["rules", "--json"])
    assert listed.exit_code == 0
    assert any("convergence.cpu-overload" in r["raises"] for r in json.loads(listed.stdout))


def test_import_of_a_folder_is_one_line_naming_what_it_wanted(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    assert twin("init", journal).code == 0
    for name in ("capture", "events.jsonl"):
        folder = tmp_path / name
        folder.mkdir()
        result = twin("import", journal, folder)
        assert result.one_line_error, result.err
        assert "is a folder, not an event file or gateway output" in result.err
    assert "ok: 0 events" in twin("verify", journal).out


def test_counts_of_one_read_as_one(tmp_path: Path) -> None:
    note = {"ts": "2026-03-14T00:00:00Z", "type": "note", "text": "one event"}
    single = write_jsonl(tmp_path / "one.jsonl", [note])
    journal = tmp_path / "j.db"
    twin("init", journal)
    assert "imported 1 event (#1–#1)" in twin("import", journal, single).out
    assert "ok: 1 event, hash chain intact" in twin("verify", journal).out
    assert "0 active findings" in twin("state", journal).out
    down = [
        {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
        {"type": "group_created", "group": 1},
        {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
        {"type": "member_added", "member": "1_02", "group": 1, "site": 1},
        {"type": "member_failed", "member": "1_02"},
    ]
    one_finding = twin("run", write_jsonl(tmp_path / "down.jsonl", down))
    assert one_finding.code == 0
    assert "active after #5: 1 finding\n" in one_finding.out
    assert "1 active finding\n" in twin("state", tmp_path / "down.jsonl").out


def test_report_into_a_missing_folder_names_the_folder(tmp_path: Path, incident: Path) -> None:
    result = twin("report", incident, "-o", tmp_path / "nofolder" / "x.html")
    assert result.one_line_error, result.err
    assert f"-o: no such folder '{tmp_path / 'nofolder'}'" in result.err
    assert not (tmp_path / "nofolder").exists()
