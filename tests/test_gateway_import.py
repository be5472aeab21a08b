"""Importing what Check Point gateways print: syslog, cphaprob state and asg stat captures.

The fixtures in tests/fixtures/gateway/ were written for these tests in the
shapes the gateways print, with the parse hazards each format has in real
copies: both `cphaprob state` header dialects, states in either case,
ACTIVE(!), a capture collapsed onto one line, a stray "v" line, syslog lines
with and without a year (over New Year), no space after "kernel:", lines of
other programs, and a last line cut off mid-word. Every expected event below
was written by hand from the fixture text.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import Outcome, run_twin

FIXTURES = Path(__file__).parent / "fixtures" / "gateway"
TOPOLOGY = FIXTURES / "topology.toml"
SYSLOG = FIXTURES / "messages-2026.log"
NO_YEAR = FIXTURES / "messages-no-year.log"
CPHAPROB = FIXTURES / "cphaprob-captures.txt"
ASG = FIXTURES / "asg-stat-captures.txt"
MAPS = ("--map", "2=1_02", "--map", "3=1_03")


def ok(*args: Any) -> Outcome:
    done = run_twin(*args)
    assert done.code == 0, done.err + (done.traceback or "")
    return done


def journal(tmp_path: Path, topology: bool = True) -> Path:
    path = tmp_path / "incident.db"
    if topology:
        ok("init", path, "--topology", TOPOLOGY)
    else:
        ok("init", path)
    return path


def events(path: Path, start: int = 1) -> list[dict[str, Any]]:
    return ok("log", path, "--from", start, "--format", "jsonl").jsonl()


def brief(rows: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(r["occurred_at"], r["type"], r["data"]) for r in rows]


def head(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


# -- clusterxl-syslog ------------------------------------------------------------------------


def test_a_syslog_excerpt_becomes_events_at_their_own_times(tmp_path: Path) -> None:
    db = journal(tmp_path)  # 6 genesis events: note, site, group, 1_01..1_03
    done = ok("import", db, SYSLOG, *MAPS)
    assert "detected format: clusterxl-syslog" in done.out
    got = brief(events(db, 7))
    cause = "DOWN: Interface eth1-02 is down (Cluster Control Protocol packets are not received)"
    # A CUL start: the load it implies, then the observation (judged on that load).
    assert got[0] == ("2026-03-03T02:14:07Z", "load_changed", {"member": "1_03", "cpu_pct": 86.0})
    assert got[1] == (
        "2026-03-03T02:14:07Z",
        "metric_observed",
        {
            "subject": "member:1_03",
            "metric": "load.cpu_pct",
            "value": 86.0,
            "source": "CLUS-120200 CUL start (CPU-05 usage)",
        },
    )
    assert got[2:4] == [
        ("2026-03-03T02:14:19Z", "load_changed", {"member": "1_03", "cpu_pct": 0.0}),
        ("2026-03-03T02:20:01Z", "member_failed", {"member": "1_02", "cause": cause}),
    ]
    # cor-fw01 saw the same failure of member 2: no second failure, a note.
    assert got[4][:2] == ("2026-03-03T02:20:01Z", "note")
    assert got[4][2]["text"].startswith("1_02 CLUS-214802: ACTIVE -> DOWN")
    assert got[5] == (
        "2026-03-03T02:20:02Z",
        "note",
        {"text": "1_02 CLUS-120108 [pnote]: Fullsync PNOTE ON"},
    )
    # "remote member 3" is placed by --map 3=1_03.
    assert [(g[0], g[1], g[2].get("value", g[2].get("cpu_pct"))) for g in got[6:9]] == [
        ("2026-03-03T02:21:30Z", "load_changed", 91.0),
        ("2026-03-03T02:21:30Z", "metric_observed", 91.0),
        ("2026-03-03T02:21:47Z", "load_changed", 0.0),
    ]
    assert got[9] == ("2026-03-03T02:25:40Z", "member_recovered", {"member": "1_02"})
    assert [g[1] for g in got[10:]] == ["note", "note"]
    assert got[11][2]["text"] == "1_01 CLUS-120130 [sync]: Sync status changed to OK"


def test_lines_that_are_not_understood_are_counted_by_kind(tmp_path: Path) -> None:
    done = ok("import", journal(tmp_path), SYSLOG, *MAPS)
    assert "another program's line ×1 (first at line 1)" in done.out
    assert "kernel line without a CLUS code ×1 (first at line 10)" in done.out
    assert "not a syslog line ×1 (first at line 13)" in done.out
    assert "cut off (last line) ×1 (first at line 14)" in done.out
    assert "skipped 4 lines" in done.out


def test_strict_refuses_the_file_at_its_first_unknown_line(tmp_path: Path) -> None:
    db = journal(tmp_path)
    done = run_twin("import", db, SYSLOG, *MAPS, "--strict")
    assert done.one_line_error
    assert f"{SYSLOG}:1:" in done.err and "--strict" in done.err
    assert head(db) == 6


def test_a_member_that_cannot_be_placed_refuses_the_file_naming_the_line(tmp_path: Path) -> None:
    db = journal(tmp_path)
    done = run_twin("import", db, SYSLOG)  # "Remote member 2" on line 5, no --map
    assert done.one_line_error
    assert f"{SYSLOG}:5:" in done.err
    assert "--map 2=<member id>" in done.err and "--create-members" in done.err
    assert head(db) == 6


def test_times_without_a_year_need_year_and_roll_over_new_year(tmp_path: Path) -> None:
    db = journal(tmp_path)
    refused = run_twin("import", db, NO_YEAR)
    assert refused.one_line_error
    assert f"{NO_YEAR}:1:" in refused.err and "--year" in refused.err
    ok("import", db, NO_YEAR, "--year", "2025", "--tz", "Europe/Berlin")
    got = brief(events(db, 7))
    assert got == [
        ("2025-12-31T22:59:50Z", "load_changed", {"member": "1_03", "cpu_pct": 88.0}),
        ("2025-12-31T22:59:50Z", "metric_observed", got[1][2]),
        ("2025-12-31T22:59:58Z", "member_admin_changed", {"member": "1_01", "up": False}),
        ("2025-12-31T23:00:09Z", "load_changed", {"member": "1_03", "cpu_pct": 0.0}),
        ("2025-12-31T23:05:00Z", "member_admin_changed", {"member": "1_01", "up": True}),
    ]


def test_dry_run_prints_what_twin_log_would_and_writes_nothing(tmp_path: Path) -> None:
    db = journal(tmp_path)
    dry = ok("import", db, SYSLOG, *MAPS, "--dry-run")
    assert head(db) == 6
    assert "nothing written" in dry.err
    ok("import", db, SYSLOG, *MAPS)
    real = events(db, 7)
    keys = ("seq", "event_id", "type", "schema", "occurred_at", "actor", "reason", "data")
    assert [{k: r[k] for k in keys} for r in dry.jsonl()] == [{k: r[k] for k in keys} for r in real]
    assert set(dry.jsonl()[0]) == set(real[0])  # the same envelope fields as `twin log`


def test_importing_the_same_output_twice_appends_nothing_new(tmp_path: Path) -> None:
    db = journal(tmp_path)
    ok("import", db, SYSLOG, *MAPS)
    before = head(db)
    again = ok("import", db, SYSLOG, *MAPS)
    assert "imported nothing new" in again.out
    assert head(db) == before


def test_list_formats_names_every_importer() -> None:
    done = ok("import", "--list-formats")
    for name in ("clusterxl-syslog", "cphaprob-state", "asg-stat", "gateway-counters", "jsonl"):
        assert name in done.out


# -- cphaprob-state --------------------------------------------------------------------------


def test_cphaprob_captures_in_both_dialects_are_diffed_into_events(tmp_path: Path) -> None:
    db = journal(tmp_path)
    done = ok("import", db, CPHAPROB)
    assert "detected format: cphaprob-state" in done.out
    assert "cut off (last line) ×1 (first at line 57)" in done.out
    got = brief(events(db, 7))
    why = "Interface eth1-02 is down (Cluster Control Protocol packets are not received)"
    assert got == [
        (
            "2026-03-03T01:12:40Z",
            "note",
            {"text": "1_01 INIT -> ACTIVE: Reason for ACTIVE! alert has been resolved"},
        ),
        # Capture 2 (old dialect, mixed case): member 2 Down. The failover block
        # explains it, so the failure takes that block's time and reason.
        ("2026-03-03T02:20:01Z", "member_failed", {"member": "1_02", "cause": f"DOWN: {why}"}),
        ("2026-03-03T02:20:01Z", "note", {"text": f"ClusterXL failover 1_02 -> 1_01: {why}"}),
        # Capture 3, collapsed onto one line: ACTIVE(!) with a PNOTE, member 3 "init".
        (
            "2026-03-03T02:38:10Z",
            "note",
            {"text": "1_01 ACTIVE -> ACTIVE(!): CoreXL configuration mismatch"},
        ),
        ("2026-03-03T02:40:00Z", "note", {"text": "1_01 is ACTIVE(!) (Active PNOTEs: COREXL)"}),
        ("2026-03-03T02:40:00Z", "member_failed", {"member": "1_03", "cause": "INIT"}),
        # Capture 4 (its last line cut off): everyone back.
        ("2026-03-03T02:55:00Z", "member_recovered", {"member": "1_02"}),
        ("2026-03-03T02:55:00Z", "member_recovered", {"member": "1_03"}),
    ]


def test_a_capture_reads_the_same_with_its_whitespace_collapsed(tmp_path: Path) -> None:
    lines = CPHAPROB.read_text().splitlines()
    first = "\n".join(lines[:22]) + "\n"  # the date line and the first capture
    down = first.replace("0%              STANDBY        cor-fw02", "0%  down  cor-fw02")
    flat = (
        lines[0]
        + "\n"
        + " ".join(" ".join(lines[1:22]).split()).replace("0% STANDBY cor-fw02", "0% DOWN cor-fw02")
    )
    results = []
    for name, text in (("lines.txt", down), ("flat.txt", flat + "\n")):
        db = tmp_path / f"{name}.db"
        ok("init", db, "--topology", TOPOLOGY)
        (tmp_path / name).write_text(text)
        ok("import", db, tmp_path / name, "--format", "cphaprob-state")
        results.append([(t, ty, d) for t, ty, d in brief(events(db, 7))])
    assert results[0] == results[1]
    # The date line before the capture gives its time.
    assert ("2026-03-03T02:05:00Z", "member_failed", {"member": "1_02", "cause": "DOWN"}) in (
        results[0]
    )


def test_cphaprob_members_are_placed_by_map_name_or_created(tmp_path: Path) -> None:
    bare = journal(tmp_path, topology=False)
    refused = run_twin("import", bare, CPHAPROB)
    assert refused.one_line_error and f"{CPHAPROB}:8:" in refused.err  # row "1 (local)"
    dry = ok("import", bare, CPHAPROB, "--create-members", "--dry-run")
    assert "twin: would create members: 1_01 (cor-fw01), 1_02 (cor-fw02)" in dry.err
    assert "created members" not in dry.err + dry.out  # nothing was written
    assert not [e for e in events(bare) if e["type"] == "member_added"]
    done = ok("import", bare, CPHAPROB, "--create-members")
    assert "created members: 1_01 (cor-fw01), 1_02 (cor-fw02), 1_03 (cor-fw03)" in done.out
    added = [e["data"] for e in events(bare) if e["type"] == "member_added"]
    assert [(a["member"], a["hostname"]) for a in added] == [
        ("1_01", "cor-fw01"),
        ("1_02", "cor-fw02"),
        ("1_03", "cor-fw03"),
    ]


# -- asg-stat --------------------------------------------------------------------------------


def test_asg_stat_captures_become_member_and_site_events(tmp_path: Path) -> None:
    db = journal(tmp_path, topology=False)
    done = ok("import", db, ASG, "--create-members")
    assert "detected format: asg-stat" in done.out
    assert "has no line end" in done.out
    got = brief(events(db))
    created = [g for g in got if g[1] in ("site_added", "group_created", "member_added")]
    assert {g[0] for g in created} == {"2026-03-03T03:00:00Z"}
    assert [g[2]["member"] for g in created if g[1] == "member_added"] == [
        "1_01",
        "1_02",
        "1_03",
        "2_01",
        "2_02",
        "2_03",
    ]
    assert created[3][2]["hostname"] == "tok-ch01-01"  # the (local) row, named by the prompt
    assert got[len(created) :] == [
        # The collapsed capture: DOWN (admin), DOWN, a lower-case "up", chassis 2 ACTIVE.
        ("2026-03-03T03:12:00Z", "member_admin_changed", {"member": "1_02", "up": False}),
        ("2026-03-03T03:12:00Z", "member_failed", {"member": "1_03", "cause": "DOWN (Inactive)"}),
        ("2026-03-03T03:12:00Z", "site_failover", {"site": 2}),
        ("2026-03-03T03:30:00Z", "member_admin_changed", {"member": "1_02", "up": True}),
        ("2026-03-03T03:30:00Z", "member_recovered", {"member": "1_03"}),
        (
            "2026-03-03T03:30:00Z",
            "member_failed",
            {"member": "2_02", "cause": "DETACHED (Inactive)"},
        ),
    ]
    state = ok("state", db, "--format", "json").out
    assert '"active": true' in state


# -- every SOURCE command reads gateway output ------------------------------------------------


def test_run_reads_an_excerpt_directly_with_the_same_options(tmp_path: Path) -> None:
    done = ok(
        "run",
        NO_YEAR,
        "--create-members",
        "--year",
        "2025",
        "--format",
        "jsonl",
        "--metrics",
        "members.active",
    )
    assert "detected format: clusterxl-syslog" in done.err
    rows = done.jsonl()
    assert rows[-1]["occurred_at"] == "2026-01-01T00:05:00Z"
    refused = run_twin("state", NO_YEAR, "--year", "2025")
    assert refused.one_line_error and "--create-members" in refused.err


@pytest.mark.parametrize("source_is_journal", [True, False])
def test_gateway_options_are_refused_for_a_journal_or_event_file(
    tmp_path: Path, source_is_journal: bool
) -> None:
    db = journal(tmp_path)
    target = db if source_is_journal else tmp_path / "e.jsonl"
    if not source_is_journal:
        target.write_text('{"type": "note", "text": "x"}\n')
    done = run_twin("log", target, "--map", "2=1_02")
    assert done.one_line_error and "--map" in done.err


def test_import_then_run_shows_the_faults_and_cpu_peaks_at_their_times(tmp_path: Path) -> None:
    db = journal(tmp_path)
    ok("import", db, SYSLOG, *MAPS)
    frames = ok("run", db, "--format", "jsonl", "--metrics", "members.active,load.cpu_pct").jsonl()
    by_time: dict[str, list[dict[str, Any]]] = {}
    for frame in frames:
        by_time.setdefault(frame["occurred_at"], []).append(frame)

    def cpu(frame: dict[str, Any]) -> float:
        return float(frame["metrics"]["member:1_03"]["load.cpu_pct"]["value"])

    def overloaded(frame: dict[str, Any]) -> bool:
        return any(
            f["rule"] == "convergence.cpu-overload" and f["subject"] == "member:1_03"
            for f in frame["findings"]
        )

    def active(frame: dict[str, Any]) -> float:
        return float(frame["metrics"]["system"]["members.active"]["value"])

    assert not overloaded(by_time["2026-03-03T00:00:00Z"][-1])
    peak = by_time["2026-03-03T02:14:07Z"][-1]
    assert cpu(peak) == 86.0 and overloaded(peak)
    calm = by_time["2026-03-03T02:14:19Z"][-1]
    assert cpu(calm) == 0.0 and not overloaded(calm)
    assert active(by_time["2026-03-03T02:20:01Z"][-1]) == 2.0
    second = by_time["2026-03-03T02:21:30Z"][-1]
    assert cpu(second) == 91.0 and overloaded(second)
    assert not overloaded(by_time["2026-03-03T02:21:47Z"][-1])
    assert active(by_time["2026-03-03T02:25:40Z"][-1]) == 3.0


def test_the_readme_example_takes_three_commands(tmp_path: Path) -> None:
    examples = Path(__file__).parent.parent / "examples"
    db = tmp_path / "incident.db"
    ok("init", db, "--topology", examples / "cor-cluster.toml")
    done = ok("import", db, examples / "cor-messages.log")
    assert "detected format: clusterxl-syslog" in done.out
    assert "another program's line ×2" in done.out
    kinds = [e["type"] for e in events(db) if e["actor"] == "twin import (clusterxl-syslog)"]
    assert kinds.count("member_failed") == 1 and kinds.count("member_recovered") == 1
    assert kinds.count("load_changed") == 4


def test_a_cul_start_on_a_gateway_without_load_data_is_no_model_drift(tmp_path: Path) -> None:
    # The README's excerpt on its topology: no load samples at all, two CUL windows on cor-fw03.
    examples = Path(__file__).parent.parent / "examples"
    db = tmp_path / "incident.db"
    ok("init", db, "--topology", examples / "cor-cluster.toml")
    ok("import", db, examples / "cor-messages.log")
    frames = ok("run", db, "--format", "jsonl", "--changes-only").jsonl()
    raised = [f["rule"] for frame in frames for f in frame["raised"]]
    assert raised.count("convergence.cpu-overload") == 2  # the two CUL windows still show
    assert "twin.model-drift" not in raised
    # twin state: the gateway's 93% beside the model's 93% when it was observed (error 0).
    state = json.loads(ok("state", db, "--at", "15", "--format", "json").out)
    (row,) = state["observed"]
    assert (row["subject"], row["metric"], row["observed"]) == ("member:1_03", "load.cpu_pct", 93.0)
    assert row["predicted"]["value"] == 93.0 and row["error_then"] == 0.0


def test_a_chosen_format_that_reads_no_line_is_refused_naming_the_one_it_looks_like(
    tmp_path: Path,
) -> None:
    db = journal(tmp_path)
    wrong = run_twin("import", db, SYSLOG, *MAPS, "--format", "cphaprob-state")
    assert wrong.one_line_error, wrong
    assert "no line reads as cphaprob-state output" in wrong.err
    assert "its content looks like clusterxl-syslog (leave --format out" in wrong.err
    assert head(db) == 6  # was: exit 0, "imported nothing new"
    ran = run_twin("run", SYSLOG, "--input-format", "asg-stat", "--create-members")
    assert ran.one_line_error and "no line reads as asg-stat output" in ran.err


# -- gateway-counters ------------------------------------------------------------------------


def test_counters_become_observations_held_against_the_model(tmp_path: Path) -> None:
    db = journal(tmp_path)
    ok(
        "append",
        db,
        "load_changed",
        "group=1",
        "connections=3000000",
        "--ts",
        "2026-03-03T02:00:00Z",
    )
    done = ok("import", db, FIXTURES / "counters.txt")
    assert "detected format: gateway-counters" in done.out
    got = brief(events(db, 8))
    fw = {"subject": "member:1_01", "metric": "load.connections"}
    assert got == [
        (
            "2026-03-03T02:30:00Z",
            "metric_observed",
            {**fw, "value": 1423118, "source": "fw tab -t connections -s (#VALS; #PEAK 1610220)"},
        ),
        (
            "2026-03-03T02:30:05Z",
            "note",
            {
                "text": "1_01 fw ctl pstat memory used: 31% (9805MB out of 31630MB) - "
                "below watermark"
            },
        ),
        (
            "2026-03-03T02:30:05Z",
            "metric_observed",
            {**fw, "value": 1423118, "source": "fw ctl pstat (Concurrent Connections)"},
        ),
        (
            "2026-03-03T02:30:05Z",
            "metric_observed",
            {
                "subject": "member:1_01",
                "metric": "capacity.connections_max",
                "value": 9999900,
                "source": "fw ctl pstat (Concurrent Connections)",
            },
        ),
        ("2026-03-03T02:31:00Z", "note", {"text": "1_02 sync status: Off - Full-sync failure"}),
    ]
    # The model spreads 3,000,000 over three equal members: 1,000,000 each, 42% below.
    state = json.loads(ok("state", db, "--format", "json").out)
    row = next(r for r in state["observed"] if r["metric"] == "load.connections")
    assert row["predicted"]["value"] == 1_000_000.0
    drift = [f for f in state["findings"] if f["rule"] == "twin.model-drift"]
    assert {f["subject"] for f in drift} >= {"observed:load.connections@member:1_01"}


def test_other_cphaprob_commands_are_not_state_captures(tmp_path: Path) -> None:
    other = tmp_path / "if.txt"
    other.write_text(
        "[Expert@cor-fw01:0]# cphaprob -a -m if\n"
        "CCP mode: Manual (Unicast)\n"
        "Interface Name:      Status:\n"
        "eth1                UP\n"
    )
    done = ok("import", journal(tmp_path), other, "--format", "cphaprob-state", "--dry-run")
    assert "0 events" in done.err
    assert "outside a capture ×3 (first at line 2)" in done.err
