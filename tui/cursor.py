"""The one timeline cursor every pane follows (no Textual here).

Widgets never own time: they read :class:`TimelineCursor` and ask it to move.
Listeners are called synchronously after every move.
"""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[["TimelineCursor"], None]


class TimelineCursor:
    """The position on the timeline: ``seq`` in 1..``total``.

    ``seq`` is 0 while the timeline is empty, or when the cursor starts before
    the first event (``reset(total, 0)``); every move lands in 1..``total``.

    Attributes:
        seq: the current event.
        total: the number of events.
        marks: mark name (``A``/``B``) → seq.
        history: earlier positions, newest last (jumps push here; ``-`` and ``(`` pop).
        future: positions walked back from with ``(``, newest last (``)`` returns).
    """

    def __init__(self, total: int = 0, seq: int | None = None) -> None:
        self.total = total
        self.seq = self._clamp(total if seq is None else seq)
        self.marks: dict[str, int] = {}
        self.history: list[int] = []
        self.future: list[int] = []
        self._listeners: list[Listener] = []

    def _clamp(self, seq: int) -> int:
        if self.total <= 0:
            return 0
        return max(1, min(self.total, seq))

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(cursor)`` after every move."""
        self._listeners.append(listener)

    def reset(self, total: int, seq: int | None = None) -> None:
        """A new timeline length; go to ``seq`` (default: the last; 0: before the first)."""
        self.total = total
        self.history.clear()
        self.seq = 0 if seq == 0 else self._clamp(total if seq is None else seq)
        self._notify()

    def move(self, seq: int, *, jump: bool = False) -> bool:
        """Go to ``seq`` (clamped); a ``jump`` records the old position for :meth:`back`.

        Returns:
            True if the position changed.
        """
        target = self._clamp(seq)
        if target == self.seq:
            return False
        if jump:
            self.history.append(self.seq)
            del self.history[:-100]
            self.future.clear()
        self.seq = target
        self._notify()
        return True

    def step(self, delta: int) -> bool:
        """Move ``delta`` events (no history entry)."""
        return self.move(self.seq + delta)

    def back(self) -> bool:
        """Return to the previous jump's origin; pressing it again toggles back."""
        while self.history:
            target = self.history.pop()
            if target != self.seq and 1 <= target <= self.total:
                return self.move(target, jump=True)
        return False

    def walk_back(self) -> bool:
        """Walk the navigation history back one jump (``(``); :meth:`walk_forward` undoes it."""
        while self.history:
            target = self.history.pop()
            if target != self.seq and 1 <= target <= self.total:
                self.future.append(self.seq)
                self.seq = target
                self._notify()
                return True
        return False

    def walk_forward(self) -> bool:
        """Walk forward again after :meth:`walk_back` (``)``)."""
        while self.future:
            target = self.future.pop()
            if target != self.seq and 1 <= target <= self.total:
                self.history.append(self.seq)
                self.seq = target
                self._notify()
                return True
        return False

    def grow(self, total: int) -> None:
        """More events arrived (live mode); the position stays unless it was before the first."""
        self.total = max(self.total, total)
        if self.seq == 0 and self.total:
            self.seq = 1
            self._notify()

    def mark(self) -> str:
        """Mark the cursor: A first, then B, then replace the older of the two; return the name."""
        marks = self.marks
        if "A" not in marks:
            name = "A"
        elif "B" not in marks:
            name = "B"
        else:
            name = "A" if self._older == "A" else "B"
        marks[name] = self.seq
        self._older = "B" if name == "A" else "A"
        if "B" not in marks:
            self._older = "A"
        self._notify()
        return name

    def clear_marks(self) -> None:
        """Forget marks A and B."""
        self.marks.clear()
        self._older = "A"
        self._notify()

    _older = "A"

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener(self)
