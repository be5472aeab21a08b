"""Events: the catalog, the field kinds and the registry, under one name.

Three modules, one job each:

- :mod:`twin.event_catalog` — one frozen attrs class per fact the twin
  understands (``member_added``, ``load_changed``...; contract §2);
- :mod:`twin.field_kinds` — what a field holds, from its type hint
  (``MemberId``, ``Percent | None``...): validators, text coercion, the
  numeric bound;
- :mod:`twin.event_registry` — type name → class, plugins' event types,
  schema versions and upcasters, payload → event decoding.

This module re-exports their public names, so ``from twin.events import
LoadChanged, EventRegistry`` keeps working for the twin, plugins and tests.
"""

from __future__ import annotations

from twin.errors import EventDataError, UnknownEventTypeError
from twin.event_catalog import (
    CORE_EVENTS,
    DISTRIBUTION_EVENTS,
    GROUP_MODES,
    LINK_KINDS,
    LOAD_FIELDS,
    MEMBER_STATE_EVENTS,
    CheckpointIntervalChanged,
    E,
    Event,
    GroupCreated,
    HypersyncChanged,
    LinkAdded,
    LinkFailed,
    LinkRestored,
    LoadChanged,
    MemberAdded,
    MemberAdminChanged,
    MemberFailed,
    MemberRecovered,
    MemberRemoved,
    MetricObserved,
    Note,
    OpaqueEvent,
    OrchestratorAdded,
    OrchestratorFailed,
    OrchestratorRecovered,
    SiteAdded,
    SiteFailover,
    UpgradeFinished,
    UpgradeRolledBack,
    UpgradeStarted,
    VsCreated,
    VsRemoved,
    WeightChanged,
)
from twin.event_registry import EventRegistry, Upcaster, default_registry
from twin.field_kinds import MAX_MAGNITUDE, MEMBER_ID, METRIC_NAME, SUBJECT, TOO_LARGE

__all__ = [
    "CORE_EVENTS",
    "DISTRIBUTION_EVENTS",
    "GROUP_MODES",
    "LINK_KINDS",
    "LOAD_FIELDS",
    "MAX_MAGNITUDE",
    "MEMBER_ID",
    "MEMBER_STATE_EVENTS",
    "METRIC_NAME",
    "SUBJECT",
    "TOO_LARGE",
    "CheckpointIntervalChanged",
    "E",
    "Event",
    "EventDataError",
    "EventRegistry",
    "GroupCreated",
    "HypersyncChanged",
    "LinkAdded",
    "LinkFailed",
    "LinkRestored",
    "LoadChanged",
    "MemberAdded",
    "MemberAdminChanged",
    "MemberFailed",
    "MemberRecovered",
    "MemberRemoved",
    "MetricObserved",
    "Note",
    "OpaqueEvent",
    "OrchestratorAdded",
    "OrchestratorFailed",
    "OrchestratorRecovered",
    "SiteAdded",
    "SiteFailover",
    "UnknownEventTypeError",
    "Upcaster",
    "UpgradeFinished",
    "UpgradeRolledBack",
    "UpgradeStarted",
    "VsCreated",
    "VsRemoved",
    "WeightChanged",
    "default_registry",
]
