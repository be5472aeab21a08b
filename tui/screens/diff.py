"""The Diff screen: what changed between two events, as ``twin diff`` prints it.

Sections: topology changes, metric deltas (largest relative change first),
findings raised and resolved, and the events between, grouped by type. The
content comes from :func:`twin.diff.diff_between`, the function behind
``twin diff``. Enter on a row jumps the cursor to the event responsible;
``esc`` goes back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static

from tui.background import DiffJob
from tui.formatting import printable
from tui.timeline_data import HEADLINE, SEVERITY_GLYPH, TimelineData
from tui.widgets.key_bar import KeyBar
from twin.units import format_delta, format_field, format_percent_change, format_value

if TYPE_CHECKING:
    from tui.app import TwinApp

DIFF_KEYS = (("enter", "jump to the event"), ("tab", "next section"), ("esc", "back"))
STYLE = {"error": "bold red", "warning": "yellow", "info": "blue"}


def topology_value(row: dict[str, Any], side: str) -> str:
    """A topology row's A or B as ``twin diff`` writes it (units, yes/no, default weight)."""
    text = format_field(row["change"], row.get(side))
    if row.get(f"{side}_default"):
        text += " (default)"
    return printable(text)


def _seq(seq: int) -> int | None:
    return seq


class DiffTable(DataTable[Text]):
    """A section's table; each row knows how to find its event."""

    def __init__(self, section: str) -> None:
        super().__init__(id=f"diff-{section}", cursor_type="row", zebra_stripes=True)
        self.targets: list[Callable[[], int | None]] = []


class DiffScreen(Screen[None]):
    """Diff between events ``a`` and ``b``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="diff.close"),
    ]
    DEFAULT_CSS = """
    DiffScreen #diff-title { height: 1; background: $panel; padding: 0 1; }
    DiffScreen #diff-events-line { padding: 0 1; height: auto; }
    DiffScreen VerticalScroll { height: 1fr; }
    DiffScreen Label.section { padding: 1 1 0 1; text-style: bold; }
    DiffScreen DataTable { height: auto; max-height: 16; margin: 0 1; }
    """

    def __init__(self, data: TimelineData, a: int, b: int) -> None:
        super().__init__()
        self.data = data
        self.a, self.b = a, b
        self.result: dict[str, Any] | None = None
        self._job: DiffJob | None = None

    @property
    def twin(self) -> TwinApp:
        """The app, typed."""
        return cast("TwinApp", self.app)

    def compose(self) -> ComposeResult:
        """Title, then the sections (filled when the diff is ready)."""
        yield Static(
            Text(f" DIFF  #{self.a} → #{self.b}  {self.data.label}  computing…", "bold"),
            id="diff-title",
        )
        with VerticalScroll(id="diff-body"):
            yield Static("", id="diff-events-line")
            for section, title in (
                ("topology", "Topology"),
                ("metrics", "Metrics (largest relative change first)"),
                ("findings", "Findings raised (+) and resolved (-)"),
                ("events", "Events between, by type"),
            ):
                yield Label(title, classes="section", id=f"label-{section}")
                yield DiffTable(section)
        yield KeyBar(DIFF_KEYS, id="diff-keys")

    def on_mount(self) -> None:
        """Start working out the diff."""
        self._job = DiffJob(self.data, self.twin._post, self.a, self.b)
        self._job.start()

    def on_unmount(self) -> None:
        """Stop the job if it still runs."""
        if self._job is not None:
            self._job.stop()

    def show(self, result: dict[str, Any]) -> None:
        """Fill every section from ``twin diff``'s result."""
        self.result = result
        events = result["events"]
        total = sum(events.values())
        self.query_one("#diff-title", Static).update(
            Text(
                f" DIFF  #{self.a} → #{self.b}  {self.data.label}  {total:,} events between",
                "bold",
            )
        )
        kinds = ", ".join(f"{printable(t)} ×{n}" for t, n in events.items()) or "none"
        self.query_one("#diff-events-line", Static).update(Text(f"events between: {kinds}"))
        self._topology(result["topology"])
        self._metrics(result["metrics"])
        self._findings(result["findings"])
        self._events(events)
        first = self.query_one("#diff-topology", DiffTable)
        for table in self.query(DiffTable):
            if table.row_count:
                first = table
                break
        first.focus()

    def _topology(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#diff-topology", DiffTable)
        for col in ("kind", "id", "change", "A", "B"):
            table.add_column(col, key=col)
        for row in rows:
            subject = f"{row['kind']}:{row['id']}"
            table.add_row(
                Text(row["kind"]),
                Text(printable(row["id"])),
                Text(printable(row["change"])),
                Text(topology_value(row, "a")),
                Text(topology_value(row, "b")),
            )
            table.targets.append(partial(self._last_on, subject))
        self._empty(table, "no topology change")

    def _metrics(self, rows: list[dict[str, Any]]) -> None:
        table = self.query_one("#diff-metrics", DiffTable)
        for col in ("subject", "metric", "A", "B", "Δ", "Δ%"):
            table.add_column(col, key=col)
        units = self.data.units
        for row in rows:
            unit, name = units.get(row["metric"]), row["metric"]
            table.add_row(
                Text(printable(row["subject"])),
                Text(printable(name)),
                Text(format_value(row["a"], unit, name=name, compact=True), justify="right"),
                Text(format_value(row["b"], unit, name=name, compact=True), justify="right"),
                Text(format_delta(row["delta"], unit, name=name, compact=True), justify="right"),
                Text(format_percent_change(row["pct"]), justify="right"),
            )
            table.targets.append(partial(self._metric_cause, row["subject"], row["metric"]))
        self._empty(table, "no metric changed")

    def _findings(self, found: dict[str, list[dict[str, Any]]]) -> None:
        table = self.query_one("#diff-findings", DiffTable)
        for col in ("", "sev", "rule", "subject", "since", "message"):
            table.add_column(col, key=col or "sign")
        for sign, key in (("+", "raised"), ("-", "resolved")):
            for f in found[key]:
                sev = f["severity"]
                table.add_row(
                    Text(sign, "bold"),
                    Text(SEVERITY_GLYPH[sev], STYLE[sev]),
                    Text(printable(f["rule"])),
                    Text(printable(f["subject"])),
                    Text(f"#{f['since']}"),
                    Text(printable(f["message"])),
                )
                if key == "raised":
                    table.targets.append(partial(_seq, int(f["since"])))
                else:
                    table.targets.append(partial(self._last_on, str(f["subject"])))
        self._empty(table, "no finding raised or resolved")

    def _events(self, events: dict[str, int]) -> None:
        table = self.query_one("#diff-events", DiffTable)
        table.add_column("type", key="type")
        table.add_column("count", key="count")
        for name, count in sorted(events.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(Text(printable(name)), Text(f"{count:,}", justify="right"))
            table.targets.append(partial(self._first_event_of_type, name))
        self._empty(table, "no event between")

    def _empty(self, table: DiffTable, message: str) -> None:
        if not table.row_count:
            table.display = False
            label = self.query_one(f"#label-{table.id.removeprefix('diff-')}", Label)  # type: ignore[union-attr]
            label.update(Text(f"{label.content}: {message}"))

    # -- where each row came from -------------------------------------------------------------

    def _last_on(self, subject: str) -> int | None:
        """The last event between A and B on ``subject`` (or touching it by name)."""
        index = self.data.index
        code = index.subjects.codes.get(subject)
        for seq in range(min(self.b, index.scanned), self.a, -1):
            if code is not None and index.subject[seq - 1] == code:
                return seq
        return None

    def _metric_cause(self, subject: str, metric: str) -> int | None:
        names = [name for name, _label in HEADLINE]
        if subject == "system" and metric in names:
            seq = self.data.index.last_change_of(names.index(metric), self.b)
            if seq is not None and seq > self.a:
                return seq
        return self._last_on(subject) or self.b

    def _first_event_of_type(self, name: str) -> int | None:
        index = self.data.index
        code = index.types.codes.get(name)
        if code is None:
            return None
        for seq in range(self.a + 1, min(self.b, index.scanned) + 1):
            if index.type[seq - 1] == code:
                return seq
        return None

    # -- keys -------------------------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: jump to the event behind the row, and go back to the timeline."""
        table = event.data_table
        if not isinstance(table, DiffTable) or not 0 <= event.cursor_row < len(table.targets):
            return
        seq = table.targets[event.cursor_row]()
        if seq is None:
            self.notify("no single event to point at for this row", severity="warning")
            return
        self.dismiss()
        self.twin.cursor.move(seq, jump=True)

    def action_close(self) -> None:
        """Back to the timeline."""
        self.dismiss()
