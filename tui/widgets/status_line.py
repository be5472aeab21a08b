"""The one-row status line: mode, source, position, event and finding counts."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from tui.timeline_data import Row
from twin.textsafe import safe_text


def _shown(value: str) -> str:
    """Text from data inside markup: terminal-safe and markup-escaped."""
    return escape(safe_text(value))


class StatusLine(Static):
    """Shows ``REPLAY label  #seq/total  time  type subject  ✖N ⚠N ℹN``."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    """

    def show(
        self,
        label: str,
        row: Row | None,
        total: int,
        *,
        computing: bool = False,
        marks: dict[str, int] | None = None,
    ) -> None:
        """Render the status for ``row`` (None: nothing loaded yet)."""
        parts = [f"[reverse b] REPLAY [/] {_shown(label)}"]
        if row is None:
            parts.append(f"#0/{total}")
        else:
            errors, warnings, infos = row.counts
            parts += [
                f"[b]#{row.seq}/{total}[/b]",
                f"[red]✖{errors}[/] [yellow]⚠{warnings}[/] [bright_blue]ℹ{infos}[/]",
                _shown(row.occurred_at.replace("T", " ").removesuffix("Z")),
                f"[cyan]{_shown(row.type)}[/] {_shown(row.subject)}",
            ]
        if marks:
            parts.append(" ".join(f"{k}:#{v}" for k, v in sorted(marks.items())))
        if computing:
            parts.append("[i dim]computing…[/]")
        self.update("  ".join(parts))
