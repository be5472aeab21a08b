"""One validator for rule declarations: used when plugins load and by ``check_plugin``.

:func:`rule_problems` looks at what a rule declares (never runs it) and says
what is wrong, one line each. The plugin manager refuses a rule with a
problem marked ``refuse`` and says why in ``twin plugins``;
:func:`twin.testing.check_plugin` reports every problem, and adds what only
running the rule shows (findings not declared in ``raises``, metrics not in
``metrics``, crashes, nondeterminism).

Added in plugin API 0.2.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping
from typing import Any

import attrs

from twin.events import EventRegistry
from twin.rules import RULE_ID, Severity

RESERVED_FAMILY = "twin"
"""The family of the engine's own findings (``twin.rule-crashed``); plugins may not use it."""

PARAMETER_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\Z")

SHAPE = "shape"
"""A problem that makes the rule unfit to run at all (missing attributes, a bad id)."""
EVENTS = "events"
PARAMETERS = "parameters"
RAISES = "raises"
FAMILY = "family"
METRICS = "metrics"
ADVICE = "advice"
"""Worth saying, never a reason to refuse (a multi-line summary, ``events=[]``...)."""

_ATTRIBUTES = ("id", "summary", "events", "parameters", "raises", "metrics", "incremental")


@attrs.frozen
class RuleProblem:
    """One thing wrong with a rule's declaration.

    Attributes:
        kind: ``shape``, ``events``, ``parameters``, ``raises``, ``family``,
            ``metrics`` or ``advice``.
        text: one line that says what and how to fix it.
    """

    kind: str
    text: str

    @property
    def refuse(self) -> bool:
        """True if the rule must not run (everything but advice)."""
        return self.kind != ADVICE


def _shape(rule: Any) -> list[RuleProblem]:
    missing = [
        RuleProblem(SHAPE, f"missing attribute {attr!r}")
        for attr in _ATTRIBUTES
        if not hasattr(rule, attr)
    ]
    if not callable(getattr(rule, "evaluate", None)):
        missing.append(RuleProblem(SHAPE, "missing method 'evaluate(ctx)'"))
    if missing:
        return missing
    if not isinstance(rule.summary, str):
        return [RuleProblem(SHAPE, "summary must be a string")]
    if not isinstance(rule.raises, Mapping) or not all(isinstance(k, str) for k in rule.raises):
        return [RuleProblem(SHAPE, "raises must map finding ids to severities")]
    if isinstance(rule.parameters, str) or not all(isinstance(p, str) for p in rule.parameters):
        return [RuleProblem(SHAPE, "parameters must be a collection of parameter names")]
    problems = []
    if not isinstance(rule.id, str) or not RULE_ID.match(rule.id):
        problems.append(RuleProblem(SHAPE, f"rule id {rule.id!r} is not <family>.<kebab-slug>"))
    if not rule.summary:
        problems.append(RuleProblem(SHAPE, f"rule {rule.id!r} has no summary"))
    for finding_id in rule.raises:
        if not RULE_ID.match(finding_id):
            problems.append(
                RuleProblem(SHAPE, f"finding id {finding_id!r} is not <family>.<kebab-slug>")
            )
    return problems


def rule_problems(
    rule: Any,
    *,
    event_types: EventRegistry | None = None,
    parameters: Collection[str] | None = None,
    reserved_ok: bool = False,
) -> list[RuleProblem]:
    """What is wrong with ``rule``'s declaration (empty when nothing is).

    Args:
        rule: a rule object (see :class:`twin.rules.Rule`).
        event_types: the known event types; None skips the check of ``events``.
        parameters: the names of the declared parameters; None skips that check.
        reserved_ok: the rule is the twin's own and may use the ``twin`` family.

    Returns:
        The problems, shape problems alone when the rule is not even well formed.
    """
    shape = _shape(rule)
    if shape:
        return shape
    problems: list[RuleProblem] = []
    rule_id = rule.id
    if "\n" in rule.summary.strip():
        problems.append(RuleProblem(ADVICE, "the summary must be one line"))
    if not reserved_ok and rule_id.split(".", 1)[0] == RESERVED_FAMILY:
        problems.append(
            RuleProblem(FAMILY, "the family 'twin' is reserved for the engine's own findings")
        )
    events = rule.events
    if events is not None:
        if isinstance(events, str) or not all(isinstance(e, str) for e in events):
            problems.append(
                RuleProblem(EVENTS, "events must be None or a collection of event type names")
            )
        elif not events:
            problems.append(
                RuleProblem(
                    ADVICE, "declares no event types, so it never runs (None = every event)"
                )
            )
        elif event_types is not None:
            for event_type in sorted(events):
                if event_type not in event_types:
                    hint = event_types.suggest(event_type)
                    tail = f"; did you mean {hint!r}?" if hint else ""
                    problems.append(RuleProblem(EVENTS, f"unknown event type {event_type!r}{tail}"))
    for finding_id, severity in rule.raises.items():
        if not isinstance(severity, Severity):
            problems.append(
                RuleProblem(RAISES, f"raises[{finding_id!r}] must be a Severity, not {severity!r}")
            )
        if not reserved_ok and finding_id.split(".", 1)[0] == RESERVED_FAMILY:
            problems.append(
                RuleProblem(FAMILY, f"finding id {finding_id!r} uses the reserved family 'twin'")
            )
    if parameters is not None:
        for name in rule.parameters:
            if name not in parameters:
                close = difflib.get_close_matches(name, list(parameters), n=1)
                tail = f"; did you mean {close[0]!r}?" if close else ""
                problems.append(
                    RuleProblem(
                        PARAMETERS,
                        f"reads parameter {name!r}, which no plugin declares "
                        f"(declare it with twin_register_parameters){tail}",
                    )
                )
    metrics = rule.metrics
    if not isinstance(metrics, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metrics.items()
    ):
        problems.append(RuleProblem(METRICS, "metrics must map metric names to units (strings)"))
    return problems
