"""Shared by the TUI tests: a small fixture journal, running the app headless, screen dumps."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.pilot import Pilot

from tui.app import TwinApp
from tui.timeline_data import TimelineData

Scenario = Callable[[TwinApp, Pilot[None]], Awaitable[None]]

#: Where things happen in :func:`fixture_rows` (worked out by hand from the list below).
MEMBER_FAILED = 16
MEMBER_RECOVERED = 25
CPU_PEAK = (20, 21)  # the two samples at 92% and 95% CPU


def fixture_rows() -> list[dict[str, Any]]:
    """30 events: topology (1-8), loads, 1_03 fails (#16) and recovers (#25), a CPU peak."""
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
    assert rows[MEMBER_FAILED - 1]["type"] == "member_failed"
    assert rows[MEMBER_RECOVERED - 1]["type"] == "member_recovered"
    assert [rows[s - 1]["cpu_pct"] for s in CPU_PEAK] == [92, 95]
    return rows


def write_fixture(path: Path) -> Path:
    """Write the 30-event fixture to ``path``."""
    path.write_text("".join(json.dumps(r) + "\n" for r in fixture_rows()), encoding="utf-8")
    return path


def settled(app: TwinApp) -> bool:
    """Everything the app is working on has arrived."""
    index = app.data.index
    return (
        index.evaluated >= app.cursor.total
        and not app.computing
        and not app.filter_pending
        and not app.waiting
        and app.detail_pending is False
    )


async def settle(app: TwinApp, pilot: Pilot[None], timeout: float = 20.0) -> None:
    """Wait for the index, the detail at the cursor and any filter, then for the screen."""
    deadline = time.monotonic() + timeout
    while not settled(app) and time.monotonic() < deadline:
        await pilot.pause(0.02)
    await pilot.pause()
    assert settled(app), "the TUI did not settle"


async def until(
    pilot: Pilot[None], ready: Callable[[], object], what: str, timeout: float = 20.0
) -> None:
    """Let the app run until ``ready()`` is true (a readiness signal, not a fixed wait)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        await pilot.pause(0.02)
    await pilot.pause()


def palette_offers(app: TwinApp, text: str) -> bool:
    """The command palette is open, done searching, and lists ``text`` (case-insensitive)."""
    from textual.command import CommandList, CommandPalette

    screen = app.screen
    if not isinstance(screen, CommandPalette):
        return False
    group = CommandPalette._GATHER_COMMANDS_GROUP
    if any(w.group == group and not w.is_finished for w in app.workers):
        return False
    options = screen.query_one(CommandList)
    prompts = (str(options.get_option_at_index(i).prompt) for i in range(options.option_count))
    return any(text.lower() in prompt.lower() for prompt in prompts)


def run(
    path: Path,
    scenario: Scenario,
    *,
    at: int | str | None = None,
    size: tuple[int, int] = (120, 40),
    follow: bool = False,
) -> TwinApp:
    """Run ``scenario`` against a TUI on ``path``; return the app afterwards."""
    app = TwinApp(TimelineData.open(path), at=at, follow=follow)

    async def main() -> None:
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(app, pilot)
            await scenario(app, pilot)

    asyncio.run(main())
    return app


def screen_text(app: TwinApp) -> str:
    """The screen as plain text, as the compositor draws it (one helper; private API)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        record=True,
        color_system=None,
        legacy_windows=False,
        force_terminal=True,
    )
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    console.print(update)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


GOLDENS = Path(__file__).resolve().parent / "goldens" / "tui"


def check_golden(app: Any, name: str, update: bool) -> None:
    """Compare the screen with ``tests/goldens/tui/NAME.txt`` and ``.svg`` (or rewrite them).

    The text dump is what a reviewer reads in ``git diff``; the SVG is the same
    screen with its colours, to look at (and render to PNG). Both are compared;
    ``pytest --update-goldens`` rewrites them after a deliberate change.
    """
    text = screen_text(app) + "\n"
    svg = app.export_screenshot(title=f"twin tui: {name}")
    text_file, svg_file = GOLDENS / f"{name}.txt", GOLDENS / f"{name}.svg"
    if update:
        GOLDENS.mkdir(parents=True, exist_ok=True)
        text_file.write_text(text, encoding="utf-8")
        svg_file.write_text(svg, encoding="utf-8")
        return
    assert text_file.exists(), f"no golden {text_file.name}: run pytest --update-goldens"
    expected = text_file.read_text(encoding="utf-8")
    if text != expected:
        import difflib

        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(), text.splitlines(), "golden", "now", lineterm=""
            )
        )
        raise AssertionError(f"{name}: the screen changed (pytest --update-goldens):\n{diff}")
    assert svg == svg_file.read_text(encoding="utf-8"), f"{name}: the SVG changed (colours?)"
