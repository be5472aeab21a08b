"""Checkpoint: disk writes caused by a state-checkpoint interval away from 60 s.

Model line 11: improper checkpoint configuration can raise disk writes by up
to 140%; 60 s is recommended. Domain reference §0.1 doubts the concept (a
Maestro member takes no periodic state checkpoints to disk; the seed may
confuse the vendor name with the word), so these numbers are kept only as
named, overridable seed parameters.
"""

from __future__ import annotations

import math

from twin.api import Parameter, Rule, RuleContext, hookimpl, parameter, rule

RECOMMENDED = "checkpoint.recommended_s"
MAX_EXTRA = "checkpoint.max_extra_writes"
SATURATION = "checkpoint.saturation_ratio"
TOLERANCE = "checkpoint.write_tolerance"

DOUBT = (
    " Domain reference §0.1: no official source; likely a confusion of Check Point "
    "with 'checkpoint', Maestro takes no periodic state checkpoints to disk."
)


INTERVAL = (
    "checkpoint interval {interval_s:g} s (recommended {recommended_s:g} s) writes "
    "{factor:.2f}× as much to disk (> {limit:.2f}×)"
)


@rule(
    id="checkpoint.disk-writes",
    summary="disk writes relative to the recommended state checkpoint interval",
    events=("site_added", "group_created", "member_added", "checkpoint_interval_changed"),
    parameters=(RECOMMENDED, MAX_EXTRA, SATURATION, TOLERANCE),
    raises={"checkpoint.interval": "warning"},
    metrics={"checkpoint.disk_write_factor": "ratio"},
)
def disk_writes(ctx: RuleContext) -> None:
    """``checkpoint.disk_write_factor`` = 1 + ``checkpoint.max_extra_writes`` ×
    min(1, |ln(interval ÷ ``checkpoint.recommended_s``)| ÷ ln ``checkpoint.saturation_ratio``):
    1.0 at the recommended interval (also when none was set), rising on a log scale as
    the interval departs from it either way (shorter: more frequent writes; longer:
    larger bursts), and reaching 1 + 1.40 = 2.4 at ``saturation_ratio`` times shorter or
    longer. ``checkpoint.interval`` (warning, system) when the factor exceeds
    1 + ``checkpoint.write_tolerance``. The whole concept is doubted by the domain
    reference (§0.1); it is modelled only because the seed note states it."""
    recommended = ctx.param(RECOMMENDED)
    interval = ctx.state.settings.get("checkpoint_interval_s")
    seconds = recommended if interval is None else float(interval)
    departure = abs(math.log(seconds / recommended)) / math.log(ctx.param(SATURATION))
    factor = 1.0 + ctx.param(MAX_EXTRA) * min(1.0, departure)
    ctx.metric("system", "checkpoint.disk_write_factor", factor)
    limit = 1.0 + ctx.param(TOLERANCE)
    if factor > limit:
        ctx.finding(
            "checkpoint.interval",
            "system",
            INTERVAL,
            interval_s=seconds,
            recommended_s=recommended,
            factor=factor,
            limit=limit,
        )


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The checkpoint family's rules."""
    return [disk_writes]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The checkpoint family's parameters."""
    return [
        parameter(
            RECOMMENDED,
            60,
            "s",
            provenance="seed",
            source="seed note: Checkpoint timing: Balance I/O frequency with recovery time "
            "(recommended 60-second intervals)." + DOUBT,
            summary="recommended state checkpoint interval (doubted concept)",
            domain="positive",
        ),
        parameter(
            MAX_EXTRA,
            1.40,
            "ratio",
            provenance="seed",
            source="seed note: Improper checkpoint configuration can increase disk writes "
            "by 140%." + DOUBT,
            summary="most extra disk writes a bad checkpoint interval causes (doubted concept)",
            domain="non-negative",
        ),
        parameter(
            SATURATION,
            10,
            "ratio",
            provenance="assumption",
            source="assumption: an interval ten times off (6 s or 600 s) is as bad as it "
            "gets; the log scale treats halving and doubling alike",
            summary="how far off (as a factor) the interval must be for the full extra writes",
            domain="above-one",
        ),
        parameter(
            TOLERANCE,
            0.10,
            "ratio",
            provenance="assumption",
            source="assumption: up to 10% more writes (about 51-71 s) is within normal tuning",
            summary="extra disk writes tolerated before checkpoint.interval warns",
            domain="non-negative",
        ),
    ]
