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
        history: earlier positions, newest last (jumps push here; ``-`` pops).
    """

    def __init__(self, total: int = 0, seq: int | None = None) -> None:
        self.total = total
        self.seq = self._clamp(total if seq is None else seq)
        self.marks: dict[str, int] = {}
        self.history: list[int] = []
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

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener(self)
