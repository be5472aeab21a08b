"""`twin report`: a self-contained postmortem of the bundled incident, HTML and Markdown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.cli_helpers import ROOT, run_twin

INCIDENT = ROOT / "examples" / "incident-0412.jsonl"
PLOT_NAMES = ("findings", "cpu", "failover", "sync", "capacity")
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//))"""
    r"""|(?:url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:|//))|@import|<link\b|<script\b|<iframe\b""",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def html_report(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "inc-0412.html"
    result = run_twin("report", INCIDENT, "-o", out)
    assert result.code == 0, result.err + (result.traceback or "")
    assert out.stat().st_mode & 0o044  # an ordinary, readable file
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def spans() -> list[dict[str, object]]:
    """Every finding of the incident, from `twin run --changes-only` (independent of the report)."""
    rows = run_twin("run", INCIDENT, "--format", "jsonl", "--changes-only").jsonl()
    opened: dict[tuple[str, str], dict[str, object]] = {}
    found: list[dict[str, object]] = []
    for row in rows:
        for f in row["raised"]:
            span = {**f, "raised": row["seq"], "cleared": None}
            opened[(f["rule"], f["subject"])] = span
            found.append(span)
        for f in row["cleared"]:
            opened.pop((f["rule"], f["subject"]))["cleared"] = row["seq"]
    # The report lists them in the order raised, then by finding and subject.
    return sorted(found, key=lambda s: (s["raised"], s["rule"], s["subject"]))


def test_the_html_report_opens_offline(html_report: str) -> None:
    assert html_report.startswith("<!DOCTYPE html>")
    assert EXTERNAL.search(html_report) is None, EXTERNAL.search(html_report)
    assert "<style>" in html_report


def test_the_html_report_holds_its_plots_inline(html_report: str) -> None:
    assert html_report.count("<svg") == len(PLOT_NAMES)
    for name in PLOT_NAMES:
        assert f'id="plot-{name}"' in html_report
    assert "<?xml" not in html_report and "<metadata>" not in html_report


def test_the_html_report_lists_every_finding_with_where_it_was_raised_and_cleared(
    html_report: str, spans: list[dict[str, object]]
) -> None:
    # 13, plus sync.standby-backups-off while the genesis has added 1-2 of site 2's 6 members.
    assert len(spans) == 14
    findings = html_report.split('id="findings"', 1)[1].split("</table>", 1)[0]
    rows = findings.split("<tr>")[2:]
    assert len(rows) == len(spans)
    for span, row in zip(spans, rows, strict=True):
        assert f">{span['rule']}<" in row
        assert f">{span['subject']}<" in row
        assert f"#{span['raised']} " in row
        cleared = "still active" if span["cleared"] is None else f"#{span['cleared']} "
        assert cleared in row


def test_the_summary_names_the_first_error_and_how_bisection_found_it(html_report: str) -> None:
    summary = html_report.split('id="summary"', 1)[1].split('id="moments"', 1)[0]
    # examples/README.md: 2_01 is UP on R82 at #80 (01:11), the group runs two versions.
    assert "versions.mixed on group:1 at #80 (01:11:00)" in summary
    assert re.search(r"Found by bisection in \d+ probes", summary)
    assert "Worst moment" in summary


def test_the_summary_says_the_first_error_is_the_upgrade_and_names_the_first_that_is_not(
    html_report: str,
) -> None:
    summary = html_report.split('id="summary"', 1)[1].split('id="moments"', 1)[0]
    # examples/README.md: the MVC upgrade of site 2 mixes the versions from #80; the VS
    # capacity test brings 1_05 over its VS memory limit at #127 (01:29:30): no upgrade's.
    assert "versions.mixed on group:1 at #80 (01:11:00), the upgrade in progress" in summary
    assert "the upgrade&#x27;s own mixed versions" in summary
    assert "First error no upgrade explains" in summary
    assert "memory.vs-over-limit on member:1_05 at #127 (01:29:30)" in summary
    assert "Raised by #127: Virtual System vs-14 created on 1_05" in summary
    assert "versions.mixed (#80, 01:11:00, the upgrade&#x27;s) → memory.vs-over-limit" in summary


def test_mixed_versions_no_upgrade_explains_are_not_called_the_upgrade(tmp_path: Path) -> None:
    # A member that joins on another version: versions.mixed with versions.mixed-outside-window.
    lines = [
        {"ts": "2026-04-12T01:00:00Z", "type": "site_added", "site": 1},
        {"type": "group_created", "group": 1},
        {"type": "member_added", "member": "1_01", "group": 1, "site": 1, "version": "R81.20"},
        {"type": "member_added", "member": "1_02", "group": 1, "site": 1, "version": "R81.20"},
        {
            "ts": "2026-04-12T01:05:00Z",
            "type": "member_added",
            "member": "1_03",
            "group": 1,
            "site": 1,
            "version": "R82",
        },
    ]
    source = tmp_path / "joined.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "joined.md"
    assert run_twin("report", source, "-o", out).code == 0
    text = out.read_text(encoding="utf-8").replace("\\#", "#")
    assert "versions.mixed on group:1 at #5" in text
    assert "upgrade in progress" not in text and "no upgrade explains" not in text


def test_the_key_moments_hold_the_fault_the_failover_and_the_pager(html_report: str) -> None:
    moments = html_report.split('id="moments"', 1)[1].split('id="plots"', 1)[0]
    assert "member 1_03 failed: pnote:Interface Active Check" in moments
    assert "members.down member:1_03" in moments
    assert "failover to site 2" in moments
    assert "02:14 pager fired" in moments


def test_the_profile_section_gives_the_provenance_of_what_the_findings_read(
    html_report: str,
) -> None:
    params = html_report.split('id="profile"', 1)[1]
    row = params.split("convergence.cpu_threshold_pct", 1)[1].split("</tr>", 1)[0]
    assert "80.0%" in row and "prov-seed" in row and "convergence.cpu-overload" in row


def test_markdown_gets_its_plots_as_png_files_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "inc.md"
    result = run_twin("report", INCIDENT, "-o", out, "--from", "200", "--to", "300")
    assert result.code == 0, result.err
    text = out.read_text(encoding="utf-8")
    for name in PLOT_NAMES:
        png = tmp_path / f"inc-{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png.name})" in text
    assert "events #200–#300" in text.replace("\\#", "#")
    assert "members.down" in text


def test_a_window_of_events_at_one_moment_draws_without_a_warning(tmp_path: Path) -> None:
    """The incident's first 50 events share their time: the plots still draw, and quietly."""
    out = tmp_path / "start.md"
    result = run_twin("report", INCIDENT, "-o", out, "--to", "50")
    assert result.code == 0, result
    assert "xlim" not in result.err and "Warning" not in result.err
    assert (tmp_path / "start-findings.png").stat().st_size > 0


def test_text_from_the_journal_is_escaped(tmp_path: Path) -> None:
    rows = [line for line in INCIDENT.read_text().splitlines() if line.startswith("{")][:60]
    hostile = "<script>alert(1)</script> [x](http://evil) | *bold*"
    rows.append(json.dumps({"ts": "2026-04-12T01:00:05Z", "type": "note", "text": hostile}))
    source = tmp_path / "hostile.jsonl"
    source.write_text("\n".join(rows) + "\n")
    html_out, md_out = tmp_path / "h.html", tmp_path / "h.md"
    assert run_twin("report", source, "-o", html_out).code == 0
    assert run_twin("report", source, "-o", md_out).code == 0
    page = html_out.read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert EXTERNAL.search(page) is None
    markdown = md_out.read_text()
    assert r"\<script\>" in markdown and r"\[x\](http://evil) \| \*bold\*" in markdown


def test_compare_shows_the_branch_beside_the_original(tmp_path: Path) -> None:
    db = tmp_path / "prod.db"
    assert run_twin("init", db).code == 0
    assert run_twin("import", db, INCIDENT).code == 0
    assert run_twin("branch", db, "relief", "--at", "205").code == 0
    added = run_twin(
        "append",
        db,
        "member_added",
        "member=1_07",
        "group=1",
        "site=1",
        "cores=32",
        "--branch",
        "relief",
        "--ts",
        "2026-04-12T02:03:00Z",
    )
    assert added.code == 0, added.err
    out = tmp_path / "compare.html"
    result = run_twin("report", db, "-o", out, "--compare", "relief")
    assert result.code == 0, result.err + (result.traceback or "")
    page = out.read_text()
    section = page.split('id="compare"', 1)[1]
    assert "relief" in section and "#1–#205" in section
    # The branch stops after its one event: what the original raised after #205 is avoided.
    avoided = section.split("Avoided on the branch", 1)[1].split("Caused on the branch", 1)[0]
    assert "convergence.cpu-overload on member:1_03 (#214–#233)" in avoided
    assert "members.down on member:1_03" in avoided
    assert EXTERNAL.search(page) is None


def test_bad_requests_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    wrong = run_twin("report", INCIDENT, "-o", tmp_path / "r.pdf")
    assert wrong.one_line_error and "FILE.html or FILE.md" in wrong.err
    branchless = run_twin("report", INCIDENT, "-o", tmp_path / "r.html", "--compare", "nope")
    assert branchless.one_line_error and "--compare" in branchless.err
    assert "has no branches; --compare needs a journal" in branchless.err  # an event file
    backwards = run_twin("report", INCIDENT, "-o", tmp_path / "r.md", "--from", "300", "--to", "9")
    assert backwards.one_line_error
    assert list(tmp_path.iterdir()) == []
