"""The one import surface for plugin authors.

Everything a plugin needs is here; everything else in ``twin`` is private and
may change. This module follows semantic versioning: additions are minor,
removals and changes of meaning are major (with a deprecation first).

A plugin module looks like::

    from twin.api import Finding, Metric, Severity, hookimpl, parameter, rule

    @rule(id="acme.hot-member", summary="a member runs above the acme CPU limit",
          events=["load_changed"], parameters=["acme.cpu_limit_pct"],
          raises={"acme.hot-member": "warning"}, incremental=True)
    def hot_member(ctx):
        limit = ctx.param("acme.cpu_limit_pct")
        for member_id in ctx.changes.touched_members():
            member = ctx.state.members.get(member_id)
            if member and member["cpu_pct"] > limit:
                yield Finding("acme.hot-member", Severity.WARNING, f"member:{member_id}",
                              f"CPU {member['cpu_pct']:.0f}% > {limit:.0f}%")

    @hookimpl
    def twin_register_rules():
        return [hot_member]

    @hookimpl
    def twin_register_parameters():
        return [parameter("acme.cpu_limit_pct", 90, "%", provenance="assumption",
                          source="acme runbook")]
"""

from __future__ import annotations

from twin.envelope import Envelope
from twin.errors import TwinInputError
from twin.event_files import Importer, Record
from twin.events import (
    CORE_EVENTS,
    DISTRIBUTION_EVENTS,
    MEMBER_STATE_EVENTS,
    CheckpointIntervalChanged,
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
from twin.frames import Frame, MetricStore
from twin.hook_markers import hookimpl
from twin.observed import observed_subject, relative_error
from twin.profile import Domain, Parameter, Profile
from twin.reducer import Changes
from twin.rules import (
    ActiveFinding,
    Finding,
    FunctionRule,
    Metric,
    MetricsView,
    Rule,
    RuleContext,
    Severity,
    parameter,
    rule,
)
from twin.segments import MemberLoads, Segment, expm1_exact
from twin.state import (
    DOWN,
    DOWN_ADMIN,
    UP,
    UPGRADING,
    TwinState,
    member_sort_key,
)
from twin.text_import import ImportContext, ImportOptions, ImportReport, TextImporter

__all__ = [
    "CORE_EVENTS",
    "DISTRIBUTION_EVENTS",
    "DOWN",
    "DOWN_ADMIN",
    "MEMBER_STATE_EVENTS",
    "UP",
    "UPGRADING",
    "ActiveFinding",
    "Changes",
    "CheckpointIntervalChanged",
    "Domain",
    "Envelope",
    "Event",
    "Finding",
    "Frame",
    "FunctionRule",
    "GroupCreated",
    "HypersyncChanged",
    "ImportContext",
    "ImportOptions",
    "ImportReport",
    "Importer",
    "LinkAdded",
    "LinkFailed",
    "LinkRestored",
    "LoadChanged",
    "MemberAdded",
    "MemberAdminChanged",
    "MemberFailed",
    "MemberLoads",
    "MemberRecovered",
    "MemberRemoved",
    "Metric",
    "MetricObserved",
    "MetricStore",
    "MetricsView",
    "Note",
    "OpaqueEvent",
    "OrchestratorAdded",
    "OrchestratorFailed",
    "OrchestratorRecovered",
    "Parameter",
    "Profile",
    "Record",
    "Rule",
    "RuleContext",
    "Segment",
    "Severity",
    "SiteAdded",
    "SiteFailover",
    "TextImporter",
    "TwinInputError",
    "TwinState",
    "UpgradeFinished",
    "UpgradeRolledBack",
    "UpgradeStarted",
    "VsCreated",
    "VsRemoved",
    "WeightChanged",
    "expm1_exact",
    "hookimpl",
    "member_sort_key",
    "observed_subject",
    "parameter",
    "relative_error",
    "rule",
]
