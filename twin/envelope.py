"""The envelope: what the journal stores around every event (contract §2)."""

from __future__ import annotations

from typing import Any

import attrs

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


@attrs.frozen(slots=True)
class Envelope:
    """One journal row: the event plus where, when, who and why.

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
    event: Event = attrs.field(eq=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The envelope as contract §5 prints it (``twin log --format jsonl``)."""
        return {name: getattr(self, name) for name in ENVELOPE_FIELDS}
