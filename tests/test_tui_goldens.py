"""Golden screens of the TUI: main, diff and plan, at 80×24 and 120×40 (text and SVG).

A screen that changes on purpose is re-recorded with ``pytest --update-goldens``;
review the text diff (and the SVG) before committing it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui_helpers import (
    MEMBER_FAILED,
    check_golden,
    run,
    screen_text,
    settle,
    write_fixture,
)
from tui.app import TwinApp
from tui.screens.diff import DiffScreen

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def update(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(tmp_path: Path, size: tuple[int, int], update: bool) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        check_golden(app, f"main-{size[0]}x{size[1]}", update)

    run(write_fixture(tmp_path / "small.jsonl"), scenario, at=MEMBER_FAILED, size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_diff_screen(tmp_path: Path, size: tuple[int, int], update: bool) -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        app.open_diff(10, 20)
        for _ in range(300):
            await pilot.pause(0.02)
            if isinstance(app.screen, DiffScreen) and app.screen.result is not None:
                break
        await pilot.pause()
        # the tables' scrollbars settle over a refresh or two: take the screen once it is still
        shown = ""
        for _ in range(50):
            now = screen_text(app)
            if now == shown:
                break
            shown = now
            await pilot.pause(0.05)
        check_golden(app, f"diff-{size[0]}x{size[1]}", update)

    run(write_fixture(tmp_path / "small.jsonl"), scenario, at=20, size=size)


PLAN = """
[plan]
name = "lose two members"
base = "base.jsonl"

[[step]]
label = "lose 1_01"
type = "member_failed"
member = "1_01"

[[step]]
label = "lose 1_02"
type = "member_failed"
member = "1_02"

[[expect]]
metric = "members.active"
above = 1
"""


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_plan_screen(tmp_path: Path, size: tuple[int, int], update: bool) -> None:
    from tui.plan_app import PlanApp
    from tui.plan_run import PlanRun, load_plan
    from twin.plugin_manager import TwinPluginManager

    write_fixture(tmp_path / "base.jsonl")
    (tmp_path / "plan.toml").write_text(PLAN, encoding="utf-8")
    manager = TwinPluginManager().load()
    plan = load_plan(tmp_path / "plan.toml", manager)
    app = PlanApp(PlanRun(plan, manager, manager.profile()))

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.press("right_square_bracket", "enter")  # apply step 1
            await pilot.pause()
            assert app.run_.applied == 1
            check_golden(app, f"plan-{size[0]}x{size[1]}", update)

    asyncio.run(main())


def test_the_settle_helper_waits_for_the_detail(tmp_path: Path) -> None:
    """The goldens rely on it: after settle, the detail at the cursor is there."""

    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert app.detail is not None and app.detail.seq == app.cursor.seq == MEMBER_FAILED - 1

    run(write_fixture(tmp_path / "small.jsonl"), scenario, at=MEMBER_FAILED)
