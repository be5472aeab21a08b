"""The :class:`~twin.command_context.CommandContext` plugin commands receive.

It opens SOURCEs the way the built-in commands do (:func:`twin.sources.open_source`)
and replays them with :class:`twin.replay.Replay`, using the plugin manager
of the run in effect, so a plugin command sees the same rules as ``twin run``
with the same ``--plugins-dir`` and ``--disable-plugin``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from twin.command_context import PointInTime

if TYPE_CHECKING:
    from twin.frames import Frame
    from twin.plugin_manager import TwinPluginManager
    from twin.profile import Profile
    from twin.replay import Replay
    from twin.sources import Source

# The journal, the replay and the sources are imported when a command opens a SOURCE,
# not when the CLI starts: `twin --help` stays fast.


class SourceContext:
    """Opens and replays SOURCEs with the plugins of ``manager()``.

    Args:
        manager: gives the plugin manager in effect when a command runs (the CLI's
            is made once the global options are parsed).
    """

    def __init__(self, manager: Callable[[], TwinPluginManager]) -> None:
        self._manager = manager

    def profile(self, choice: str | Path | None = None) -> Profile:
        """The profile ``choice`` names (``seed`` when None, ``documented``, or a file)."""
        return self._manager().profile(choice)

    def _replay(self, src: Source, profile: str | Path | None) -> Replay:
        from twin.sources import replay_of

        manager = self._manager()
        return replay_of(src, manager, manager.profile(profile))

    def replay(
        self,
        source: str | Path,
        *,
        start: int = 1,
        stop: int | None = None,
        profile: str | Path | None = None,
        branch: str | None = None,
    ) -> Iterator[Frame]:
        """Every frame of ``source`` from ``start`` to ``stop`` (see ``CommandContext``)."""
        from twin.sources import open_source

        with open_source(source, self._manager(), branch=branch) as src:
            yield from self._replay(src, profile).frames(start, stop)

    def at(
        self,
        source: str | Path,
        at: int | None = None,
        *,
        profile: str | Path | None = None,
        branch: str | None = None,
    ) -> PointInTime:
        """The twin after event ``at`` of ``source`` (None: the last)."""
        from twin.sources import open_source

        with open_source(source, self._manager(), branch=branch) as src:
            replay = self._replay(src, profile)
            frame = replay.at(at)
            return PointInTime(replay.engine.state, frame)
