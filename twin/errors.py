"""Errors that reach users, each able to say where the problem is and what would be valid.

The CLI turns :class:`TwinInputError` into one line on stderr and exit code 2,
:class:`CheckFailed` into exit code 1 and anything from a plugin in strict mode
into exit code 3.
"""

from __future__ import annotations

from typing import Any

from twin.textsafe import safe_text


def no_event_text(seq: int, head: int, *, first: int = 0) -> str:
    """The one wording of an event outside the journal, for every command and the TUI.

    ``first`` is the lowest event the caller accepts: 0 (before the first event, the
    default) gives ``no event 99: use 0 (before the first event) to 13``, 1 gives
    ``no event 99: use 1 to 13``.
    """
    lowest = "0 (before the first event)" if first == 0 else str(first)
    return f"no event {seq}: use {lowest} to {head}"


class TwinError(Exception):
    """Base class of the twin's own errors."""


class TwinInputError(TwinError):
    """Bad input from a user: a file, a field, a value.

    Attributes:
        problem: what is wrong and, where possible, what would be valid.
        field: the offending field, if one can be named.
        value: the offending value, if one can be shown.
        source: the file (or other source) the input came from.
        line: the 1-based line in ``source``.
    """

    def __init__(
        self,
        problem: str,
        *,
        field: str | None = None,
        value: Any = None,
        source: str | None = None,
        line: int | None = None,
    ) -> None:
        self.problem = problem
        self.field = field
        self.value = value
        self.source = source
        self.line = line
        super().__init__(self.one_line())

    def located(self, source: str | None, line: int | None = None) -> TwinInputError:
        """Return a copy that names ``source`` and ``line`` (keeps any it already names)."""
        return type(self)(
            self.problem,
            field=self.field,
            value=self.value,
            source=self.source or source,
            line=self.line if self.line is not None else line,
        )

    def one_line(self) -> str:
        """``file:line: field: problem`` with the parts that are known.

        Text from the input (a file name, a field, a value) is shown escaped
        (:func:`~twin.textsafe.safe_text`), so the line is safe on a terminal.
        """
        where = ""
        if self.source:
            where = f"{self.source}:{self.line}: " if self.line is not None else f"{self.source}: "
        elif self.line is not None:
            where = f"line {self.line}: "
        field = f"{self.field}: " if self.field else ""
        return safe_text(f"{where}{field}{self.problem}")


class EventDataError(TwinInputError):
    """An event whose data is invalid: a missing field, a wrong type, a value out of range."""


class InvalidEventError(TwinInputError):
    """An event the twin's state refuses: an unknown id, a duplicate, an impossible transition."""


class UnknownEventTypeError(TwinInputError):
    """An event ``type`` that no installed plugin knows."""


class ConflictError(TwinError):
    """The journal's head moved on: a write made with ``--expect-head`` lost the race."""

    def __init__(self, expected: int, found: int) -> None:
        self.expected = expected
        self.found = found
        super().__init__(
            f"conflict: the journal's head is {found}, expected {expected}; "
            "read the journal again and retry"
        )


class JournalLockedError(TwinError):
    """Another writer held the journal's lock longer than this write would wait: exit code 1.

    Nothing was written; trying again later (or waiting longer, ``--wait``) is the remedy.
    """


class CheckFailed(TwinError):
    """A check did not pass (plan expectations, ``verify``, a gate): exit code 1."""
