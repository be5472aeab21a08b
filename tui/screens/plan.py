"""Plan mode: a change plan's steps as the timeline after its base, each previewed first.

Panes: 1 Steps (pending ·, applied ✓, the next ▶, refused ✖; ✖ also where an
expectation failed), 2 Topology and 3 Metrics after the last applied step,
4 Expectations with their verdicts there, 5 Next step: what the next step
would change, raise, clear and which expectations would fail. ``]`` shows
that preview in a dialog: ``enter`` applies, ``esc`` cancels; ``[`` rolls
back one step. The base is never written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Static

from tui.formatting import delta, elide, printable, value
from tui.plan_run import PlanRun, Refused, StepView
from tui.timeline_data import HEADLINE, SEVERITY_GLYPH
from tui.widgets.key_bar import KeyBar
from tui.widgets.metrics_pane import sparkline
from tui.widgets.status_line import Status, StatusLine
from tui.widgets.topology_tree import TopologyTree
from twin.plan.expect import Verdict

if TYPE_CHECKING:
    from tui.plan_app import PlanApp

PLAN_KEYS = (("]", "preview + apply"), ("[", "roll back"), ("1-5", "pane"), ("^p", "palette"))
PANES = {
    1: ("plan-steps", "1 Steps"),
    2: ("plan-topology", "2 Topology"),
    3: ("plan-metrics", "3 Metrics"),
    4: ("plan-expect", "4 Expectations"),
    5: ("plan-next", "5 Next step"),
}
VERDICT = {True: ("✓", "green"), False: ("✖", "bold red"), None: ("–", "dim")}


def _observed(v: Verdict, units: dict[str, str] | None = None) -> str:
    seen = v.observed
    metric = v.expectation.metric
    if isinstance(seen, int | float) and not isinstance(seen, bool) and metric is not None:
        return value((units or {}).get(metric), float(seen), metric)
    if isinstance(seen, float):
        return f"{seen:,.4g}"
    if isinstance(seen, list):
        return ", ".join(str(x) for x in seen) or "none"
    return "none" if seen is None else str(seen)


def preview_text(view: StepView | Refused | None, run: PlanRun) -> Text:
    """What the next step would do (or why it cannot apply)."""
    text = Text()
    if view is None:
        text.append("every step is applied: the plan is done\n", "bold")
        failing = run.current.failing
        text.append(
            f"{len(failing)} expectation(s) fail after the last step\n" if failing else "",
            "red",
        )
        return text
    if isinstance(view, Refused):
        step = run.plan.steps[view.number - 1]
        text.append(
            printable(f"step {view.number} ({step.label or step.type}) cannot apply:\n"), "bold red"
        )
        text.append(printable(view.message) + "\n")
        return text
    row = view.row
    assert row is not None
    text.append(printable(f"step {view.number}: {row.actor or row.type}"), "bold")
    text.append(f"  {row.type} {row.subject}\n", "cyan")
    text.append(f"  {row.summary}\n", "dim")
    for line in view.changes or ("(no field changes)",):
        text.append(f"  {line}\n")
    for note in view.notes:
        text.append(f"  note: {note}\n", "italic")
    for active in view.raised:
        f = active.finding
        glyph = SEVERITY_GLYPH[f.severity.value]
        said = printable(f"  + {glyph} {f.rule} {f.subject}: {f.message}")
        text.append(said + "\n", "red" if f.severity.rank == 2 else "yellow")
    for active in view.cleared:
        f = active.finding
        text.append(printable(f"  - ✓ {f.rule} {f.subject}") + "\n", "green")
    before = run.current.metrics
    units = run_units(run)
    for name, label in HEADLINE:
        unit = units.get(name)
        now, was = view.metrics.get(name), before.get(name)
        change, direction = delta(unit, now, was, name)
        if direction:
            shown = f"{value(unit, was, name)} → {value(unit, now, name)}"
            text.append(f"  {label}: {shown} ({change})\n")
    failing = view.failing
    if failing:
        text.append("  would fail:\n", "bold red")
        for v in failing:
            said = printable(
                f"    ✖ {v.expectation.text} (seen {_observed(v, units)}, limit {v.limit})"
            )
            text.append(said + "\n", "red")
    else:
        text.append("  every expectation holds after it\n", "green")
    return text


def run_units(run: PlanRun) -> dict[str, str]:
    """Units of the metrics (for ``twin.units``)."""
    units: dict[str, str] = getattr(run, "_units", {})
    if not units:
        for registered in run.session.engine.rules:
            units.update(registered.rule.metrics)
        run._units = units  # type: ignore[attr-defined]
    return units


class PlanTiles(Widget):
    """The headline metrics after the current step: value, Δ against the step before, trend."""

    DEFAULT_CSS = "PlanTiles { height: auto; }"

    def __init__(self) -> None:
        super().__init__(id="plan-tiles")

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        """One row per metric."""
        return len(HEADLINE)

    def render(self) -> Text:
        """One line per metric."""
        run = cast("PlanApp", self.app).run_
        units = run_units(run)
        views = run.views
        lines = []
        for name, label in HEADLINE:
            unit = units.get(name)
            now = views[-1].metrics.get(name)
            before = views[-2].metrics.get(name) if len(views) > 1 else None
            change, direction = delta(unit, now, before, name)
            line = Text(f" {label:<10} ")
            line.append(f"{value(unit, now, name):>10} ")
            line.append(
                f"{change:<8} ", "green" if direction > 0 else "red" if direction < 0 else "dim"
            )
            history = [v.metrics[name] for v in views if name in v.metrics]
            drawn = sparkline(history, max(0, self.size.width - line.cell_len))
            if drawn is not None:
                line.append(drawn[0] if drawn[1] != drawn[2] else "─" * len(drawn[0]), "cyan")
            line.truncate(self.size.width, pad=True)
            lines.append(line)
        return Text("\n").join(lines)


class PreviewScreen(ModalScreen[bool]):
    """The next step's preview: ``enter`` applies it, ``esc`` cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "apply", "Apply", id="preview.apply"),
        Binding("escape", "cancel", "Cancel", id="preview.cancel"),
    ]
    DEFAULT_CSS = """
    PreviewScreen { align: center middle; background: $background 40%; }
    PreviewScreen > VerticalScroll {
        width: 90%; max-width: 110; height: auto; max-height: 80%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    """

    def __init__(self, text: Text, can_apply: bool) -> None:
        super().__init__()
        self.text = text
        self.can_apply = can_apply

    def compose(self) -> ComposeResult:
        """The preview and what the keys do."""
        with VerticalScroll() as box:
            box.border_title = "Preview"
            box.border_subtitle = "enter applies · esc cancels" if self.can_apply else "esc closes"
            yield Static(self.text, id="preview-text")

    def action_apply(self) -> None:
        """Apply the step."""
        self.dismiss(self.can_apply)

    def action_cancel(self) -> None:
        """Do not apply it."""
        self.dismiss(False)


class PlanScreen(Screen[None]):
    """Plan mode's main screen."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "right_square_bracket",
            "preview",
            "Preview, then apply the next step",
            key_display="]",
            show=False,
            id="plan.next",
        ),
        Binding(
            "left_square_bracket",
            "rollback",
            "Roll back one step",
            key_display="[",
            show=False,
            id="plan.prev",
        ),
        *(
            Binding(str(n), f"pane({n})", f"Show pane {title}", show=False, id=f"plan.pane{n}")
            for n, (_wid, title) in PANES.items()
        ),
    ]
    DEFAULT_CSS = """
    PlanScreen #plan-top { height: 3fr; }
    PlanScreen #plan-bottom { height: 2fr; }
    PlanScreen .pane { border: round $primary 40%; border-title-color: $text-muted; height: 1fr; }
    PlanScreen .pane:focus-within { border: round $accent; border-title-color: $accent; }
    PlanScreen #plan-steps { width: 45%; }
    PlanScreen #plan-topology { width: 1fr; }
    PlanScreen #plan-metrics { width: 1fr; }
    PlanScreen #plan-expect { width: 1fr; }
    PlanScreen #plan-next { width: 1fr; }
    PlanScreen #plan-pane-bar { height: 1; display: none; background: $boost; }
    PlanScreen.-narrow #plan-pane-bar { display: block; }
    PlanScreen.-narrow .pane { display: none; }
    PlanScreen.-narrow .pane.-shown,
    PlanScreen.-narrow #plan-steps.-shown { display: block; width: 1fr; }
    PlanScreen.-narrow .row { display: none; }
    PlanScreen.-narrow .row.-holds { display: block; height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.shown = 1

    @property
    def plan_app(self) -> PlanApp:
        """The app, typed."""
        return cast("PlanApp", self.app)

    def compose(self) -> ComposeResult:
        """Status, pane bar, 3 + 2 panes, key bar."""
        yield StatusLine(id="status")
        yield Static("", id="plan-pane-bar")
        with Horizontal(id="plan-top", classes="row -holds"):
            yield DataTable(id="plan-steps", classes="pane -shown", cursor_type="row")
            yield TopologyTree(id="plan-topology", classes="pane")
            with Vertical(id="plan-metrics", classes="pane"):
                yield PlanTiles()
        with Horizontal(id="plan-bottom", classes="row"):
            yield DataTable(id="plan-expect", classes="pane", cursor_type="row")
            with VerticalScroll(id="plan-next", classes="pane"):
                yield Static("", id="plan-next-text")
        yield KeyBar(PLAN_KEYS, id="plan-keys")

    def on_mount(self) -> None:
        """Titles, columns, the first view."""
        for wid, title in PANES.values():
            self.query_one(f"#{wid}").border_title = title
        steps = self.query_one("#plan-steps", DataTable)
        for col in ("", "#", "step", "type", "E"):
            steps.add_column(col, key=col or "status")
        expect = self.query_one("#plan-expect", DataTable)
        for col in ("", "expectation", "seen", "limit", "when"):
            expect.add_column(col, key=col or "verdict")
        steps.focus()
        self.refresh_all()

    # -- drawing ------------------------------------------------------------------------------

    def refresh_all(self) -> None:
        """Redraw every pane for the current step."""
        run = self.plan_app.run_
        current = run.current
        self._steps()
        self._expectations(current)
        self.query_one(TopologyTree).show(current.topology)
        self.query_one(PlanTiles).refresh()
        self.query_one("#plan-next-text", Static).update(
            preview_text(self.plan_app.next_preview, run)
        )
        self._pane_bar()
        e = w = i = 0
        for active in current.findings:
            rank = active.finding.severity.rank
            e, w, i = e + (rank == 2), w + (rank == 1), i + (rank == 0)
        failing = len(current.failing)
        self.query_one(StatusLine).show(
            Status(
                mode="PLAN",
                label=f"{run.label} on {run.base_label}",
                branch=None,
                seq=run.applied,
                total=run.total,
                row=current.row,
                counts=(e, w, i),
                marks={},
                filter=None,
                matches=None,
                progress=f"{failing} expectation(s) failing" if failing else "expectations hold",
                computing=False,
                new_events=0,
            )
        )

    def _steps(self) -> None:
        run = self.plan_app.run_
        table = self.query_one("#plan-steps", DataTable)
        table.clear()
        refused = self.plan_app.refused
        for step in run.plan.steps:
            n = step.number
            if n <= run.applied:
                mark, style = "✓", "green"
            elif refused is not None and refused.number == n:
                mark, style = "✖", "bold red"
            elif n == run.applied + 1:
                mark, style = "▶", "bold"
            else:
                mark, style = "·", "dim"
            verdict = ""
            if n <= run.applied:
                verdict = "✖" if run.views[n].failing else "✓"
            table.add_row(
                Text(mark, style),
                Text(str(n)),
                Text(elide(printable(step.label or ""), 32), "" if n <= run.applied + 1 else "dim"),
                Text(printable(step.type), "cyan" if n <= run.applied else "dim"),
                Text(verdict, "bold red" if verdict == "✖" else "green"),
                key=str(n),
            )
        if run.total:
            table.move_cursor(row=min(run.applied, run.total - 1), animate=False)

    def _expectations(self, current: StepView) -> None:
        table = self.query_one("#plan-expect", DataTable)
        table.clear()
        judged = {v.expectation.index: v for v in current.verdicts}
        units = run_units(self.plan_app.run_)
        for e in self.plan_app.run_.plan.expectations:
            v = judged.get(e.index)
            glyph, style = VERDICT[v.holds if v is not None else None]
            table.add_row(
                Text(glyph, style),
                Text(printable(e.text)),
                Text(printable(_observed(v, units))) if v else Text("not checked here", "dim"),
                Text(printable(str(v.limit)) if v is not None else ""),
                Text(printable(e.when)),
            )

    def _pane_bar(self) -> None:
        line = Text()
        for number, (_wid, title) in PANES.items():
            line.append(f" {title} ", "reverse bold" if number == self.shown else "dim")
            line.append(" ")
        self.query_one("#plan-pane-bar", Static).update(line)

    # -- actions ------------------------------------------------------------------------------

    def action_preview(self) -> None:
        """Preview the next step; apply it if the user says so."""
        app = self.plan_app
        view = app.next_preview
        if view is None:
            self.notify("every step is applied", severity="warning", timeout=2)
            return
        can_apply = isinstance(view, StepView)

        def decided(apply: bool | None) -> None:
            if apply:
                app.apply_next()

        self.app.push_screen(PreviewScreen(preview_text(view, app.run_), can_apply), decided)

    def action_rollback(self) -> None:
        """Undo the last applied step."""
        if not self.plan_app.rollback():
            self.notify("at the base: nothing to roll back", severity="warning", timeout=2)

    def action_pane(self, number: int) -> None:
        """Focus pane ``number`` (narrow: show only it)."""
        self.shown = number
        wid, _title = PANES[number]
        for pane in self.query(".pane"):
            pane.set_class(pane.id == wid, "-shown")
        self.query_one("#plan-top").set_class(number in (1, 2, 3), "-holds")
        self.query_one("#plan-bottom").set_class(number in (4, 5), "-holds")
        self._pane_bar()
        target = self.query_one(f"#{wid}")
        if target.can_focus:
            target.focus()
