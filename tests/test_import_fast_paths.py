"""The import's fast paths accept only what the validating paths accept, and build the same.

The checked builder of an event class runs the field checks without attrs'
machinery, and canonical times are taken without parsing. Both must agree with
the slow paths on every input: hypothesis throws well-formed and malformed
payloads at each core event type.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.errors import TwinInputError
from twin.event_files import normalise_time
from twin.events import CORE_EVENTS, EventRegistry
from twin.testing.strategies import event_sequences

REGISTRY = EventRegistry(CORE_EVENTS)

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 600),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "1_01", "2_03", "1_1", "x", "sync", "gateway", "R82", "a\u202eb"]),
    st.lists(st.sampled_from(["fw", "ips", ""]), max_size=3),
    st.sampled_from([0, 1, 2, 5, 100, 512, 513, -1, 0.5, 99.9, 100.1, float("nan"), 1e309]),
)


def slow_decode(event_type: str, data: dict[str, Any]) -> Any:
    """The validating constructor alone (no fast path)."""
    cls = REGISTRY.get(event_type)
    assert cls is not None
    return cls(**data)


def check_agreement(event_type: str, payload: dict[str, Any]) -> None:
    build = REGISTRY._checked.get(event_type)
    assert build is not None, f"{event_type} has no fast path"
    fast = build(payload)
    try:
        slow = slow_decode(event_type, payload)
    except Exception:
        assert fast is None, f"the fast path accepted {event_type} {payload!r}"
        return
    if fast is not None:
        assert fast == slow
        assert fast.to_data() == slow.to_data()


TRICKY: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1,
    513,
    0.5,
    -0.5,
    100.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    "",
    "x",
    "1_01",
    "a\u202eb",
    [],
    ["fw"],
    [""],
    {"a": 1},
]


@settings(max_examples=60, deadline=None)
@given(events=event_sequences(max_events=20), data=st.data())
def test_the_checked_builder_accepts_only_what_the_constructor_accepts(
    events: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    event_type, valid = data.draw(st.sampled_from(events), label="event")
    if event_type not in REGISTRY:
        return
    check_agreement(event_type, dict(valid))
    cls = REGISTRY.get(event_type)
    assert cls is not None
    for name in [a.name for a in attrs.fields(cls)] + ["bogus"]:
        for value in TRICKY:
            check_agreement(event_type, {**valid, name: value})
        spoiled = dict(valid)
        spoiled.pop(name, None)
        check_agreement(event_type, spoiled)
    extra = data.draw(st.lists(st.sampled_from([a.name for a in attrs.fields(cls)]), max_size=3))
    check_agreement(event_type, {**valid, **{n: data.draw(VALUES, label=n) for n in extra}})


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(),
    spelling=st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
)
def test_a_canonical_time_is_taken_as_it_is_and_any_other_is_parsed(
    moment: Any, spelling: str
) -> None:
    text = moment.strftime(spelling)
    expected = moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    if moment.year < 1000:
        return  # strftime does not pad such years
    assert normalise_time(text) == expected


@pytest.mark.parametrize(
    "text", ["2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "0000-01-01T00:00:00Z", "soon"]
)
def test_impossible_times_are_still_refused(text: str) -> None:
    with pytest.raises(TwinInputError, match="ISO 8601"):
        normalise_time(text)
