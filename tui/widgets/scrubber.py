"""The scrubber: the whole journal in one or two rows, by event number.

Row 1 is a health strip: for each stretch of events, the worst finding raised
in it (``✖`` error, ``◆`` warning), a fault (``↓``), or else a bar as tall as
the most findings active in it, coloured by the worst of them; ``·`` where
the evaluation has not reached yet. Row 2 carries the cursor caret ``▲``,
the marks ``A`` ``B``, bookmarks ``★``, and greys the stretches the filter
hides. A click jumps there; the wheel steps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.widget import Widget

from tui.timeline_index import FAULT, SEVERITY_SHIFT

if TYPE_CHECKING:
    from tui.app import TwinApp

BARS = " ▁▂▃▄▅▆▇█"
FAULT_TABLE = bytes(1 if i & FAULT else 0 for i in range(256))


class Scrubber(Widget):
    """One or two rows mapping ``1..total`` to the width."""

    DEFAULT_CSS = """
    Scrubber { height: 2; padding: 0 1; }
    Scrubber.-one-row { height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._strip_cache: tuple[tuple[int, int, int], Text] | None = None
        self._buckets: dict[tuple[int, int], tuple[int, bool, int, str]] = {}

    @property
    def twin(self) -> TwinApp:
        from tui.app import TwinApp

        assert isinstance(self.app, TwinApp)
        return self.app

    def _x_of(self, seq: int, width: int, total: int) -> int:
        if total <= 0 or width <= 0:
            return 0
        return min(width - 1, max(0, (seq - 1) * width // total))

    def seq_at(self, x: int) -> int:
        """The first event of the stretch under column ``x``."""
        width = self.content_size.width
        total = self.twin.cursor.total
        if width <= 0 or total <= 0:
            return 0
        x = max(0, min(width - 1, x))
        return max(1, x * total // width + 1)

    def on_click(self, event: events.Click) -> None:
        """Jump to the stretch clicked."""
        offset = event.get_content_offset(self)
        if offset is not None and self.twin.cursor.total:
            self.twin.cursor.move(self.seq_at(offset.x), jump=True)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        """The wheel steps."""
        event.stop()
        self.twin.cursor.step(1)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        """The wheel steps back."""
        event.stop()
        self.twin.cursor.step(-1)

    def _summary(self, lo: int, hi: int) -> tuple[int, bool, int, str] | None:
        """Worst severity raised, any fault, most findings active, and their colour."""
        index = self.twin.data.index
        evaluated = index.evaluated
        if hi < lo or lo > evaluated:
            return None
        key = (lo, hi)
        cached = self._buckets.get(key)
        if cached is not None:
            return cached
        top = min(hi, evaluated)
        chunk = bytes(index.flags[lo - 1 : top])
        worst = max(chunk) >> SEVERITY_SHIFT  # the severity bits are the high bits
        fault = chunk.translate(FAULT_TABLE).find(1) >= 0
        e = max(index.errors[lo - 1 : top])
        w = max(index.warnings[lo - 1 : top])
        i = max(index.infos[lo - 1 : top])
        colour = "red" if e else "yellow" if w else "blue" if i else "green"
        summary = (worst, fault, e + w + i, colour)
        if top == hi:
            self._buckets[key] = summary
        return summary

    def _strip(self, width: int, total: int) -> Text:
        index = self.twin.data.index
        key = (width, total, index.evaluated)
        if self._strip_cache is not None and self._strip_cache[0] == key:
            return self._strip_cache[1]
        if self._strip_cache is None or self._strip_cache[0][:2] != key[:2]:
            self._buckets.clear()
        summaries = [self._summary(lo, hi) for lo, hi in index.buckets(width, total)]
        peak = max([1, *(s[2] for s in summaries if s is not None)])
        strip = Text()
        for summary in summaries:
            if summary is None:
                strip.append("·", "dim")
                continue
            worst, fault, most, colour = summary
            if worst == 3:
                strip.append("✖", "bold red")
            elif fault:
                strip.append("↓", "bold red")
            elif worst == 2:
                strip.append("◆", "yellow")
            else:
                level = 1 + (most * (len(BARS) - 2)) // peak if most else 1
                strip.append(BARS[level], colour)
        self._strip_cache = (key, strip)
        return strip

    def render(self) -> Text:
        """The strip, and (on two rows) the caret, marks and filter."""
        app = self.twin
        width = self.content_size.width
        total = app.cursor.total
        if width <= 0 or total <= 0:
            return Text("(empty journal)", style="dim")
        strip = self._strip(width, total).copy()
        caret_x = self._x_of(app.cursor.seq, width, total) if app.cursor.seq else -1
        if self.size.height < 2:
            if caret_x >= 0:
                strip.stylize("reverse bold", caret_x, caret_x + 1)
            for name, seq in app.cursor.marks.items():
                x = self._x_of(seq, width, total)
                strip = _put(strip, x, name, "bold magenta")
            return strip
        ruler = [" "] * width
        styles: list[str] = [""] * width
        matches = app.filter_matches
        if matches is not None:
            hit = [False] * width
            for seq in _sample(matches, 4096):
                hit[self._x_of(seq, width, total)] = True
            for x in range(width):
                ruler[x] = "━" if hit[x] else "─"
                styles[x] = "cyan" if hit[x] else "dim"
        for seq in app.bookmark_seqs:
            x = self._x_of(seq, width, total)
            ruler[x], styles[x] = "★", "yellow"
        for name, seq in sorted(app.cursor.marks.items()):
            x = self._x_of(seq, width, total)
            ruler[x], styles[x] = name, "bold magenta"
        if caret_x >= 0:
            ruler[caret_x], styles[caret_x] = "▲", "bold"
            strip.stylize("reverse", caret_x, caret_x + 1)
        line = Text()
        for char, style in zip(ruler, styles, strict=True):
            line.append(char, style)
        out = Text("\n").join([strip, line])
        out.no_wrap = True
        return out


def _put(text: Text, x: int, char: str, style: str) -> Text:
    out = text[:x]
    out.append(char, style)
    out.append_text(text[x + 1 :])
    return out


def _sample(matches: object, limit: int) -> list[int]:
    """At most ``limit`` evenly spread entries of a sorted seq array."""
    seqs = matches  # array('I')
    n = len(seqs)  # type: ignore[arg-type]
    if n <= limit:
        return [int(s) for s in seqs]  # type: ignore[attr-defined]
    return [int(seqs[i * n // limit]) for i in range(limit)]  # type: ignore[index]
