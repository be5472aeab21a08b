"""Outputs people can read: one-line usage errors, typos refused, no swapped ranges."""

from __future__ import annotations

import pytest

from tests.cli_helpers import ROOT
from tests.cli_helpers import run_twin as twin

INCIDENT = ROOT / "examples" / "incident-0412.jsonl"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("state", INCIDENT, "--at", "abc"),
            "twin: error: --at: 'abc' is not a valid integer (see 'twin state --help')",
        ),
        (
            ("state", INCIDENT, "--format", "yaml"),
            "twin: error: --format: 'yaml' is not one of 'table', 'json' (see 'twin state --help')",
        ),
        (
            ("run", INCIDENT, "--metrics", "load.cpu_pc"),
            "twin: error: --metrics: unknown metric 'load.cpu_pc'; did you mean 'load.cpu_pct'?",
        ),
        (
            ("run", INCIDENT, "--metrics", "load.cpu_pct", "--subjects", "member:1_3"),
            "twin: error: --subjects: unknown subject 'member:1_3'; did you mean 'member:1_03'?",
        ),
        (
            ("log", INCIDENT, "--type", "member_faild"),
            "twin: error: --type: unknown event type 'member_faild'; did you mean 'member_failed'?",
        ),
        (
            ("run", INCIDENT, "--from", "300", "--to", "200"),
            "twin: error: --from: 300 is after --to 200: give the earlier event first",
        ),
        (
            ("diff", INCIDENT, "240", "230"),
            "twin: error: A: 240 is after B 230: give the earlier event first",
        ),
    ],
)
def test_mistakes_are_one_line_on_stderr_with_exit_2(args: tuple[object, ...], line: str) -> None:
    result = twin(*args)
    assert result.code == 2
    assert result.out == ""
    assert result.err.splitlines() == [line]


def test_run_changes_only_carries_raised_and_cleared_instead_of_every_finding() -> None:
    narrow = ("--metrics", "convergence.failover_s", "--subjects", "system", "--format", "jsonl")
    whole_lines = twin("run", INCIDENT, "--from", "230", "--to", "240", *narrow)
    full = whole_lines.jsonl()
    changes = twin("run", INCIDENT, "--from", "230", "--to", "240", *narrow, "--changes-only")
    rows = changes.jsonl()
    assert [r["seq"] for r in rows] == list(range(230, 241))
    assert all("findings" not in r and {"raised", "cleared"} <= set(r) for r in rows)
    by_seq = {r["seq"]: r for r in rows}
    # examples/README.md: 1_03 fails at #233 (its overload clears), the others overload at #234.
    assert [f["subject"] for f in by_seq[233]["cleared"]] == ["member:1_03"]
    assert {f["subject"] for f in by_seq[234]["raised"]} == {
        f"member:1_0{n}" for n in (1, 2, 4, 5, 6)
    }
    assert all(r["metrics"] == f["metrics"] for r, f in zip(rows, full, strict=True))
    # Folding raised/cleared from the start of the window gives each full line's findings.
    active = {(f["rule"], f["subject"]) for f in full[0]["findings"]}
    for row, whole in zip(rows[1:], full[1:], strict=True):
        active |= {(f["rule"], f["subject"]) for f in row["raised"]}
        active -= {(f["rule"], f["subject"]) for f in row["cleared"]}
        assert active == {(f["rule"], f["subject"]) for f in whole["findings"]}
    assert len(changes.out) < len(whole_lines.out) / 2


def test_the_readme_tour_says_what_state_at_the_pager_prints() -> None:
    """README's comment on `twin state ... --at 238` is what a newcomer checks first."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "84.4% CPU, failover 8.0 s (band 7.0–9.0 s), ten active findings" in readme
    state = twin("state", INCIDENT, "--at", "238")
    assert state.code == 0
    assert "10 active findings" in state.out
    assert "84.4%" in state.out and "7.0–9.0 s" in state.out
    assert "(pnote:Interface Active Check)" in state.out


def test_a_typo_of_a_command_suggests_the_command() -> None:
    typo = twin("stat", INCIDENT)
    assert typo.one_line_error
    assert "No such command 'stat'. Did you mean 'state'? (see 'twin --help')" in typo.err
    nothing_close = twin("hepl")
    assert nothing_close.one_line_error and "Did you mean" not in nothing_close.err
    assert "Did you mean 'check'?" in twin("plan", "chek").err
