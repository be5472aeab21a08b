"""Run a list of events through the engine and ask what the twin concluded."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from twin.engine import Engine
from twin.envelope import Envelope
from twin.events import Event, EventRegistry
from twin.hook_markers import hookimpl
from twin.plugin_manager import TwinPluginManager
from twin.profile import Parameter, Profile
from twin.rules import ActiveFinding, Metric, Severity

EventSpec = Event | tuple[str, Mapping[str, Any]] | Mapping[str, Any]

_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _as_event(spec: EventSpec, registry: EventRegistry) -> tuple[str, Event]:
    if isinstance(spec, Event):
        return spec.event_type, spec
    if isinstance(spec, tuple):
        event_type, data = spec
        return event_type, registry.decode(event_type, data)
    data = dict(spec)
    event_type = str(data.pop("type"))
    return event_type, registry.decode(event_type, data, allow_unknown=True)


def make_envelopes(
    events: Iterable[EventSpec], registry: EventRegistry, *, start: int = 1
) -> list[Envelope]:
    """Wrap events in envelopes with dense seqs and one domain second between them."""
    out = []
    for offset, spec in enumerate(events):
        event_type, event = _as_event(spec, registry)
        seq = start + offset
        when = (_EPOCH + timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(
            Envelope(
                seq=seq,
                event_id=f"scenario-{seq:08d}",
                type=event_type,
                schema=event.schema,
                occurred_at=when,
                recorded_at=when,
                actor="scenario",
                reason=None,
                correlation_id=None,
                causation_id=None,
                data=event.to_data(),
                prev_hash="",
                hash="",
                event=event,
            )
        )
    return out


@attrs.frozen
class Step:
    """What the twin looked like after one scenario event (a kept copy of a frame)."""

    seq: int
    type: str
    metrics: dict[str, dict[str, Metric]]
    findings: tuple[ActiveFinding, ...]


@attrs.define
class ScenarioResult:
    """Every step of a scenario, with questions a test asks of them.

    ``at`` indexes steps like a list: ``-1`` is after the last event, ``0``
    after the first.
    """

    steps: list[Step]
    engine: Engine

    def metric(self, name: str, subject: str = "system", *, at: int = -1) -> Metric:
        """The metric after step ``at`` (KeyError naming what exists if it is missing)."""
        metrics = self.steps[at].metrics
        try:
            return metrics[subject][name]
        except KeyError:
            have = sorted(metrics.get(subject, {}))
            raise KeyError(
                f"no metric {name!r} for {subject!r} at step {at}; have {have}"
            ) from None

    def value(self, name: str, subject: str = "system", *, at: int = -1) -> float:
        """The metric's value after step ``at``."""
        return self.metric(name, subject, at=at).value

    def findings(self, *, at: int = -1) -> tuple[ActiveFinding, ...]:
        """The findings active after step ``at``."""
        return self.steps[at].findings

    def findings_for(self, rule: str, *, at: int = -1) -> list[ActiveFinding]:
        """The active findings of ``rule`` after step ``at``."""
        return [f for f in self.steps[at].findings if f.finding.rule == rule]

    def has_finding(self, rule: str, subject: str | None = None, *, at: int = -1) -> bool:
        """True if ``rule`` holds (for ``subject``, if given) after step ``at``."""
        return any(
            subject is None or f.finding.subject == subject for f in self.findings_for(rule, at=at)
        )

    def assert_finding(
        self,
        rule: str,
        subject: str | None = None,
        *,
        severity: Severity | str | None = None,
        at: int = -1,
    ) -> ActiveFinding:
        """Assert ``rule`` holds after step ``at``; return the finding."""
        found = [
            f
            for f in self.findings_for(rule, at=at)
            if subject is None or f.finding.subject == subject
        ]
        if not found:
            active = [f"{f.finding.rule}@{f.finding.subject}" for f in self.findings(at=at)]
            raise AssertionError(f"expected {rule} on {subject or 'any subject'}; active: {active}")
        if severity is not None:
            wanted = severity if isinstance(severity, Severity) else Severity.parse(severity)
            assert found[0].finding.severity is wanted, (
                f"{rule} has severity {found[0].finding.severity.value}, expected {wanted.value}"
            )
        return found[0]

    def assert_no_finding(self, rule: str, subject: str | None = None, *, at: int = -1) -> None:
        """Assert ``rule`` does not hold (for ``subject``) after step ``at``."""
        if self.has_finding(rule, subject, at=at):
            raise AssertionError(f"did not expect {rule} on {subject or 'any subject'}")


def override_parameters(profile: Profile, values: Mapping[str, float]) -> Profile:
    """``profile`` with some parameter values replaced (provenance ``measured``, no band).

    Raises:
        KeyError: a name that ``profile`` does not hold (the closest one is suggested).
    """
    table = dict(profile.parameters)
    for name, value in values.items():
        if name not in table:
            hint = difflib.get_close_matches(name, table, n=1)
            tail = f"; did you mean {hint[0]!r}?" if hint else ""
            raise KeyError(f"no parameter {name!r} is declared{tail}")
        table[name] = attrs.evolve(
            table[name],
            value=float(value),
            low=None,
            high=None,
            provenance="measured",
            source="run_scenario(parameters=...)",
        )
    return Profile(f"{profile.name}+overrides", table, source=profile.source)


@functools.cache
def _builtin_parameters() -> tuple[Parameter, ...]:
    """Every parameter the built-in plugins declare (what ``builtins=False`` still offers)."""
    return tuple(TwinPluginManager(autoload=False, builtins=True, strict=False).parameters())


@attrs.frozen
class _BuiltinParameters:
    """Declares the built-in parameters the scenario's own rules read (``builtins=False``)."""

    parameters: tuple[Parameter, ...]

    @hookimpl
    def twin_register_parameters(self) -> list[Parameter]:
        """The parameters."""
        return list(self.parameters)


def _provide_builtin_parameters(manager: TwinPluginManager) -> None:
    """Declare the built-in parameters that registered rules read and nobody declares."""
    read: set[str] = set()
    for _plugin, result in manager.collect("twin_register_rules"):
        try:
            for rule in result:
                names = getattr(rule, "parameters", ())
                if not isinstance(names, str):
                    read.update(n for n in names if isinstance(n, str))
        except TypeError:
            continue  # not a list of rules: the plugin manager says so when it settles
    if not read:
        return
    declared: set[str] = set()
    for _plugin, result in manager.collect("twin_register_parameters"):
        try:
            declared.update(p.name for p in result if isinstance(getattr(p, "name", None), str))
        except TypeError:
            continue
    wanted = read - declared
    found = tuple(p for p in _builtin_parameters() if p.name in wanted)
    if found:
        manager.register(_BuiltinParameters(found), name="builtin-parameters")


def run_scenario(
    events: Sequence[EventSpec],
    *,
    plugins: Iterable[object] | None = None,
    name: str | None = None,
    builtins: bool = True,
    profile: Profile | str | Path | None = None,
    strict: bool = True,
    parameters: Mapping[str, float] | None = None,
) -> ScenarioResult:
    """Replay ``events`` through a fresh engine and keep every step.

    Args:
        events: events as ``(type, data)`` tuples, dicts with ``type``, or event objects.
        plugins: extra plugin modules or objects to register (besides built-ins).
        name: the name to register the plugin under (one plugin only), so that its
            findings carry the name it is installed under (its entry point's name,
            ``"example"``) instead of its module's name.
        builtins: include the built-in rule families. Without them, the built-in
            parameters your rules read are still declared (with their seed values),
            so a rule reading ``sync.network_gbps`` runs alone.
        profile: a :class:`Profile`, a profile file, or None for ``seed``.
        strict: re-raise a rule's exception instead of raising ``twin.rule-crashed``.
        parameters: parameter values to override on top of ``profile``
            (``{"example.min_up_per_site": 3}``), as a profile file would.

    Raises:
        KeyError: ``parameters`` names a parameter no plugin declares.
        ValueError: ``name`` with other than exactly one plugin.
    """
    chosen_plugins = list(plugins or ())
    if name is not None and len(chosen_plugins) != 1:
        raise ValueError(f"name={name!r} names one plugin; {len(chosen_plugins)} were given")
    manager = TwinPluginManager(autoload=False, builtins=builtins, strict=strict)
    for plugin in chosen_plugins:
        manager.register(plugin, name=name)
    if not builtins:
        _provide_builtin_parameters(manager)
    chosen = profile if isinstance(profile, Profile) else manager.profile(profile)
    if parameters:
        chosen = override_parameters(chosen, parameters)
    engine = manager.build_engine(chosen)
    registry = manager.event_registry()
    steps = []
    for frame in engine.run(make_envelopes(events, registry)):
        kept = {s: dict(names) for s, names in frame.metrics.by_subject.items()}
        steps.append(Step(frame.seq, frame.envelope.type, kept, frame.findings))
    return ScenarioResult(steps, engine)
