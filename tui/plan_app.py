"""``twin tui PLAN``: plan mode, rehearsing a change plan step by step (:mod:`tui.screens.plan`)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from tui.plan_run import PlanRun, Refused, StepView
from tui.screens.help import HelpScreen
from tui.screens.plan import PlanScreen


class PlanApp(App[None]):
    """Plan mode on a loaded :class:`PlanRun` (closed when the app ends)."""

    TITLE = "Maestro Twin — plan"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
    ]

    def __init__(self, run: PlanRun) -> None:
        super().__init__()
        self.run_ = run
        self.refused: Refused | None = None
        self.next_preview: StepView | Refused | None = run.preview()
        if isinstance(self.next_preview, Refused):
            self.refused = self.next_preview

    def get_default_screen(self) -> Screen[None]:
        """The plan screen."""
        return PlanScreen()

    @property
    def plan_screen(self) -> PlanScreen:
        """The plan screen (under any dialog)."""
        screen = self.screen_stack[0]
        assert isinstance(screen, PlanScreen)
        return screen

    def _moved(self) -> None:
        self.next_preview = self.run_.preview()
        self.refused = self.next_preview if isinstance(self.next_preview, Refused) else None
        self.plan_screen.refresh_all()

    def apply_next(self) -> None:
        """Apply the next step (after its preview)."""
        result = self.run_.apply_next()
        if isinstance(result, Refused):
            self.notify(result.message, severity="error", markup=False)
        self._moved()

    def rollback(self) -> bool:
        """Undo the last step."""
        done = self.run_.rollback()
        if done:
            self._moved()
        return done

    def action_help(self) -> None:
        """Every key."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([("Plan", PlanScreen.BINDINGS), ("App", self.BINDINGS)]))

    def on_unmount(self) -> None:
        """Close the base (read-only; nothing was written)."""
        self.run_.close()
