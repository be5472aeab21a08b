"""Sample plugin with a frame observer that keeps what it saw."""

from __future__ import annotations

from typing import Any

from twin.api import hookimpl

SEEN: list[tuple[int, str, int]] = []


@hookimpl
def twin_frame_evaluated(frame: Any) -> None:
    SEEN.append((frame.seq, frame.envelope.type, len(frame.findings)))
