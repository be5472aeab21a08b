"""Refusing unknown names with a "did you mean" (metric names, subjects, event types, rules)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from twin.errors import TwinInputError


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name``, or None when nothing is close."""
    found = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return found[0] if found else None


def check_known(names: Iterable[str], known: Iterable[str], *, field: str, what: str) -> None:
    """Refuse the first name that is not known, suggesting the closest known one.

    Args:
        names: the names given.
        known: every valid name.
        field: the option or field to name in the message (``--metrics``).
        what: what a name is, for the message (``metric``).

    Raises:
        TwinInputError: a name is not in ``known``.
    """
    valid = set(known)
    for name in names:
        if name in valid:
            continue
        hint = closest(name, valid)
        if hint is not None:
            tail = f"; did you mean {hint!r}?"
        elif len(valid) <= 12:
            tail = f"; known: {', '.join(sorted(valid))}"
        else:
            tail = f" ({len(valid)} known; see `twin rules`)" if what == "metric" else ""
        raise TwinInputError(f"unknown {what} {name!r}{tail}", field=field, value=name)
