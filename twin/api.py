"""The one import surface for plugin authors.

Everything a plugin needs is here; everything else in ``twin`` is private and
may change. This module follows semantic versioning: additions are minor,
removals and changes of meaning are major (with a deprecation first).

A plugin module looks like::

    from twin.api import Parameter, Rule, RuleContext, hookimpl, parameter, rule

    @rule(id="acme.hot-member", summary="a member runs above the acme CPU limit",
          events=["load_changed"], parameters=["acme.cpu_limit_pct"],
          raises={"acme.hot-member": "warning"}, incremental=True)
    def hot_member(ctx: RuleContext) -> None:
        limit = ctx.param("acme.cpu_limit_pct")
        for member_id in ctx.changes.touched_members():
            member = ctx.members[member_id]          # a MemberRecord: keys are type-checked
            if member["cpu_pct"] > limit:
                ctx.finding("acme.hot-member", f"member:{member_id}",
                            "CPU {cpu:.0f}% > {limit:.0f}%", cpu=member["cpu_pct"], limit=limit)

    @hookimpl
    def twin_register_rules() -> list[Rule]:
        return [hot_member]

    @hookimpl
    def twin_register_parameters() -> list[Parameter]:
        return [parameter("acme.cpu_limit_pct", 90, "%", provenance="assumption",
                          source="acme runbook")]

Rules written for plugin API 0.1 (reading ``ctx.state.members[...]`` and
yielding :class:`Finding` objects) keep working unchanged.
"""

from __future__ import annotations

from twin.command_context import CommandContext, PointInTime
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
from twin.records import (
    GroupRecord,
    LinkRecord,
    MemberRecord,
    ObservedRecord,
    OrchestratorRecord,
    SiteRecord,
    VirtualSystemRecord,
)
from twin.reducer import Changes
from twin.rules import (
    ActiveFinding,
    Combine,
    Finding,
    FunctionRule,
    GroupValues,
    Metric,
    MetricsView,
    Rule,
    RuleContext,
    Severity,
    group_rule,
    parameter,
    ratio,
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
from twin.subjects import SYSTEM, Subject, group_of
from twin.text_import import ImportContext, ImportOptions, ImportReport, TextImporter

API_VERSION = "0.2"
"""The version of this plugin API (``major.minor``): additions raise the minor number.

Compare it to require a feature: ``tuple(map(int, API_VERSION.split("."))) >= (0, 2)``.
"""

__all__ = [
    "API_VERSION",
    "CORE_EVENTS",
    "DISTRIBUTION_EVENTS",
    "DOWN",
    "DOWN_ADMIN",
    "MEMBER_STATE_EVENTS",
    "SYSTEM",
    "UP",
    "UPGRADING",
    "ActiveFinding",
    "Changes",
    "CheckpointIntervalChanged",
    "Combine",
    "CommandContext",
    "Domain",
    "Envelope",
    "Event",
    "Finding",
    "Frame",
    "FunctionRule",
    "GroupCreated",
    "GroupRecord",
    "GroupValues",
    "HypersyncChanged",
    "ImportContext",
    "ImportOptions",
    "ImportReport",
    "Importer",
    "LinkAdded",
    "LinkFailed",
    "LinkRecord",
    "LinkRestored",
    "LoadChanged",
    "MemberAdded",
    "MemberAdminChanged",
    "MemberFailed",
    "MemberLoads",
    "MemberRecord",
    "MemberRecovered",
    "MemberRemoved",
    "Metric",
    "MetricObserved",
    "MetricStore",
    "MetricsView",
    "Note",
    "ObservedRecord",
    "OpaqueEvent",
    "OrchestratorAdded",
    "OrchestratorFailed",
    "OrchestratorRecord",
    "OrchestratorRecovered",
    "Parameter",
    "PointInTime",
    "Profile",
    "Record",
    "Rule",
    "RuleContext",
    "Segment",
    "Severity",
    "SiteAdded",
    "SiteFailover",
    "SiteRecord",
    "Subject",
    "TextImporter",
    "TwinInputError",
    "TwinState",
    "UpgradeFinished",
    "UpgradeRolledBack",
    "UpgradeStarted",
    "VirtualSystemRecord",
    "VsCreated",
    "VsRemoved",
    "WeightChanged",
    "expm1_exact",
    "group_of",
    "group_rule",
    "hookimpl",
    "member_sort_key",
    "observed_subject",
    "parameter",
    "ratio",
    "relative_error",
    "rule",
]
