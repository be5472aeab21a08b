"""The twin held against reality: observed measurements beside the model's predictions.

A ``metric_observed`` event records what a gateway really showed (a CPU in a
CUL line, connections from ``fw tab -s``…). This built-in of maestro-twin
(entry point ``twin``, so its ids are in the reserved ``twin.`` family)
compares each observation with the model's value for that metric at that
moment:

- ``twin.model_error`` (ratio): |observed − predicted| ÷ |observed|, under the
  subject ``observed:<metric>@<subject>`` (one per observed metric);
- ``twin.model-drift`` (warning) when the observation falls outside the
  model's band (widened by ``twin.observation_tolerance``), with both numbers.
"""

from __future__ import annotations

from typing import Any

from twin.api import (
    MetricObserved,
    Parameter,
    Rule,
    RuleContext,
    hookimpl,
    observed_subject,
    parameter,
    relative_error,
    rule,
)

TOLERANCE = "twin.observation_tolerance"


def _drift_message(e: Any) -> str:
    band = f"{e['low']:g}" if e["low"] == e["high"] else f"{e['low']:g}–{e['high']:g}"
    seen = f"; seen in {e['source']}" if e.get("source") else ""
    return (
        f"observed {e['metric']} {e['observed']:g} is outside the model's {band} "
        f"(predicted {e['predicted']:g}, relative error {e['error']:.0%}){seen}"
    )


@rule(
    id="twin.model-drift",
    summary="an observed measurement outside the model's band for that metric",
    events=("metric_observed",),
    parameters=(TOLERANCE,),
    raises={"twin.model-drift": "warning"},
    metrics={"twin.model_error": "ratio"},
    incremental=True,
)
def model_drift(ctx: RuleContext) -> None:
    """For each ``metric_observed`` of ``metric`` on ``subject``: the model's value of
    that metric on that subject just before the observation (value, low, high) is
    the prediction. ``twin.model_error`` (subject ``observed:<metric>@<subject>``) =
    |observed − predicted| ÷ |observed|. ``twin.model-drift`` (warning, same subject)
    when the observation is below ``low × (1 − tolerance)`` or above ``high × (1 +
    tolerance)`` (``twin.observation_tolerance``: the measurement's own slack). Both
    stand until that metric is observed on that subject again. A metric the model
    does not compute (or not for that subject) is kept in the state and judged by
    nothing."""
    event = ctx.event
    if not isinstance(event, MetricObserved):
        return
    found = ctx.metrics.get(event.subject, event.metric)
    if found is None:
        return
    observed = float(event.value)
    tolerance = ctx.param(TOLERANCE)
    where = observed_subject(event.subject, event.metric)
    error = relative_error(observed, found.value)
    ctx.metric(where, "twin.model_error", error)
    low = found.low - tolerance * abs(found.low)
    high = found.high + tolerance * abs(found.high)
    if low <= observed <= high:
        return
    ctx.finding(
        "twin.model-drift",
        where,
        _drift_message,
        metric=event.metric,
        observed=observed,
        predicted=found.value,
        low=found.low,
        high=found.high,
        error=error,
        source=event.source or "",
    )


@hookimpl
def twin_register_rules() -> list[Rule]:
    """The model-drift rule."""
    return [model_drift]


@hookimpl
def twin_register_parameters() -> list[Parameter]:
    """The slack allowed to an observation."""
    return [
        parameter(
            TOLERANCE,
            0.10,
            "ratio",
            provenance="assumption",
            source="assumption: gateway output rounds (whole percent, whole seconds) and samples "
            "at its own moment; 10% beyond the model's band is drift, less is measurement",
            summary="how far outside the model's band an observation may fall before it is drift",
            domain="non-negative",
        ),
    ]
