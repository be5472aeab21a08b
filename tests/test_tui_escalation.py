"""The TUI shows a finding that escalates: one finding id, a new severity, the same ``since``.

Driven by keys on the real Textual app, with a plugin whose finding is raised as a
warning at #20, escalates to an error at #21 and clears at #22
(tests/escalation_helpers.py).
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.escalation_helpers import CLEARED, ESCALATED, RAISED, Escalating
from tests.tui_helpers import screen_text, settle, write_fixture
from tui.app import TwinApp
from tui.timeline_data import TimelineData
from tui.timeline_index import TimelineIndex
from tui.widgets.findings_table import FindingsTable
from twin.plugin_manager import TwinPluginManager
from twin.sources import open_source


def open_app(path: Path, at: int = 1) -> TwinApp:
    manager = TwinPluginManager().load()
    manager.register(Escalating(), name="acme")
    data = TimelineData(open_source(path, manager), manager, manager.profile(None))
    return TwinApp(data, at=at)


async def goto(app: TwinApp, pilot: Pilot[None], seq: int) -> None:
    await pilot.press("colon")
    await pilot.pause()
    await pilot.press(*str(seq), "enter")
    await settle(app, pilot)


async def highlight(app: TwinApp, pilot: Pilot[None], rule: str) -> str:
    """Focus the Findings pane (4) and move down to ``rule``'s row; the text under the table."""
    await pilot.press("4")
    await settle(app, pilot)
    table = app.timeline.query_one(FindingsTable)
    await pilot.press(*["up"] * len(table.shown))
    await settle(app, pilot)
    for _ in range(len(table.shown)):
        chosen = table.selected()
        if chosen is not None and chosen.finding.rule == rule:
            break
        await pilot.press("down")
        await settle(app, pilot)
    chosen = table.selected()
    assert chosen is not None and chosen.finding.rule == rule, [
        a.finding.rule for a, _ in table.shown
    ]
    return str(app.timeline.query_one("#finding-text").content)


def test_an_escalated_finding_says_when_its_severity_changed(tmp_path: Path) -> None:
    app = open_app(write_fixture(tmp_path / "small.jsonl"))

    async def main() -> None:
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(app, pilot)
            await goto(app, pilot, RAISED)
            text = await highlight(app, pilot, "acme.group-cpu")
            assert f"(since #{RAISED}): group CPU 92%" in text
            assert "→" not in text

            await goto(app, pilot, ESCALATED)
            text = await highlight(app, pilot, "acme.group-cpu")
            assert f"(since #{RAISED}; warning→error at #{ESCALATED}): group CPU 95%" in text
            screen = screen_text(app)
            assert f"#{RAISED}↑" in screen  # the since column marks the escalation
            await pilot.press("5")  # the Detail pane's Event tab: what this event did
            await settle(app, pilot)
            event_tab = str(app.timeline.query_one("#detail-event").content)
            assert (
                f"^ ✖ acme.group-cpu group:1: warning→error at #{ESCALATED} (raised at #{RAISED})"
                in event_tab
            )

            await goto(app, pilot, ESCALATED + 0)  # stays put: still marked after a re-show
            assert f"#{RAISED}↑" in screen_text(app)
            await goto(app, pilot, CLEARED)
            assert f"#{RAISED}↑" not in screen_text(app)

    asyncio.run(main())


def test_the_mark_arrives_when_the_evaluation_reaches_the_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The detail at #21 is shown before the background evaluation gets there (it is
    # held at #20): no mark yet; once the evaluation passes #21 the mark appears by itself.
    gate = threading.Event()
    original = TimelineIndex.add_frame

    def held(self: TimelineIndex, frame: Any) -> None:
        if frame.seq >= RAISED:
            gate.wait(20)
        original(self, frame)

    monkeypatch.setattr(TimelineIndex, "add_frame", held)
    app = open_app(write_fixture(tmp_path / "small.jsonl"), at=ESCALATED)

    async def main() -> None:
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not (
                app.detail is not None and app.detail.seq == ESCALATED and not app.detail_pending
            ):
                await pilot.pause(0.02)
            await pilot.pause()
            assert app.detail is not None and app.detail.seq == ESCALATED
            assert app.data.index.evaluated < ESCALATED
            assert f"#{RAISED}↑" not in screen_text(app)
            gate.set()
            await settle(app, pilot)
            assert f"#{RAISED}↑" in screen_text(app)

    try:
        asyncio.run(main())
    finally:
        gate.set()
