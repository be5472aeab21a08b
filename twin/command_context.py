"""What a plugin's command may ask of the twin: open a SOURCE and replay it.

``twin_register_commands(cli, context)`` receives a :class:`CommandContext`.
Through it a plugin command reads a journal, an event file or a plan exactly
as the built-in commands do: with the plugins in effect for this run
(``--plugins-dir``, ``--disable-plugin``, ``TWIN_PLUGINS``...) and the profile
it names, instead of re-invoking ``twin state`` and parsing its output.

Added in plugin API 0.2.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import attrs

from twin.frames import Frame
from twin.rules import ActiveFinding, Metric

if TYPE_CHECKING:
    from twin.profile import Profile
    from twin.state import TwinState


@attrs.frozen
class PointInTime:
    """The twin after one event of a SOURCE.

    Attributes:
        state: the twin's state then (read it like a rule does: ``state.member(id)``).
        frame: the frame after that event (metrics and findings), or None before the
            first event (``at=0``, or an empty journal).
    """

    state: TwinState
    frame: Frame | None

    @property
    def seq(self) -> int:
        """The seq of the event (0 before the first)."""
        return 0 if self.frame is None else self.frame.seq

    @property
    def findings(self) -> tuple[ActiveFinding, ...]:
        """The findings active then, most severe first."""
        return () if self.frame is None else self.frame.findings

    def metric(self, subject: str, name: str) -> Metric | None:
        """Metric ``name`` of ``subject`` then, or None if it was never computed."""
        return None if self.frame is None else self.frame.metrics.get(subject, name)


class CommandContext(Protocol):
    """Opens SOURCEs for a plugin command, with the profile and plugins in effect.

    A SOURCE is what every ``twin`` command takes: a journal, an event file
    (``.jsonl``, ``.csv`` or what an installed importer reads) or a plan file.
    Bad input raises :class:`twin.api.TwinInputError`, which the ``twin``
    command prints as one line with exit code 2: let it propagate.
    """

    def profile(self, choice: str | Path | None = None) -> Profile:
        """The profile ``choice`` names (``seed`` when None, ``documented``, or a file)."""
        ...

    def replay(
        self,
        source: str | Path,
        *,
        start: int = 1,
        stop: int | None = None,
        profile: str | Path | None = None,
        branch: str | None = None,
    ) -> Iterator[Frame]:
        """Every frame of ``source`` from event ``start`` to ``stop`` (inclusive).

        Each frame's metric store is live (it moves on with the next event): copy
        what you keep (``frame.to_json()``).

        Args:
            source: a journal, event file or plan file.
            start: the first event to yield (earlier ones are replayed silently).
            stop: the last event (None: the journal's last).
            profile: the profile to evaluate with (see :meth:`profile`).
            branch: a what-if branch of the journal.
        """
        ...

    def at(
        self,
        source: str | Path,
        at: int | None = None,
        *,
        profile: str | Path | None = None,
        branch: str | None = None,
    ) -> PointInTime:
        """The twin after event ``at`` of ``source`` (None: the last), as ``twin state`` shows it.

        Raises:
            TwinInputError: ``at`` is outside 0..the last seq.
        """
        ...
