"""The envelope: what the journal stores around every event (contract §2)."""

from __future__ import annotations

import operator
from typing import Any

from twin.events import Event

ENVELOPE_FIELDS = (
    "seq",
    "event_id",
    "type",
    "schema",
    "occurred_at",
    "recorded_at",
    "actor",
    "reason",
    "correlation_id",
    "causation_id",
    "data",
    "prev_hash",
    "hash",
)
"""The stored envelope, field by field, in its one order: the journal's columns are
selected and inserted in this order, and :class:`Envelope` holds them in it."""

_STORED = len(ENVELOPE_FIELDS)
_SEQ, _EVENT_ID, _HASH = (ENVELOPE_FIELDS.index(f) for f in ("seq", "event_id", "hash"))


class Envelope(tuple):  # type: ignore[type-arg]
    """One journal row: the event plus where, when, who and why.

    Immutable. It is a tuple underneath (one is built per event replayed, and a
    tuple is several times cheaper to build than a frozen attrs class); use the
    attribute names, not positions.

    Attributes:
        seq: dense position in the journal (from 1), assigned by the journal.
        event_id: unique, time-ordered id; used for idempotent append.
        type: the public event type name.
        schema: the payload's schema version as stored.
        occurred_at: domain time, ISO 8601 UTC: the only clock the model reads.
        recorded_at: wall clock at append (audit only).
        actor: who or what recorded it.
        reason: why.
        correlation_id: plan or incident id.
        causation_id: the event that caused this one.
        data: the payload as stored.
        prev_hash: the previous row's hash (hex).
        hash: SHA-256 over ``prev_hash`` and the canonical envelope (hex).
        event: the decoded (and upcast) event.
    """

    __slots__ = ()

    seq: int
    event_id: str
    type: str
    schema: int
    occurred_at: str
    recorded_at: str
    actor: str | None
    reason: str | None
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]
    prev_hash: str
    hash: str
    event: Event

    def __new__(
        cls,
        seq: int,
        event_id: str,
        type: str,
        schema: int,
        occurred_at: str,
        recorded_at: str,
        actor: str | None,
        reason: str | None,
        correlation_id: str | None,
        causation_id: str | None,
        data: dict[str, Any],
        prev_hash: str,
        hash: str,
        event: Event,
    ) -> Envelope:
        return tuple.__new__(
            cls,
            (
                seq,
                event_id,
                type,
                schema,
                occurred_at,
                recorded_at,
                actor,
                reason,
                correlation_id,
                causation_id,
                data,
                prev_hash,
                hash,
                event,
            ),
        )

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> Envelope:
        """An envelope from a tuple of its fields in :data:`ENVELOPE_FIELDS` order + the event."""
        return tuple.__new__(cls, row)

    def __eq__(self, other: object) -> bool:
        # The event is decoded from ``data``: envelopes are equal when their rows are.
        if type(other) is not Envelope:
            return NotImplemented
        return tuple.__eq__(self[:_STORED], other[:_STORED])

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash((self[_SEQ], self[_EVENT_ID], self[_HASH]))

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{name}={value!r}" for name, value in zip(ENVELOPE_FIELDS, self, strict=False)
        )
        return f"Envelope({inner})"

    def __getnewargs__(self) -> tuple[Any, ...]:
        return tuple(self)

    def to_json(self) -> dict[str, Any]:
        """The envelope as contract §5 prints it (``twin log --format jsonl``)."""
        return dict(zip(ENVELOPE_FIELDS, self, strict=False))


for _index, _name in enumerate((*ENVELOPE_FIELDS, "event")):
    setattr(Envelope, _name, property(operator.itemgetter(_index), doc=f"The envelope's {_name}."))
del _index, _name
