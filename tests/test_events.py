"""The event catalog: every type round-trips, bad data is refused with a clear message."""

from __future__ import annotations

from typing import Any, ClassVar

import attrs
import orjson
import pytest

from twin.errors import EventDataError, UnknownEventTypeError
from twin.events import CORE_EVENTS, Event, EventRegistry, OpaqueEvent, default_registry

# One payload per core type, with every optional field set (contract §2).
FULL_PAYLOADS: dict[str, dict[str, Any]] = {
    "site_added": {"site": 2, "name": "DC South"},
    "orchestrator_added": {"orchestrator": "mho-2a", "site": 2, "model": "MHO-175"},
    "orchestrator_failed": {"orchestrator": "mho-2a"},
    "orchestrator_recovered": {"orchestrator": "mho-2a"},
    "group_created": {"group": 3, "mode": "vsx", "hypersync": False},
    "member_added": {
        "member": "2_07",
        "group": 3,
        "site": 2,
        "model": "Quantum 9700",
        "cores": 48,
        "memory_gb": 128,
        "version": "R82",
        "weight": 300,
        "connections_capacity": 20_000_000,
        "throughput_gbps": 40.5,
        "blades": ["fw", "ips", "av"],
        "hostname": "gw-ch02-07",
    },
    "member_removed": {"member": "2_07"},
    "member_failed": {"member": "2_07", "cause": "pnote:Interface Active Check"},
    "member_recovered": {"member": "2_07"},
    "member_admin_changed": {"member": "2_07", "up": False},
    "link_added": {
        "link": "sync-9",
        "a": "mho-2a",
        "b": "mho-1a",
        "kind": "sync",
        "gbps": 25,
        "dedicated": False,
        "jumbo": True,
    },
    "link_failed": {"link": "sync-9"},
    "link_restored": {"link": "sync-9"},
    "load_changed": {
        "group": 3,
        "connections": 4_000_000,
        "cps": 150_000,
        "cpu_pct": 62,
        "throughput_gbps": 80,
    },
    "weight_changed": {"member": "2_07", "weight": 0},
    "upgrade_started": {"member": "2_07", "to_version": "R82.10"},
    "upgrade_finished": {"member": "2_07", "version": "R82.10"},
    "upgrade_rolled_back": {"member": "2_07"},
    "vs_created": {"vs": "vs-4", "member": "2_07", "memory_gb": 6.5},
    "vs_removed": {"vs": "vs-4"},
    "hypersync_changed": {"group": 3, "enabled": True},
    "checkpoint_interval_changed": {"seconds": 300},
    "site_failover": {"site": 2},
    "note": {"text": "02:14 pager fired"},
    "metric_observed": {
        "subject": "member:2_07",
        "metric": "load.connections",
        "value": 108437,
        "source": "fw tab -t connections -s",
    },
}


def test_every_core_type_has_a_full_payload_here() -> None:
    assert set(FULL_PAYLOADS) == {cls.event_type for cls in CORE_EVENTS}


@pytest.mark.parametrize("event_type", sorted(FULL_PAYLOADS))
def test_full_payload_round_trips_through_json(event_type: str) -> None:
    registry = default_registry()
    event = registry.decode(event_type, FULL_PAYLOADS[event_type])
    wire = orjson.loads(orjson.dumps(event.to_data()))
    again = registry.decode(event_type, wire)
    assert again == event
    # Every field the user gave survives (numbers may widen from int to float).
    for key, value in FULL_PAYLOADS[event_type].items():
        assert wire[key] == value


@pytest.mark.parametrize(
    ("event_type", "data", "field", "words"),
    [
        ("weight_changed", {"member": "1_01", "weight": 600}, "weight", "between 0 and 512"),
        ("weight_changed", {"member": "1_01", "weight": -1}, "weight", "between 0 and 512"),
        ("load_changed", {"group": 1, "connections": -5}, "connections", "not be negative"),
        ("load_changed", {"group": 1, "cps": -1.5}, "cps", "not be negative"),
        ("load_changed", {"member": "1_01", "cpu_pct": 150}, "cpu_pct", "between 0 and 100"),
        ("load_changed", {"member": "1_01", "cpu_pct": -3}, "cpu_pct", "between 0 and 100"),
        ("load_changed", {"group": 1}, "connections", "at least one of"),
        ("load_changed", {"group": 1, "member": "1_01", "cps": 3}, "member", "exactly one"),
        ("member_added", {"member": "x1", "group": 1, "site": 1}, "member", "<site>_<n>"),
        ("member_added", {"member": "1_05", "group": 1, "site": 2}, "site", "named for site 1"),
        ("member_added", {"member": "1_05", "group": 1}, "site", "required field missing"),
        ("member_added", {"member": "1_05", "group": "one", "site": 1}, "group", "integer"),
        ("link_added", {"link": "l", "a": "x", "b": "y", "kind": "wifi"}, "kind", "one of"),
        ("member_admin_changed", {"member": "1_01", "up": "yes"}, "up", "true or false"),
        ("member_failed", {"member": "1_01", "reason": "x"}, "reason", "unknown field"),
        ("site_added", {"site": 0}, "site", "1 or greater"),
    ],
)
def test_bad_data_names_the_field_and_value(
    event_type: str, data: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(EventDataError) as caught:
        default_registry().decode(event_type, data)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_unknown_field_suggests_the_closest_name() -> None:
    with pytest.raises(EventDataError, match="did you mean 'connections'"):
        default_registry().decode("load_changed", {"group": 1, "conections": 5})


def test_unknown_type_suggests_the_closest_type() -> None:
    with pytest.raises(UnknownEventTypeError, match="did you mean 'member_failed'"):
        default_registry().decode("member_faild", {"member": "1_01"})


def test_unknown_type_is_kept_as_opaque_when_allowed() -> None:
    event = default_registry().decode("psu_swapped", {"unit": 3}, allow_unknown=True)
    assert isinstance(event, OpaqueEvent)
    assert event.original_type == "psu_swapped"
    assert event.to_data() == {"unit": 3}


def test_text_values_are_coerced_for_csv_and_command_line() -> None:
    registry = default_registry()
    added = registry.decode(
        "member_added",
        {"member": "1_02", "group": "1", "site": "1", "cores": "32", "blades": "fw;ips"},
        coerce=True,
    )
    assert (added.group, added.cores, added.blades) == (1, 32, ("fw", "ips"))
    admin = registry.decode("member_admin_changed", {"member": "1_02", "up": "false"}, coerce=True)
    assert admin.up is False
    with pytest.raises(EventDataError, match="must be a number"):
        registry.decode("load_changed", {"group": "1", "cps": "lots"}, coerce=True)


@attrs.frozen(kw_only=True)
class _PsuSwappedV2(Event):
    event_type: ClassVar[str] = "psu_swapped"
    schema: ClassVar[int] = 2
    unit: int
    slot: str


def test_old_payloads_are_upcast_on_read() -> None:
    registry = EventRegistry([*CORE_EVENTS, _PsuSwappedV2])

    @registry.upcaster("psu_swapped", 1)
    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"unit": data["psu"], "slot": "A"}

    event = registry.decode("psu_swapped", {"psu": 3}, schema=1)
    assert event == _PsuSwappedV2(unit=3, slot="A")
    with pytest.raises(EventDataError, match="newer than this twin knows"):
        registry.decode("psu_swapped", {"unit": 3, "slot": "B"}, schema=3)


def test_a_type_name_cannot_be_registered_twice() -> None:
    @attrs.frozen(kw_only=True)
    class Clash(Event):
        event_type: ClassVar[str] = "member_added"

    with pytest.raises(ValueError, match="already registered"):
        EventRegistry([*CORE_EVENTS, Clash])


@pytest.mark.parametrize("event_type", sorted(FULL_PAYLOADS))
def test_trusted_decode_of_stored_payloads_equals_validated_decode(event_type: str) -> None:
    registry = default_registry()
    full = registry.decode(event_type, FULL_PAYLOADS[event_type])
    stored = orjson.loads(orjson.dumps(full.to_data()))
    assert registry.decode_stored(event_type, stored, full.schema) == full
    cls = registry.get(event_type)
    assert cls is not None
    required = {
        a.name: FULL_PAYLOADS[event_type][a.name]
        for a in attrs.fields(cls)
        if a.default is attrs.NOTHING
    }
    if event_type == "load_changed":
        required = {"group": 3, "cps": 5}
    assert registry.decode_stored(event_type, required, cls.schema) == registry.decode(
        event_type, required
    )
