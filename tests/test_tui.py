"""The TUI in-process (Textual Pilot): one cursor that every pane follows, keys, layouts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, TabbedContent, Tabs

from tui.app import TwinApp
from tui.cursor import TimelineCursor
from tui.screens.command_line import CommandLine
from tui.screens.help import HelpScreen
from tui.timeline_data import TimelineData
from tui.widgets.events_table import EventsTable
from tui.widgets.status_line import StatusLine
from tui.widgets.topology_tree import TopologyTree
from twin.cli.demo import bundled_incident

Scenario = Callable[[TwinApp, Pilot[None]], Awaitable[None]]


def fixture_rows() -> list[dict[str, Any]]:
    """30 events: topology, loads, a member failure and back, a CPU peak."""
    rows: list[dict[str, Any]] = [
        {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1, "name": "DC North"},
        {"type": "orchestrator_added", "orchestrator": "mho-1a", "site": 1},
        {"type": "orchestrator_added", "orchestrator": "mho-1b", "site": 1},
        {"type": "group_created", "group": 1},
        *({"type": "member_added", "member": f"1_0{n}", "group": 1, "site": 1} for n in (1, 2, 3)),
        {"type": "link_added", "link": "sync-1", "a": "mho-1a", "b": "mho-1b", "kind": "sync"},
    ]
    cpu = [30, 35, 40, 45, 50, 55, 60, 50, 45, 40, 92, 95, 60, 40, 35, 30, 30, 25, 25, 20]
    for i, value in enumerate(cpu):
        minute = 10 + i
        rows.append(
            {
                "ts": f"2026-03-14T02:{minute:02d}:00Z",
                "type": "load_changed",
                "group": 1,
                "cpu_pct": value,
                "connections": 1_000_000 + 10_000 * i,
            }
        )
        if i == 6:
            rows.append(
                {"ts": f"2026-03-14T02:{minute:02d}:30Z", "type": "member_failed", "member": "1_03"}
            )
        if i == 14:
            rows.append(
                {
                    "ts": f"2026-03-14T02:{minute:02d}:30Z",
                    "type": "member_recovered",
                    "member": "1_03",
                }
            )
    assert len(rows) == 30
    return rows


def write_fixture(path: Path) -> Path:
    """Write the 30-event fixture to ``path``."""
    path.write_text("".join(json.dumps(r) + "\n" for r in fixture_rows()), encoding="utf-8")
    return path


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return write_fixture(tmp_path / "small.jsonl")


async def settle(app: TwinApp, pilot: Pilot[None]) -> None:
    """Wait for the loader and the detail worker, then for the screen."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def run(
    path: Path, scenario: Scenario, *, at: int | None = None, size: tuple[int, int] = (120, 40)
) -> TwinApp:
    """Run ``scenario`` against a TUI on ``path``; return the app afterwards."""
    app = TwinApp(TimelineData.open(path), at=at)

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await scenario(app, pilot)

    asyncio.run(main())
    return app


def status(app: TwinApp) -> str:
    return str(app.timeline.query_one(StatusLine).content)


def events_seq(app: TwinApp) -> int:
    table = app.timeline.query_one(EventsTable)
    return table.seq_at(table.cursor_row)


def test_opens_at_the_last_event_and_steps(journal: Path) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        assert (app.cursor.seq, app.cursor.total) == (30, 30)
        assert "#30/30" in status(app)
        await pilot.press("g", *["right_square_bracket"] * 3)
        await settle(app, pilot)
        assert app.cursor.seq == 4
        assert "#4/30" in status(app)
        assert events_seq(app) == 4
        await pilot.press("G", "left_square_bracket")
        await settle(app, pilot)
        assert app.cursor.seq == 29 == events_seq(app)
        assert not app.computing

    run(journal, scenario)


def test_three_steps_from_the_start(journal: Path) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        assert app.cursor.seq == 0
        assert "#0/30" in status(app)
        await pilot.press(*["right_square_bracket"] * 3)
        await settle(app, pilot)
        assert app.cursor.seq == 3 == events_seq(app)
        assert "#3/30" in status(app)

    run(journal, scenario, at=0)


def test_change_keys_land_on_change_events(journal: Path) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        rows = app.data.rows
        raising = [r.seq for r in rows if r.raised or r.cleared]
        assert raising, "the fixture raises findings"
        await pilot.press("g")
        await settle(app, pilot)
        # The first later event that raised or cleared a finding or changed topology,
        # worked out here from the rows' flags, not by the navigation under test.
        expected = min(r.seq for r in rows if r.seq > 1 and (r.raised or r.cleared or r.topology))
        await pilot.press("right_curly_bracket")
        await settle(app, pilot)
        assert app.cursor.seq == expected == events_seq(app)
        # from just before the first finding, } lands on it
        await pilot.press("colon", *str(raising[0] - 1), "enter")
        await settle(app, pilot)
        assert not any(r.topology for r in rows[raising[0] - 1 : raising[0] - 1])
        target = app.data.next_change(app.cursor.seq, 1)
        await pilot.press("right_curly_bracket")
        await settle(app, pilot)
        assert app.cursor.seq == target
        assert rows[target - 1].is_change
        await pilot.press("left_curly_bracket")
        await settle(app, pilot)
        previous = max(
            r.seq for r in rows if r.seq < target and (r.raised or r.cleared or r.topology)
        )
        assert app.cursor.seq == previous

    run(journal, scenario)


def test_command_line_goes_to_an_event_and_reports_errors(journal: Path) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        await pilot.press("colon")
        await pilot.pause()
        assert isinstance(app.screen, CommandLine)
        await pilot.press("1", "2", "enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, CommandLine)
        assert app.cursor.seq == 12 == events_seq(app)
        assert "#12/30" in status(app)
        # a bad command stays open with a one-line error, and ] is typed, not stepped
        await pilot.press("colon", "right_square_bracket", "9", "9", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CommandLine)
        field = app.screen.query_one(Input)
        assert field.value == ":]99"
        assert field.has_class("-error")
        assert app.cursor.seq == 12
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("colon", "9", "9", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CommandLine)
        assert "no event 99" in str(app.screen.query_one("#command-error").render())
        await pilot.press("escape", "minus")
        await settle(app, pilot)
        assert app.cursor.seq == 30  # back to where :12 came from

    run(journal, scenario)


def test_events_table_moves_the_cursor_without_drift(journal: Path) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        table = app.timeline.query_one(EventsTable)
        assert app.focused is table
        await pilot.press("g", "down", "down")
        await settle(app, pilot)
        assert app.cursor.seq == 3 == events_seq(app)
        await pilot.press("right_square_bracket", "down", "up", "up", "up")
        await settle(app, pilot)
        assert app.cursor.seq == 2 == events_seq(app)
        await pilot.press(*["right_square_bracket"] * 10, "down")
        await settle(app, pilot)
        assert app.cursor.seq == 13 == events_seq(app)

    run(journal, scenario)


def test_help_opens_and_closes(journal: Path) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        for line in ("]  Step", "[  Step back", "}  Next change", "{  Prev change", "q  Quit"):
            assert line in text
        assert "[/]" not in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)

    run(journal, scenario)


def test_panes_follow_the_cursor(journal: Path) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        await pilot.press("colon", "1", "6", "enter")
        await settle(app, pilot)
        tree = app.timeline.query_one(TopologyTree)
        labels = [str(node.label) for node in tree.root.children[1].children]
        assert any(label.startswith("✖ 1_03") for label in labels)
        findings = app.timeline.query_one("#pane-findings", DataTable)
        assert findings.row_count == len(app.data.rows[15].findings)
        changes = str(app.timeline.query_one("#detail-changes").render())
        assert "member:1_03 state UP → DOWN" in changes

    run(journal, scenario)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_detail_pane_tabs_reach_changes_and_raw(journal: Path, size: tuple[int, int]) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        await pilot.press("5")
        await pilot.pause()
        tabbed = app.timeline.query_one("#pane-detail TabbedContent", TabbedContent)
        assert app.focused is tabbed.query_one(Tabs)
        await pilot.press("right")
        await pilot.pause()
        assert tabbed.active == "tab-changes"
        await pilot.press("right")
        await pilot.pause()
        assert tabbed.active == "tab-raw"
        raw = str(app.timeline.query_one("#detail-raw").render())
        assert '"seq": 16' in raw or '"seq":16' in raw

    run(journal, scenario, at=16, size=size)


def test_small_terminal_shows_one_pane_and_quits(journal: Path) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        screen = app.timeline
        assert screen.has_class("-narrow")
        assert screen.query_one("#pane-events").display
        assert not screen.query_one("#pane-topology").display
        await pilot.press("2")
        await pilot.pause()
        assert screen.query_one("#pane-topology").display
        assert app.focused is screen.query_one(TopologyTree)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0

    app = run(journal, scenario, at=10, size=(80, 24))
    assert app.cursor.seq == 11
    assert app.data.source.journal is not None


def test_bundled_incident() -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        total = app.cursor.total
        assert total == len(app.data.rows) > 400
        assert f"#{total}/{total}" in status(app)
        await pilot.press("g", "right_curly_bracket")
        await settle(app, pilot)
        seq = app.cursor.seq
        assert app.data.rows[seq - 1].is_change
        await pilot.press("colon", "1", "2", "0", "enter")
        await settle(app, pilot)
        assert app.cursor.seq == 120 == events_seq(app)
        await pilot.press("G", "left_square_bracket")
        await settle(app, pilot)
        assert app.cursor.seq == total - 1

    run(bundled_incident(), scenario)


def test_cursor_model() -> None:
    cursor = TimelineCursor(10)
    seen: list[int] = []
    cursor.subscribe(lambda c: seen.append(c.seq))
    assert cursor.seq == 10
    assert cursor.move(3, jump=True)
    assert cursor.step(-5) is True and cursor.seq == 1
    assert not cursor.step(-1)
    assert cursor.back() and cursor.seq == 10
    assert cursor.back() and cursor.seq == 1
    assert seen == [3, 1, 10, 1]


def test_tui_command_refuses_bad_input(journal: Path) -> None:
    from tests.cli_helpers import run_twin as twin

    out_of_range = twin("tui", journal, "--at", "99")
    assert out_of_range.code == 2
    assert "no event 99" in out_of_range.err and "--at" in out_of_range.err
    missing = twin("tui", journal.with_name("missing.jsonl"))
    assert missing.code == 2 and "no such file" in missing.err
    assert "--no-tui" in twin("demo", "--help").out


def test_a_plugin_failing_in_strict_mode_ends_the_tui_with_one_line(journal: Path) -> None:
    from tests.plugins import crashing
    from twin.plugin_manager import TwinPluginManager
    from twin.sources import open_source

    manager = TwinPluginManager(autoload=False, strict=True)
    manager.register(crashing, name="crashing")
    data = TimelineData(open_source(journal, manager), manager, manager.profile())
    app = TwinApp(data)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            while app.return_code is None:  # the worker's failure arrives as a message
                await pilot.pause()

    asyncio.run(asyncio.wait_for(main(), timeout=60))
    assert app.return_code == 3
