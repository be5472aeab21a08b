"""Render the TUI screenshots in docs/images/ (main screen, diff screen, plan mode).

Runs the real app headless on the bundled incident and plan, saves each screen
as SVG (Textual's own export) and renders it to PNG with headless Chromium
(Debian: chromium, fonts-firacode), the most faithful renderer, or else with
cairosvg (which has no per-glyph font fallback: DejaVu Sans Mono stands in).

    uv run python docs/make_screenshots.py
    uv run --with cairosvg python docs/make_screenshots.py   # without Chromium
"""

from __future__ import annotations

import asyncio
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.tui_helpers import settle  # noqa: E402
from tui.app import TwinApp  # noqa: E402
from tui.plan_app import PlanApp  # noqa: E402
from tui.plan_run import PlanRun, load_plan  # noqa: E402
from tui.screens.diff import DiffScreen  # noqa: E402
from tui.timeline_data import TimelineData  # noqa: E402
from twin.plugin_manager import TwinPluginManager  # noqa: E402

OUT = ROOT / "docs" / "images"
INCIDENT = ROOT / "examples" / "incident-0412.jsonl"
PLAN = ROOT / "examples" / "plans" / "mvc-upgrade-dual-site.toml"
SIZE = (160, 48)


def chromium_png(svg_path: Path, png_path: Path) -> bool:
    """Render with headless Chromium (per-glyph font fallback: Braille, ✖ ⚠ ℹ); False if absent."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    match = re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg_path.read_text(encoding="utf-8"))
    if browser is None or match is None:
        return False
    width, height = (math.ceil(float(v)) for v in match.groups())
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},{height}",
             f"--screenshot={png_path}", svg_path.as_uri()],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
    return done.returncode == 0 and png_path.exists()


def save(svg: str, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.svg").write_text(svg, encoding="utf-8")
    if chromium_png(OUT / f"{name}.svg", OUT / f"{name}.png"):
        print(f"wrote {name}.svg and {name}.png (Chromium)")
        return
    try:
        import cairosvg  # type: ignore[import-not-found]
    except ImportError:
        print(f"wrote {name}.svg (no cairosvg: no PNG)")
        return
    # CairoSVG garbles text with geometricPrecision on some systems (CairoSVG #434), and
    # has no per-glyph font fallback: Fira Code lacks ✖ ⚠ and the Braille of the plot,
    # DejaVu Sans Mono (Debian: fonts-dejavu-core) has them at the same cell width.
    cleaned = re.sub(r'text-rendering="[^"]*"', "", svg)
    cleaned = cleaned.replace('font-family: "Fira Code"', 'font-family: "DejaVu Sans Mono"')
    cleaned = cleaned.replace("font-family: Fira Code", "font-family: DejaVu Sans Mono")
    cairosvg.svg2png(bytestring=cleaned.encode(), write_to=str(OUT / f"{name}.png"), scale=1.0)
    print(f"wrote {name}.svg and {name}.png")


async def main_and_diff() -> None:
    app = TwinApp(TimelineData.open(INCIDENT), at=234)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot, timeout=120)
        await pilot.press("4")  # the findings pane, focused
        await settle(app, pilot)
        save(app.export_screenshot(title="twin tui examples/incident-0412.jsonl"), "tui-main")
        app.open_diff(214, 238)
        for _ in range(500):
            await pilot.pause(0.02)
            if isinstance(app.screen, DiffScreen) and app.screen.result is not None:
                break
        await pilot.pause()
        save(app.export_screenshot(title="twin tui: d (diff #214 → #238)"), "tui-diff")


async def plan_mode() -> None:
    manager = TwinPluginManager().load()
    app = PlanApp(PlanRun(load_plan(PLAN, manager), manager, manager.profile()))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(19):  # up to the step where an expectation fails
            app.apply_next()
        await pilot.pause(0.3)
        save(app.export_screenshot(title=f"twin tui {PLAN.relative_to(ROOT)}"), "tui-plan")


if __name__ == "__main__":
    asyncio.run(main_and_diff())
    asyncio.run(plan_mode())
