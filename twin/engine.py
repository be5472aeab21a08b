"""The engine: apply each event, run the rules that care, keep metrics and findings.

One :class:`Engine` owns one :class:`~twin.state.TwinState`, the metric store
(subject → name → :class:`~twin.rules.Metric`) and the active findings. For
each envelope, :meth:`Engine.step` applies the event with the reducer, runs
the rules that declared its type (in sorted rule id order), folds their
output into the stores and returns a :class:`Frame`.

The hot path makes no pluggy call and copies no graph: rules are plain
objects collected once at start-up, and observers are called directly only
when some are installed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from twin import snapshot_codec
from twin.envelope import Envelope
from twin.errors import TwinError
from twin.events import OpaqueEvent
from twin.frames import Frame, MetricStore
from twin.profile import Profile
from twin.reducer import Changes, apply
from twin.rules import ActiveFinding, Finding, Metric, Rule, RuleContext, Severity
from twin.state import TwinState

CRASHED = "twin.rule-crashed"
UNKNOWN_TYPE = "twin.unknown-event-type"
ENGINE_PLUGIN = "twin"


class PluginError(TwinError):
    """A plugin failed in strict mode (exit code 3)."""


@attrs.frozen(slots=True)
class RegisteredRule:
    """A rule and the plugin that supplied it."""

    rule: Rule
    plugin: str

    @property
    def id(self) -> str:
        """The rule's id."""
        return self.rule.id


def order_rules(rules: Iterable[RegisteredRule]) -> tuple[RegisteredRule, ...]:
    """Sorted by id, except that a rule runs after the rules whose metrics it ``reads``.

    The order never depends on registration order: among rules that are free
    to run, the smallest id goes first.

    Raises:
        PluginError: rules that read each other's metrics in a cycle.
    """
    pending = sorted(rules, key=lambda r: r.id)
    producers: dict[str, set[str]] = {}
    for r in pending:
        for name in r.rule.metrics:
            producers.setdefault(name, set()).add(r.id)
    needs = {
        r.id: {p for name in getattr(r.rule, "reads", ()) for p in producers.get(name, ())} - {r.id}
        for r in pending
    }
    ordered: list[RegisteredRule] = []
    done: set[str] = set()
    while pending:
        ready = next((r for r in pending if needs[r.id] <= done), None)
        if ready is None:
            cycle = ", ".join(r.id for r in pending)
            raise PluginError(f"rules read each other's metrics in a cycle: {cycle}")
        ordered.append(ready)
        done.add(ready.id)
        pending.remove(ready)
    return tuple(ordered)


def _finding_order(active: ActiveFinding) -> tuple[int, str, str]:
    f = active.finding
    return (-f.severity.rank, f.rule, f.subject)


class Engine:
    """Applies events and evaluates rules; holds the state, metrics and findings.

    Args:
        rules: the rules to run (any order; they run sorted by id).
        profile: the parameter values in use.
        strict: re-raise a rule's exception (as :class:`PluginError`) instead of
            turning it into a ``twin.rule-crashed`` finding.
        observers: functions called with every frame.
    """

    def __init__(
        self,
        rules: Iterable[RegisteredRule],
        profile: Profile,
        *,
        strict: bool = False,
        observers: Sequence[Callable[[Frame], Any]] = (),
    ) -> None:
        self.rules: tuple[RegisteredRule, ...] = order_rules(rules)
        self.profile = profile
        self.strict = strict
        self.observers = tuple(observers)
        self.state = TwinState()
        self.metrics = MetricStore()
        self._findings: dict[str, dict[tuple[str, str], ActiveFinding]] = {}
        self._active: tuple[ActiveFinding, ...] = ()
        self._by_type: dict[str, tuple[RegisteredRule, ...]] = {}
        self._observer_failed: set[int] = set()
        self._dirty = False

    # -- stepping ------------------------------------------------------------------------------

    def rules_for(self, event_type: str) -> tuple[RegisteredRule, ...]:
        """The rules that run for ``event_type``, in id order (cached)."""
        found = self._by_type.get(event_type)
        if found is None:
            found = tuple(
                r for r in self.rules if r.rule.events is None or event_type in r.rule.events
            )
            self._by_type[event_type] = found
        return found

    def step(self, envelope: Envelope) -> Frame:
        """Apply one event, run its rules and return the frame after it.

        Raises:
            InvalidEventError: the event does not fit the state (a journal
                written by another tool, or a plan step that does not apply).
            PluginError: a rule raised, in strict mode.
        """
        changes = apply(
            self.state, envelope.event, seq=envelope.seq, occurred_at=envelope.occurred_at
        )
        return self._evaluate(envelope, changes, self.rules_for(envelope.type))

    def run(self, envelopes: Iterable[Envelope]) -> Iterator[Frame]:
        """Step through ``envelopes``, yielding each frame."""
        step = self.step
        for envelope in envelopes:
            yield step(envelope)

    def evaluate_everything(self, envelope: Envelope) -> Frame:
        """Re-run every rule on the current state as if every subject had changed.

        The result must equal what incremental evaluation reached (a tested
        invariant); it is also how a state restored without metrics gets them.
        """
        changes = Changes()
        changes.subjects.update(self.state.graph.nodes)
        changes.subjects.update(f"link:{k}" for k in self.state.links)
        changes.subjects.add("system")
        return self._evaluate(envelope, changes, self.rules)

    def _evaluate(
        self, envelope: Envelope, changes: Changes, rules: Sequence[RegisteredRule]
    ) -> Frame:
        seq = envelope.seq
        metrics = self.metrics.by_subject
        raised: list[ActiveFinding] = []
        cleared: list[ActiveFinding] = []
        for subject in changes.removed:
            metrics.pop(subject, None)
        ctx = RuleContext(
            event=envelope.event,
            type=envelope.type,
            seq=seq,
            occurred_at=envelope.occurred_at,
            state=self.state,
            changes=changes,
            profile=self.profile,
            metrics=self.metrics,
        )
        for registered in rules:
            rule = registered.rule
            try:
                output = list(rule.evaluate(ctx))
            except Exception as exc:
                if self.strict:
                    raise PluginError(
                        f"rule {rule.id} (plugin {registered.plugin}) raised at seq {seq}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                self._crashed(registered, seq, exc, raised)
                continue
            findings: list[Finding] = []
            wrong: object = None
            for item in output:
                if type(item) is Metric:
                    bucket = metrics.get(item.subject)
                    if bucket is None:
                        bucket = metrics[item.subject] = {}
                    bucket[item.name] = item
                elif isinstance(item, Finding):
                    findings.append(item)
                elif isinstance(item, Metric):
                    metrics.setdefault(item.subject, {})[item.name] = item
                else:
                    wrong = item
            if wrong is not None:
                # Not silently dropped: reported like a crash, so `twin run` shows it.
                problem = TypeError(
                    f"yielded {type(wrong).__name__}; rules yield Metric and Finding objects"
                )
                if self.strict:
                    raise PluginError(f"rule {rule.id} {problem}")
                self._crashed(registered, seq, problem, raised)
                continue
            self._fold_findings(registered, findings, changes, seq, raised, cleared)
            self._recovered(registered, cleared)
        if type(envelope.event) is OpaqueEvent:
            self._unknown_type(envelope, raised)
        if changes.removed:
            self._drop_subjects(changes.removed, cleared)
        if raised or cleared or self._dirty:
            self._refresh_active()
        frame = Frame(
            seq, envelope, changes, self.metrics, self._active, tuple(raised), tuple(cleared)
        )
        if self.observers:
            self._notify(frame)
        return frame

    # -- findings ---------------------------------------------------------------------------

    def _fold_findings(
        self,
        registered: RegisteredRule,
        findings: list[Finding],
        changes: Changes,
        seq: int,
        raised: list[ActiveFinding],
        cleared: list[ActiveFinding],
    ) -> None:
        store = self._findings.get(registered.rule.id)
        if store is None:
            if not findings:
                return
            store = self._findings[registered.rule.id] = {}
        new = {(f.rule, f.subject): f for f in findings}
        if store:
            if registered.rule.incremental:
                scope = changes.subjects
                gone = [k for k in store if k not in new and k[1] in scope]
            else:
                gone = [k for k in store if k not in new]
            for key in gone:
                cleared.append(store.pop(key))
        for key, finding in new.items():
            old = store.get(key)
            if old is None:
                active = ActiveFinding(finding, seq, registered.plugin)
                store[key] = active
                raised.append(active)
            elif old.finding != finding:
                # The same condition with new numbers: keep `since`, show the new message.
                store[key] = ActiveFinding(finding, old.since, registered.plugin)
                self._dirty = True

    def _crashed(
        self, registered: RegisteredRule, seq: int, exc: BaseException, raised: list[ActiveFinding]
    ) -> None:
        store = self._findings.setdefault(CRASHED, {})
        key = (CRASHED, f"rule:{registered.id}")
        if key in store:
            return
        finding = Finding(
            CRASHED,
            Severity.ERROR,
            f"rule:{registered.id}",
            f"rule {registered.id} raised {type(exc).__name__}: {exc}; the other rules still ran",
            evidence={"rule": registered.id, "plugin": registered.plugin, "error": repr(exc)},
        )
        store[key] = ActiveFinding(finding, seq, ENGINE_PLUGIN)
        raised.append(store[key])

    def _recovered(self, registered: RegisteredRule, cleared: list[ActiveFinding]) -> None:
        store = self._findings.get(CRASHED)
        if store:
            gone = store.pop((CRASHED, f"rule:{registered.id}"), None)
            if gone is not None:
                cleared.append(gone)

    def _unknown_type(self, envelope: Envelope, raised: list[ActiveFinding]) -> None:
        store = self._findings.setdefault(UNKNOWN_TYPE, {})
        key = (UNKNOWN_TYPE, f"type:{envelope.type}")
        if key in store:
            return
        finding = Finding(
            UNKNOWN_TYPE,
            Severity.INFO,
            f"type:{envelope.type}",
            f"no installed plugin understands {envelope.type!r} events; they are kept "
            "and change nothing",
            evidence={"type": envelope.type},
        )
        store[key] = ActiveFinding(finding, envelope.seq, ENGINE_PLUGIN)
        raised.append(store[key])

    def _drop_subjects(self, removed: set[str], cleared: list[ActiveFinding]) -> None:
        for store in self._findings.values():
            for key in [k for k in store if k[1] in removed]:
                cleared.append(store.pop(key))

    def _refresh_active(self) -> None:
        self._dirty = False
        everything = [a for store in self._findings.values() for a in store.values()]
        self._active = tuple(sorted(everything, key=_finding_order))

    @property
    def findings(self) -> tuple[ActiveFinding, ...]:
        """The findings active now, most severe first."""
        return self._active

    # -- observers ---------------------------------------------------------------------------

    def _notify(self, frame: Frame) -> None:
        for index, observer in enumerate(self.observers):
            try:
                observer(frame)
            except Exception as exc:
                if self.strict:
                    raise PluginError(f"frame observer {observer!r} raised: {exc}") from exc
                if index not in self._observer_failed:
                    self._observer_failed.add(index)
                    print(f"twin: frame observer {observer!r} raised {exc!r}", file=sys.stderr)

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The state, metrics and findings as bytes (a disposable cache, not an archive).

        Plain data (compressed JSON, :mod:`twin.snapshot_codec`), never a pickle:
        snapshots are read back from journals that may come from strangers.
        """
        return snapshot_codec.encode(self.state, self.metrics.by_subject, self._findings)

    def restore(self, blob: bytes) -> None:
        """Load what :meth:`snapshot` produced; nothing in it can run.

        Raises:
            ValueError: the blob is not a snapshot of this format or does not validate
                (the engine is unchanged).
        """
        try:
            state, metrics, findings = snapshot_codec.decode(blob)
        except ValueError as exc:
            raise ValueError(f"unusable snapshot: {exc}") from None
        self.state = state
        self.metrics.by_subject = metrics
        self._findings = findings
        self._refresh_active()

    def state_digest(self) -> str:
        """The digest of the state (see :meth:`TwinState.digest`)."""
        return self.state.digest()


def findings_by_rule(findings: Iterable[ActiveFinding]) -> Mapping[str, list[ActiveFinding]]:
    """Group active findings by rule id."""
    out: dict[str, list[ActiveFinding]] = {}
    for f in findings:
        out.setdefault(f.finding.rule, []).append(f)
    return out
