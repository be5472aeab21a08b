"""Command palette (ctrl+p) providers: events, subjects, rules, marks and every action.

- ``#120`` (or ``120``) goes to that event;
- an event type goes to its next occurrence; a subject (member, link…) goes
  to its next event and can filter the list to it;
- a rule goes to where it was first raised;
- marks and bookmarks jump; every key's action is listed with its key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.formatting import printable

if TYPE_CHECKING:
    from tui.app import TwinApp

Item = tuple[str, str, Callable[[], object]]  # (text, help, action)
LIMIT = 400  # types and subjects offered at most (the most common first)


class TimelineCommands(Provider):
    """Events, subjects, rules, marks and actions."""

    @property
    def twin(self) -> TwinApp:
        from tui.app import TwinApp

        assert isinstance(self.app, TwinApp)
        return self.app

    def _goto(self, seq: int) -> Callable[[], object]:
        return partial(self.twin.cursor.move, seq, jump=True)

    def _next_of(self, column: str, code: int, name: str) -> Callable[[], None]:
        def run() -> None:
            app = self.twin
            values = getattr(app.data.index, column)
            start = app.cursor.seq
            for i in (*range(start, len(values)), *range(0, min(start, len(values)))):
                if values[i] == code:
                    app.cursor.move(i + 1, jump=True)
                    return
            app.notify(f"no event for {name}", severity="warning", markup=False)

        return run

    def _items(self) -> Iterator[Item]:
        app = self.twin
        index = app.data.index
        for name, seq in sorted(app.cursor.marks.items()):
            yield (f"mark {name}: #{seq}", "jump to the mark", self._goto(seq))
        for mark in app.data.bookmarks:
            yield (
                printable(f"bookmark #{mark.seq}: {mark.text}"),
                "jump to the bookmark",
                self._goto(mark.seq),
            )
        seen_rules: set[int] = set()
        for seq, rule, subject in zip(
            index.raise_seq, index.raise_rule, index.raise_subject, strict=False
        ):
            if rule in seen_rules:
                continue
            seen_rules.add(rule)
            name = printable(index.rules.names[rule])
            on = printable(index.subjects.names[subject])
            yield (f"rule {name}", f"first raised at #{seq} on {on}", self._goto(int(seq)))
        for code, name in enumerate(index.types.names[:LIMIT]):
            yield (f"type {name}", "next event of this type", self._next_of("type", code, name))
        for code, name in enumerate(index.subjects.names[:LIMIT]):
            if name == "system":
                continue
            yield (f"subject {name}", "next event on it", self._next_of("subject", code, name))
            yield (
                f"filter subject:{name}",
                "list only the events on it",
                partial(app.apply_filter, f"subject:{name}"),
            )
        from tui.screens.help import key_label
        from tui.screens.timeline import TimelineScreen

        for binding in TimelineScreen.BINDINGS:
            action = getattr(binding, "action", None)
            if action is None:
                continue
            yield (
                f"{binding.description}",  # type: ignore[union-attr]
                f"key {key_label(binding)}",  # type: ignore[arg-type]
                partial(app.run_action, action, app.timeline),
            )

    async def discover(self) -> Hits:
        """What the palette lists before anything is typed: marks, bookmarks, rules, keys."""
        for text, help_text, action in self._items():
            if text.startswith(("mark ", "bookmark ", "rule ")) or "key " in help_text:
                yield DiscoveryHit(Text(text), action, text=text, help=help_text)

    async def search(self, query: str) -> Hits:
        """Events by number, then everything else that matches."""
        app = self.twin
        number = query.strip().removeprefix("#")
        if number.isdigit() and 1 <= int(number) <= app.cursor.total:
            seq = int(number)
            row = app.data.row(seq)
            what = f"{row.type} {row.subject}" if row else ""
            yield Hit(
                1.0, Text(f"#{seq} {what}"), self._goto(seq), text=f"#{seq}", help="go to the event"
            )
        matcher = self.matcher(query)
        for text, help_text, action in self._items():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), action, text=text, help=help_text)
