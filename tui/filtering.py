"""The ``/`` filter: parse it, and find the events it matches (no Textual here).

Terms, all of which must hold (case-insensitive)::

    type:link_failed        the event type contains this (type:link,member_failed: either)
    subject:1_03            the subject contains this (also member:, link:, group:, site:)
    sev>=warning            the event raised a finding this bad or worse (sev:error, sev>info)
    is:change               raised or cleared a finding, changed the topology, a fault
    is:fault                something went down          is:finding  raised a finding
    hot                     a word: in the type, the subject, or the event's own text

Types, subjects, severities and flags come from the index (no journal
read); a plain word also searches every event's text, which reads the
journal once in the filter's thread.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable

import attrs
import orjson

from tui.timeline_index import (
    CHANGE_BITS,
    FAULT,
    RAISED,
    TimelineIndex,
    worst_raised,
)
from twin.rules import Severity

TERM = re.compile(r"^(?P<key>[a-z_]+)(?P<op>:|>=|<=|>|<|=)(?P<value>.+)$")
SUBJECT_KEYS = {"subject", "member", "link", "group", "site", "orchestrator", "vs"}
IS_FLAGS = {"change": CHANGE_BITS, "fault": FAULT, "finding": RAISED}
SEVERITY_OPS: dict[str, Callable[[int, int], bool]] = {
    ":": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
}


class FilterError(ValueError):
    """A filter that does not parse; the message says what would be valid."""


@attrs.frozen
class Filter:
    """A parsed filter."""

    text: str
    types: tuple[tuple[str, ...], ...] = ()  # each term: any of these substrings
    subjects: tuple[tuple[str, ...], ...] = ()
    severity: tuple[tuple[str, int], ...] = ()  # (op, rank)
    flags: tuple[int, ...] = ()
    words: tuple[str, ...] = ()

    @property
    def needs_text(self) -> bool:
        """True if a word may have to be looked for in the events' text."""
        return bool(self.words)


def parse(text: str) -> Filter:
    """Parse a filter.

    Raises:
        FilterError: an unknown key, severity or ``is:`` flag.
    """
    types: list[tuple[str, ...]] = []
    subjects: list[tuple[str, ...]] = []
    severity: list[tuple[str, int]] = []
    flags: list[int] = []
    words: list[str] = []
    for term in text.split():
        match = TERM.match(term.lower())
        if match is None:
            words.append(term.lower())
            continue
        key, op, value = match.group("key"), match.group("op"), match.group("value")
        options = tuple(v for v in value.split(",") if v)
        if key == "type" and op == ":":
            types.append(options)
        elif key in SUBJECT_KEYS and op == ":":
            prefix = "" if key == "subject" else f"{key}:"
            subjects.append(tuple(prefix + v if prefix and ":" not in v else v for v in options))
        elif key in ("sev", "severity"):
            try:
                rank = Severity.parse(value).rank
            except ValueError:
                raise FilterError(
                    f"{term}: the severity is one of info, warning (warn), error"
                ) from None
            severity.append((op, rank))
        elif key == "is" and op == ":":
            if value not in IS_FLAGS:
                raise FilterError(f"{term}: is: takes {', '.join(sorted(IS_FLAGS))}")
            flags.append(IS_FLAGS[value])
        else:
            raise FilterError(
                f"{term}: unknown term; use type:, subject: (member:, link:, group:), "
                "sev>=warning, is:change, or plain words"
            )
    return Filter(
        text.strip(), tuple(types), tuple(subjects), tuple(severity), tuple(flags), tuple(words)
    )


def _codes(names: list[str], options: Iterable[str]) -> set[int]:
    low = [o.lower() for o in options]
    return {code for code, name in enumerate(names) if any(o in name.lower() for o in low)}


def matches(
    index: TimelineIndex,
    spec: Filter,
    texts: Iterable[tuple[int, str]] | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> array[int]:
    """The seqs of the scanned events that ``spec`` matches, in order.

    Args:
        index: the timeline's columns.
        spec: the filter.
        texts: ``(seq, lowercased text)`` of every event, needed when ``spec`` has words
            that are in no type or subject.
        stop: checked now and then; True ends early with what was found so far.
    """
    count = index.scanned
    type_sets = [_codes(index.types.names, options) for options in spec.types]
    subject_sets = [_codes(index.subjects.names, options) for options in spec.subjects]
    word_types = [_codes(index.types.names, [w]) for w in spec.words]
    word_subjects = [_codes(index.subjects.names, [w]) for w in spec.words]
    out = array("I")
    type_col, subject_col, flags = index.type, index.subject, index.flags
    evaluated = index.evaluated
    text_iter = iter(texts) if texts is not None and spec.words else None
    pending: tuple[int, str] | None = None
    for i in range(count):
        if i % 4096 == 0 and stop():
            break
        seq = i + 1
        t, s = type_col[i], subject_col[i]
        if any(t not in codes for codes in type_sets):
            continue
        if any(s not in codes for codes in subject_sets):
            continue
        if spec.severity or spec.flags:
            if i >= evaluated:
                continue
            f = flags[i]
            if any(not f & bit for bit in spec.flags):
                continue
            rank = worst_raised(f)
            if any(rank < 0 or not SEVERITY_OPS[op](rank, want) for op, want in spec.severity):
                continue
        if spec.words:
            ok = True
            for w, (tc, sc) in zip(
                spec.words, zip(word_types, word_subjects, strict=True), strict=True
            ):
                if t in tc or s in sc:
                    continue
                if text_iter is None:
                    ok = False
                    break
                while pending is None or pending[0] < seq:
                    pending = next(text_iter, (1 << 62, ""))
                text_of_seq = pending[1] if pending[0] == seq else ""
                if w not in text_of_seq:
                    ok = False
                    break
            if not ok:
                continue
        out.append(seq)
    return out


def event_text(data: dict[str, object], actor: str | None, reason: str | None) -> str:
    """What a word is looked for in: the data's values, the actor and the reason, lowercased."""
    return (orjson.dumps(data).decode() + " " + (actor or "") + " " + (reason or "")).lower()
