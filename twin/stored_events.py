"""Stored events that no longer hold valid data: said with their seq, never a traceback.

Replays decode stored payloads without their field validators (they were
validated when they were appended: that is the hot path). A journal edited
behind the twin's back can then hand the reducer a value of the wrong type,
which fails deep inside it. :func:`explain` re-checks such an event with the
validators on and, if its data is what is wrong, returns the error that
names the seq and the field.
"""

from __future__ import annotations

from twin.envelope import Envelope
from twin.errors import TwinInputError
from twin.events import EventRegistry


def explain(
    registry: EventRegistry, envelope: Envelope, source: str | None
) -> TwinInputError | None:
    """The error for a stored event whose data fails validation, or None if it is valid.

    Args:
        registry: the event classes in use.
        envelope: the event that could not be applied.
        source: the journal's name for the message.
    """
    try:
        registry.decode(envelope.type, envelope.data, schema=envelope.schema, allow_unknown=True)
    except TwinInputError as bad:
        return TwinInputError(
            f"event {envelope.seq} ({envelope.type}) holds invalid data: {bad.problem}; "
            "was the journal edited? run `twin verify`",
            field=bad.field,
            value=bad.value,
            source=source,
        )
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        return TwinInputError(
            f"event {envelope.seq} ({envelope.type}) holds data the twin cannot use "
            f"({type(exc).__name__}: {exc}); was the journal edited? run `twin verify`",
            field="data",
            source=source,
        )
    return None


USABLE_ERRORS = (TypeError, ValueError, KeyError, AttributeError, ArithmeticError)
"""What applying an event with data of the wrong type raises (caught, then explained)."""
