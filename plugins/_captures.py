"""Splitting pasted console output into timed captures (``cphaprob state``, ``asg stat -v``).

Not a plugin (no entry point). A file of captures is what people paste into
tickets: a prompt line, the command's output, perhaps a ``date`` line
before it, perhaps everything collapsed onto one line. The importers find
their own capture starts; this module carries the time lines and the member
health a run of captures has seen so far.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import attrs

from plugins._cp_text import TWIN_HEALTH, ctime, iso, prompt_host, transition, zone_word
from twin.api import ImportContext, Record


def time_line(text: str) -> datetime | None:
    """The time a whole line states (a ``date`` output or an ISO time), or None."""
    stripped = text.strip()
    found = ctime(stripped)
    if found is not None:
        return found
    if len(stripped) <= 40:
        return iso(stripped)
    return None


@attrs.define
class Capture:
    """One capture: where it starts, its text, the prompt's host and its time.

    Attributes:
        line: the line it starts on.
        host: the host the prompt names (the ``(local)`` member), if any.
        time: the ISO UTC time of the ``date`` line before it, if any.
        parts: ``(line, text)`` of every line in it.
    """

    line: int
    host: str | None = None
    time: str | None = None
    parts: list[tuple[int, str]] = attrs.field(factory=list)

    def joined(self) -> tuple[str, list[tuple[int, int]]]:
        """The text on one line (runs of whitespace as one space) and ``(offset, line)`` marks."""
        pieces: list[str] = []
        marks: list[tuple[int, int]] = []
        at = 0
        for number, text in self.parts:
            flat = " ".join(text.split())
            if not flat:
                continue
            marks.append((at, number))
            pieces.append(flat)
            at += len(flat) + 1
        return " ".join(pieces), marks

    @staticmethod
    def line_at(marks: list[tuple[int, int]], offset: int, default: int) -> int:
        """The line that holds character ``offset`` of :meth:`joined`'s text."""
        found = default
        for start, number in marks:
            if start > offset:
                break
            found = number
        return found


class Timeline:
    """The time and health state across a file's captures.

    Args:
        ctx: the import context.
    """

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.health: dict[str, str] = {}
        self.pending_time: str | None = None
        self.noted: set[str] = set()
        self.last_time: str | None = None

    def see_time(self, number: int, text: str) -> bool:
        """Take a time line (True), or say it is not one (False)."""
        moment = time_line(text)
        if moment is None:
            return False
        zone = zone_word(text)
        if zone is not None and self.ctx.options.tz is None:
            self.ctx.remark(
                f"the zone {zone} of a date line (first at line {number}) is not understood: "
                "taken as UTC (give --tz ZONE)"
            )
        self.pending_time = self.ctx.utc(moment)
        return True

    def take_time(self) -> str | None:
        """The time for the capture starting now (the pending date line's), consumed."""
        found, self.pending_time = self.pending_time, None
        return found

    def health_of(self, member: str) -> str:
        """The member's health as the captures so far (or the journal) have it."""
        if member not in self.health:
            self.health[member] = TWIN_HEALTH[self.ctx.member_state(member)]
        return self.health[member]

    def change(
        self, number: int, ts: str | None, member: str, now: str, cause: str | None
    ) -> Iterator[Record]:
        """The event (if any) that takes ``member`` to health ``now`` at ``ts``."""
        was = self.health_of(member)
        event = transition(member, was, now, cause)
        if was != "upgrading":
            self.health[member] = now
        if event is not None:
            yield Record(number, _timed(ts, event))

    def note_once(self, number: int, ts: str | None, text: str) -> Iterator[Record]:
        """A ``note`` at ``ts``, unless the same one was already made (captures repeat blocks)."""
        key = f"{ts}|{text}"
        if key in self.noted:
            self.ctx.understood(number, "block repeated from an earlier capture")
            return
        self.noted.add(key)
        yield Record(number, _timed(ts, {"type": "note", "text": text}))


def _timed(ts: str | None, event: dict[str, Any]) -> dict[str, Any]:
    return event if ts is None else {"ts": ts, **event}


def prompt(text: str) -> tuple[str, str] | None:
    """``(host, command)`` of a prompt line."""
    return prompt_host(text)
