"""The demo's story toast at 80×24: small, short-lived, and gone at the first key."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui_helpers import run, screen_text, settle
from tui.app import TwinApp
from twin.cli.demo import bundled_incident


def test_any_key_hides_the_story_toast_and_still_does_what_it_does() -> None:
    async def scenario(app: TwinApp, pilot: Pilot[None]) -> None:
        assert app.cursor.seq == 214
        shown = screen_text(app)
        assert "#214: 02:05" in shown  # the toast says where the story starts
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert app.cursor.seq == 215  # the key stepped, as it always does
        after = screen_text(app)
        assert "#214: 02:05" not in after
        assert not list(app._notifications)

    run(bundled_incident(), scenario, at="story", size=(80, 24))
