"""`twin whatif` on the bundled incident: acting before the 02:14 peak, two timelines compared."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import ROOT, run_twin

INCIDENT = ROOT / "examples" / "incident-0412.jsonl"
PEERS = {f"member:1_0{n}" for n in (1, 2, 4, 5, 6)}
ADD_1_07 = ("member_added", "member=1_07", "group=1", "site=1", "cores=32", "memory_gb=128")


def whatif(*args: Any) -> dict[str, Any]:
    result = run_twin("whatif", INCIDENT, "--format", "json", *args)
    assert result.code == 0, result.err + (result.traceback or "")
    data: dict[str, Any] = json.loads(result.out)
    return data


def cpu_overloads(findings: list[dict[str, Any]]) -> set[str]:
    return {f["subject"] for f in findings if f["rule"] == "convergence.cpu-overload"}


@pytest.fixture(scope="module")
def added() -> dict[str, Any]:
    """A seventh member on site 1 at 02:01, before the batch peak."""
    return whatif("--at", "205", *ADD_1_07)


def test_adding_a_member_before_the_peak_avoids_the_peak_cpu_findings(
    added: dict[str, Any],
) -> None:
    assert added["fork_at"] == 205
    assert added["action"]["type"] == "member_added"
    # examples/README.md: at #234 the five site-1 peers pass 80% (1_03 failed at #233).
    assert cpu_overloads(added["avoided"]) == PEERS
    assert added["caused"] == []
    assert added["skipped"] == []
    # 1_03's own samples (elephant flows pinned to it) still read 82% at #214: not avoided.
    still = next(f for f in added["whatif"] if f["original_seq"] == 214)
    assert "member:1_03" in cpu_overloads(still["findings"])


def test_the_peak_load_is_demand_spread_over_the_members_serving_on_the_fork(
    added: dict[str, Any],
) -> None:
    original = {f["seq"]: f for f in added["original"]}
    fork = {f["original_seq"]: f for f in added["whatif"] if f["original_seq"]}
    assert set(original) == set(fork) == set(range(206, 451))
    # #234: a group sample measured on the 5 members serving then. On the fork 6 serve
    # (1_07 added, 1_03 down), so each carries 5/6 of what it carried on the original.
    before = original[234]["metrics"]["member:1_01"]["load.cpu_pct"]["value"]
    after = fork[234]["metrics"]["member:1_01"]["load.cpu_pct"]["value"]
    assert before > 80
    assert after == pytest.approx(before * 5 / 6)
    assert added["diverged_at"] == 206  # the first group sample after the action


def test_draining_site_1_before_the_peak_avoids_every_cpu_finding() -> None:
    data = whatif("--at", "205", "site_failover", "site=2", "--label", "drain site 1")
    assert cpu_overloads(data["avoided"]) == PEERS | {"member:1_03"}
    assert not cpu_overloads(data["caused"])
    assert all(not cpu_overloads(f["findings"]) for f in data["whatif"])
    # 1_03's own samples describe load it no longer carries on the fork: reported, not dropped.
    assert [s["seq"] for s in data["skipped"]] == [209, 214, 220, 226, 231]
    assert all("1_03" in s["why"] and "no longer applies" in s["why"] for s in data["skipped"])
    assert data["action"]["reason"] == "drain site 1"


def test_the_text_shows_both_timelines_side_by_side_and_what_was_avoided() -> None:
    result = run_twin("whatif", INCIDENT, "--at", "205", *ADD_1_07)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    header = next(line for line in lines if "original" in line and "what-if" in line)
    assert header.index("original") < header.index("what-if") < header.index("event")
    row = next(line for line in lines if line.lstrip().startswith("#234"))
    assert "8.0 s" in row and "0.30 s" in row  # original overloaded, the what-if not
    assert any(line.startswith("diverged at #206") for line in lines)
    avoided = lines[lines.index(next(x for x in lines if x.startswith("avoided"))) + 1 :]
    assert sum("convergence.cpu-overload member:1_0" in line for line in avoided[:5]) == 5


def test_events_that_no_longer_apply_are_reported_and_skipped() -> None:
    data = whatif("--at", "300", "member_removed", "member=2_06")
    skipped = {s["seq"]: s for s in data["skipped"]}
    # examples/README.md: 2_06 is rolled back to R81.20 at #412.
    assert skipped[412]["type"] == "upgrade_rolled_back"
    assert "2_06" in skipped[412]["why"]
    assert len(data["whatif"]) == 1 + (450 - 300) - len(skipped)


def test_the_base_is_never_written_unless_kept(tmp_path: Path) -> None:
    db = tmp_path / "prod.db"
    assert run_twin("init", db).code == 0
    assert run_twin("import", db, INCIDENT).code == 0
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    assert run_twin("whatif", db, "--at", "205", *ADD_1_07).code == 0
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest
    kept = run_twin("whatif", db, "--at", "205", *ADD_1_07, "--keep", "add-1_07")
    assert kept.code == 0, kept.err
    assert "kept as branch add-1_07" in kept.out
    rows = run_twin(
        "run",
        db,
        "--branch",
        "add-1_07",
        "--from",
        "206",
        "--format",
        "jsonl",
        "--changes-only",
        "--metrics",
        "members.active",
        "--subjects",
        "system",
    ).jsonl()
    assert rows[0]["type"] == "member_added"
    assert not any(f["subject"] in PEERS for r in rows for f in r["raised"])


def test_bad_actions_are_one_line_errors() -> None:
    unknown = run_twin("whatif", INCIDENT, "--at", "205", "member_failed", "member=1_09")
    assert unknown.one_line_error and "1_09" in unknown.err
    typo = run_twin("whatif", INCIDENT, "--at", "205", "member_faild", "member=1_03")
    assert typo.one_line_error and "member_failed" in typo.err
    mistake = run_twin(  # admin UP cannot lift a fault (1_03 is DOWN by fault at #240)
        "whatif", INCIDENT, "--at", "240", "member_admin_changed", "member=1_03", "up=true"
    )
    assert mistake.one_line_error and "fault" in mistake.err
    keep = run_twin("whatif", INCIDENT, "--at", "205", *ADD_1_07, "--keep", "x")
    assert keep.one_line_error and "journal" in keep.err
    missing = run_twin("whatif", INCIDENT, "member_added")
    assert missing.one_line_error and "--at" in missing.err
    past = run_twin("whatif", INCIDENT, "--at", "999", *ADD_1_07)
    assert past.one_line_error, past
    assert "--at: no event 999: use 1 to 450" in past.err
    assert '"end"' not in past.err  # a plan's word, not an option of twin whatif


SYSLOG = ROOT / "tests" / "fixtures" / "gateway" / "messages-2026.log"


def test_whatif_reads_gateway_output_with_the_gateway_options() -> None:
    # Without a topology the hosts cannot be placed: one line naming the ways to place them.
    refused = run_twin(
        "whatif", SYSLOG, "--at", "7", "member_admin_changed", "member=1_01", "up=false"
    )
    assert refused.one_line_error, refused
    assert "--create-members" in refused.err
    # cor-fw03 is created as 1_01; its CUL window (02:14:07-02:14:19) is an overload on the
    # original. Draining it right after the members are created avoids it.
    result = run_twin(
        "whatif",
        SYSLOG,
        "--create-members",
        "--at",
        "7",
        "member_admin_changed",
        "member=1_01",
        "up=false",
        "--format",
        "json",
    )
    assert result.code == 0, result.err + (result.traceback or "")
    data = json.loads(result.out)
    assert ("convergence.cpu-overload", "member:1_01") in {
        (f["rule"], f["subject"]) for f in data["avoided"]
    }
    assert "detected format: clusterxl-syslog" in result.err


def test_a_typo_in_the_action_type_is_one_line_that_suggests_the_type() -> None:
    typo = run_twin("whatif", INCIDENT, "--at", "205", "member_fialed", "member=1_03")
    assert typo.one_line_error, typo
    assert "type: unknown event type 'member_fialed'; did you mean 'member_failed'?" in typo.err
    assert "--allow-unknown" not in typo.err and "line 1" not in typo.err
