"""metric_observed and member hostnames: what a gateway showed, kept in the state."""

from __future__ import annotations

from typing import Any

import pytest

from twin.errors import EventDataError, InvalidEventError
from twin.events import default_registry
from twin.reducer import apply
from twin.state import TwinState

REGISTRY = default_registry()


def build(events: list[tuple[str, dict[str, Any]]], at: str = "2026-03-03T02:00:00Z") -> TwinState:
    state = TwinState()
    for seq, (event_type, data) in enumerate(events, start=1):
        apply(state, REGISTRY.decode(event_type, data), seq=seq, occurred_at=at)
    return state


GENESIS: list[tuple[str, dict[str, Any]]] = [
    ("site_added", {"site": 1}),
    ("group_created", {"group": 1}),
    ("member_added", {"member": "1_01", "group": 1, "site": 1, "hostname": "gw-ch01-01"}),
    ("member_added", {"member": "1_02", "group": 1, "site": 1}),
]


def test_an_observation_is_kept_with_its_seq_time_and_source() -> None:
    state = build(
        [
            *GENESIS,
            (
                "metric_observed",
                {
                    "subject": "member:1_01",
                    "metric": "load.connections",
                    "value": 108437,
                    "source": "fw tab -s",
                },
            ),
        ]
    )
    assert state.observed == {
        "member:1_01": {
            "load.connections": {
                "value": 108437.0,
                "source": "fw tab -s",
                "seq": 5,
                "occurred_at": "2026-03-03T02:00:00Z",
            }
        }
    }
    assert state.to_canonical()["observed"]["member:1_01"]["load.connections"]["seq"] == 5


def test_a_later_observation_replaces_the_earlier_one_of_the_same_metric_only() -> None:
    obs = [
        ("metric_observed", {"subject": "system", "metric": "sync.traffic_gbps", "value": 1.5}),
        ("metric_observed", {"subject": "system", "metric": "members.active", "value": 2}),
        ("metric_observed", {"subject": "system", "metric": "sync.traffic_gbps", "value": 2.5}),
    ]
    state = build([*GENESIS, *obs])
    assert state.observed["system"]["sync.traffic_gbps"]["value"] == 2.5
    assert state.observed["system"]["members.active"]["value"] == 2.0


def test_observing_an_unknown_member_is_refused_and_changes_nothing() -> None:
    state = build(GENESIS)
    before = state.digest()
    event = REGISTRY.decode(
        "metric_observed", {"subject": "member:1_09", "metric": "load.cpu_pct", "value": 50}
    )
    with pytest.raises(InvalidEventError) as caught:
        apply(state, event, seq=5)
    assert caught.value.field == "subject"
    assert state.digest() == before


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("subject", {"subject": "member 1_01", "metric": "load.cpu_pct", "value": 1}),
        ("metric", {"subject": "system", "metric": "cpu", "value": 1}),
        ("value", {"subject": "system", "metric": "load.cpu_pct", "value": float("nan")}),
    ],
)
def test_a_malformed_observation_names_its_field(field: str, data: dict[str, Any]) -> None:
    with pytest.raises(EventDataError) as caught:
        REGISTRY.decode("metric_observed", data)
    assert caught.value.field == field


def test_hostnames_are_kept_and_found_in_any_case() -> None:
    state = build(GENESIS)
    assert state.members["1_01"]["hostname"] == "gw-ch01-01"
    assert state.member_by_hostname("GW-CH01-01") == "1_01"
    assert state.member_by_hostname("gw-ch01-02") is None


def test_a_hostname_naming_two_members_is_refused() -> None:
    state = build(GENESIS)
    event = REGISTRY.decode(
        "member_added", {"member": "1_03", "group": 1, "site": 1, "hostname": "GW-ch01-01"}
    )
    with pytest.raises(InvalidEventError, match="already names member 1_01"):
        apply(state, event, seq=5)
    assert "1_03" not in state.members


def test_observations_survive_a_snapshot_round_trip() -> None:
    from twin.state_data import from_canonical

    state = build(
        [*GENESIS, ("metric_observed", {"subject": "group:1", "metric": "load.cps", "value": 9})]
    )
    rebuilt = from_canonical(state.to_canonical())
    assert rebuilt.observed == state.observed
    assert rebuilt.digest() == state.digest()
    assert rebuilt.member_by_hostname("gw-ch01-01") == "1_01"
