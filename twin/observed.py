"""Observed beside predicted: what gateways showed (``metric_observed``) next to the model.

Shared by ``twin state`` (table and JSON) and the TUI: one row per observed
metric, with the model's value of the same metric on the same subject at the
point shown, and the relative error ``twin.model-drift`` computed when the
observation was made.
"""

from __future__ import annotations

from typing import Any, Protocol

from twin.state import TwinState


class _Metrics(Protocol):
    def get(self, subject: str, name: str) -> Any: ...


def observed_subject(subject: str, metric: str) -> str:
    """The subject ``twin.model_error`` and ``twin.model-drift`` use for an observed metric."""
    return f"observed:{metric}@{subject}"


def relative_error(observed: float, predicted: float) -> float:
    """|observed − predicted| ÷ |observed| (÷ |predicted| when 0 was observed; 0 if both are 0)."""
    scale = abs(observed) or abs(predicted)
    return 0.0 if scale == 0 else abs(observed - predicted) / scale


def observation_rows(state: TwinState, metrics: _Metrics) -> list[dict[str, Any]]:
    """Every observation in ``state`` with the model's value now, sorted by subject and metric.

    Each row: ``subject``, ``metric``, ``observed`` (value), ``source``, ``seq`` and
    ``occurred_at`` of the observation; ``predicted`` (``{"value", "low", "high"}``
    now, or None when the model does not compute that metric for that subject);
    ``error_now`` (relative error against the model now, or None); ``error_then``
    (``twin.model_error`` when it was observed, or None).
    """
    rows = []
    for subject in sorted(state.observed):
        for metric in sorted(state.observed[subject]):
            record = state.observed[subject][metric]
            model = metrics.get(subject, metric)
            then = metrics.get(observed_subject(subject, metric), "twin.model_error")
            value = float(record["value"])
            rows.append(
                {
                    "subject": subject,
                    "metric": metric,
                    "observed": value,
                    "source": record.get("source"),
                    "seq": record.get("seq"),
                    "occurred_at": record.get("occurred_at"),
                    "predicted": None
                    if model is None
                    else {"value": model.value, "low": model.low, "high": model.high},
                    "error_now": None if model is None else relative_error(value, model.value),
                    "error_then": None if then is None else then.value,
                }
            )
    return rows
