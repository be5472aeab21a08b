"""Field kinds come from type hints: the catalog's and a plugin's event classes.

No ``from __future__ import annotations`` here on purpose: the plugin classes
below have real annotation objects, as a plugin module without it has.
"""

import sys
import types
import typing
from typing import Annotated, Any, ClassVar

import attrs
import pytest

import twin.event_catalog
import twin.event_registry
import twin.events
import twin.field_kinds
from twin.errors import EventDataError
from twin.events import CORE_EVENTS, Event, EventRegistry, default_registry
from twin.field_kinds import Check, PositiveInt, field, kinds_from_hints

# Every public name twin.events had before it was split into catalog, field kinds
# and registry: plugins, tests and twin.api import them from there.
NAMES_BEFORE_THE_SPLIT = {
    *("CORE_EVENTS", "DISTRIBUTION_EVENTS", "MEMBER_STATE_EVENTS", "GROUP_MODES", "LINK_KINDS"),
    *("LOAD_FIELDS", "MAX_MAGNITUDE", "TOO_LARGE", "MEMBER_ID", "METRIC_NAME", "SUBJECT", "E"),
    *("Event", "EventRegistry", "Upcaster", "default_registry"),
    *("EventDataError", "UnknownEventTypeError"),
    *("SiteAdded", "SiteFailover", "OrchestratorAdded", "OrchestratorFailed"),
    *("OrchestratorRecovered", "GroupCreated", "HypersyncChanged", "CheckpointIntervalChanged"),
    *("MemberAdded", "MemberRemoved", "MemberFailed", "MemberRecovered", "MemberAdminChanged"),
    *("LinkAdded", "LinkFailed", "LinkRestored", "LoadChanged", "WeightChanged"),
    *("UpgradeStarted", "UpgradeFinished", "UpgradeRolledBack", "VsCreated", "VsRemoved"),
    *("MetricObserved", "Note", "OpaqueEvent"),
}


def test_twin_events_still_exports_every_name_it_had() -> None:
    assert len(NAMES_BEFORE_THE_SPLIT) == 44
    assert [name for name in NAMES_BEFORE_THE_SPLIT if not hasattr(twin.events, name)] == []
    assert set(twin.events.__all__) == NAMES_BEFORE_THE_SPLIT
    home = (twin.event_catalog, twin.event_registry, twin.field_kinds, twin.errors)
    for name in twin.events.__all__:
        assert any(getattr(m, name, None) is getattr(twin.events, name) for m in home), name


def test_each_catalog_field_is_checked_as_its_type_hint_says() -> None:
    registry = default_registry()
    for cls in CORE_EVENTS:
        hints = typing.get_type_hints(cls, include_extras=True)
        for a in attrs.fields(cls):
            kind, checks = twin.field_kinds.kind_and_checks(hints[a.name])
            assert registry.fields(cls.event_type)[a.name] == kind, (cls.event_type, a.name)
            assert a.metadata["checks"] == checks, (cls.event_type, a.name)
    # What the hints say, as a user sees it: `cpu_pct: Percent | None`, `member: MemberId`.
    with pytest.raises(EventDataError, match="between 0 and 100") as refused:
        registry.decode("load_changed", {"group": 1, "cpu_pct": 101})
    assert refused.value.field == "cpu_pct"
    with pytest.raises(EventDataError, match="of the form <site>_<n>"):
        registry.decode("member_added", {"member": "fw1", "group": 1, "site": 1})


Tagged = Annotated[str, "a plugin's own marker, not a check"]


@attrs.frozen(kw_only=True)
class Inspected(Event):
    """A plugin's event type whose annotations are objects (no future import)."""

    event_type: ClassVar[str] = "acme_inspected"
    count: int | None = None
    ratio: Annotated[float, "ratio"] = 0.5
    flag: bool = False
    tags: tuple[str, ...] = ()
    label: Tagged = "x"


def test_a_plugin_class_gets_its_kinds_from_its_type_hints() -> None:
    registry = EventRegistry([*CORE_EVENTS, Inspected])
    assert registry.fields("acme_inspected") == {
        "count": "int",
        "ratio": "float",
        "flag": "bool",
        "tags": "list",
        "label": "str",
    }
    event = registry.decode(
        "acme_inspected",
        {"count": "1_200", "ratio": "0.25", "flag": "yes", "tags": "a;b", "label": "7"},
        coerce=True,
    )
    assert event.to_data() == {
        "count": 1200,
        "ratio": 0.25,
        "flag": True,
        "tags": ["a", "b"],
        "label": "7",
    }


def plugin_module(monkeypatch: pytest.MonkeyPatch, name: str, source: str) -> dict[str, Any]:
    """Run ``source`` as the module ``name`` (as importing a plugin's file would)."""
    module = types.ModuleType(name)
    monkeypatch.setitem(sys.modules, name, module)
    exec(source, module.__dict__)
    return module.__dict__


def test_hints_that_do_not_resolve_are_read_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = plugin_module(  # the future import, and a type it imports only for mypy
        monkeypatch,
        "acme_late",
        "from __future__ import annotations\n"
        "from typing import ClassVar\n"
        "import attrs\n"
        "from twin.events import Event\n"
        "@attrs.frozen(kw_only=True)\n"
        "class Late(Event):\n"
        "    event_type: ClassVar[str] = 'acme_late'\n"
        "    minutes: int | None = None\n"
        "    window: OnlyForMypy | None = None\n",
    )
    registry = EventRegistry([*CORE_EVENTS, namespace["Late"]])
    assert registry.fields("acme_late") == {"minutes": "int", "window": "str"}


def test_the_field_helper_works_with_string_annotations_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    namespace = plugin_module(
        monkeypatch,
        "acme_sampled",
        "from __future__ import annotations\n"
        "from typing import ClassVar\n"
        "import attrs\n"
        "from twin.events import Event\n"
        "from twin.field_kinds import Percent, field, kinds_from_hints\n"
        "@attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)\n"
        "class Sampled(Event):\n"
        "    event_type: ClassVar[str] = 'acme_sampled'\n"
        "    cpu: Percent | None = field(default=None, doc='CPU %')\n",
    )
    cls = namespace["Sampled"]
    assert attrs.fields(cls).cpu.metadata["kind"] == "float"
    with pytest.raises(EventDataError, match="between 0 and 100"):
        cls(cpu=120.0)


def test_checks_run_in_hint_order_after_the_kind() -> None:
    def even(_name: str, value: Any) -> str | None:
        return None if value % 2 == 0 else "must be even"

    @attrs.frozen(kw_only=True, field_transformer=kinds_from_hints)
    class Paired(Event):
        event_type: ClassVar[str] = "acme_paired"
        n: Annotated[PositiveInt, Check(even)] = field(doc="an even count")

    assert Paired(n=4).n == 4
    with pytest.raises(EventDataError, match="must be an integer"):
        Paired(n="4")
    with pytest.raises(EventDataError, match="greater than 0"):
        Paired(n=-3)  # positive is checked before even
    with pytest.raises(EventDataError, match="must be even"):
        Paired(n=3)
