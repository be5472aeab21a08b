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

import operator
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from twin import snapshot_codec
from twin.bulk import quiet_gc
from twin.envelope import Envelope
from twin.errors import TwinError
from twin.events import Note, OpaqueEvent
from twin.frames import Frame, MetricStore
from twin.profile import Profile
from twin.reducer import Changes, apply
from twin.rules import (
    ActiveFinding,
    Finding,
    FunctionRule,
    MemberMetric,
    MessageSource,
    Metric,
    PendingFinding,
    Rule,
    RuleContext,
    Severity,
)
from twin.segments import (
    MIN_SEGMENT,
    ChangeSource,
    Segment,
    SegmentChanges,
    SegmentFinding,
    SegmentMetrics,
    _at,
    end_state,
    load_columns,
    runs,
)
from twin.state import TwinState

CRASHED = "twin.rule-crashed"
UNKNOWN_TYPE = "twin.unknown-event-type"
ENGINE_PLUGIN = "twin"


class PluginError(TwinError):
    """A plugin failed in strict mode (exit code 3)."""


class _Undeclared(Exception):
    """A rule raised a finding it does not declare (reported like a crash)."""


_FINDING = "\x00finding"
"""Evidence key under which a 0.1 rule's own :class:`Finding` object travels to the fold."""


def _as_is(evidence: Mapping[str, Any]) -> str:
    """Marks a finding a 0.1 rule built itself (its message is its own)."""
    return ""


_AS_IS: MessageSource = _as_is


def _make_finding(
    finding_id: str,
    severity: Severity,
    subject: str,
    message: MessageSource,
    evidence: Mapping[str, Any],
) -> Finding:
    if message is _AS_IS:
        made: Finding = evidence[_FINDING]
        return made
    return Finding(finding_id, severity, subject, None, evidence, render=message)


@attrs.frozen(slots=True)
class RegisteredRule:
    """A rule and the plugin that supplied it."""

    rule: Rule
    plugin: str

    @property
    def id(self) -> str:
        """The rule's id."""
        return self.rule.id


def batch_of(rule: Rule) -> Callable[[Segment], None] | None:
    """A rule's batch method: ``evaluate_segment``, or a function rule's ``segment``."""
    if type(rule) is FunctionRule:
        return rule.segment
    found = getattr(rule, "evaluate_segment", None)
    return found if callable(found) else None


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
    return (-_RANK[f.severity], f.rule, f.subject)


_RANK = {severity: severity.rank for severity in Severity}
_subject_of = operator.itemgetter(1)
_EMPTY: tuple[ActiveFinding, ...] = ()
_new_frame = tuple.__new__  # Frame is a tuple underneath: skip its argument parsing
_NOTHING: Mapping[tuple[str, str], ActiveFinding] = {}

FindingKey = tuple[str, str]
"""(finding rule id, subject)."""


class Engine:
    """Applies events and evaluates rules; holds the state, metrics and findings.

    Args:
        rules: the rules to run (any order; they run sorted by id).
        profile: the parameter values in use.
        strict: re-raise a rule's exception (as :class:`PluginError`) instead of
            turning it into a ``twin.rule-crashed`` finding.
        observers: functions called with every frame.
        lazy: compute ``per_member`` metrics when they are read (the default).
            False stores them instead, for the members each event touched, as
            0.1-style rules did: the same numbers at a higher cost (tests compare).
    """

    def __init__(
        self,
        rules: Iterable[RegisteredRule],
        profile: Profile,
        *,
        strict: bool = False,
        observers: Sequence[Callable[[Frame], Any]] = (),
        lazy: bool = True,
    ) -> None:
        self.rules: tuple[RegisteredRule, ...] = order_rules(rules)
        self.profile = profile
        self.strict = strict
        self.observers = tuple(observers)
        self.lazy = lazy
        self.metrics = MetricStore()
        self._state = TwinState()
        self._ctx = RuleContext(
            event=Note(text="-"),
            type="",
            seq=0,
            occurred_at="",
            state=self._state,
            changes=Changes(),
            profile=profile,
            metrics=self.metrics,
        )
        self._computed: dict[str, tuple[RegisteredRule, MemberMetric]] = {}
        for registered in self.rules:
            for name, function in (getattr(registered.rule, "per_member", None) or {}).items():
                self._computed.setdefault(name, (registered, function))
        if lazy:
            self.metrics.compute_on_read({n: f for n, (_r, f) in self._computed.items()}, self._ctx)
        self._findings: dict[str, dict[FindingKey, ActiveFinding]] = {}
        self._active: tuple[ActiveFinding, ...] = ()
        self._position: dict[tuple[str, FindingKey], int] = {}
        self._by_type: dict[str, tuple[RegisteredRule, ...]] = {}
        self._call_plans: dict[int, tuple[Sequence[RegisteredRule], Any]] = {}
        self._observer_failed: set[int] = set()
        self._dirty = False

    @property
    def state(self) -> TwinState:
        """The twin after the last event (read-only for everyone but the reducer)."""
        return self._state

    @state.setter
    def state(self, state: TwinState) -> None:
        self._state = state
        self._ctx.state = state

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

    def _calls(
        self, rules: Sequence[RegisteredRule]
    ) -> tuple[tuple[RegisteredRule, Callable[[RuleContext], Any], str], ...]:
        """What the loop calls for ``rules``: a function rule's function directly (cached)."""
        key = id(rules)
        found = self._call_plans.get(key)
        if found is None or found[0] is not rules:
            calls = tuple(
                (
                    r,
                    r.rule.function if type(r.rule) is FunctionRule else r.rule.evaluate,
                    r.rule.id,
                )
                for r in rules
            )
            found = self._call_plans[key] = (rules, calls)
        return found[1]

    def step(self, envelope: Envelope) -> Frame:
        """Apply one event, run its rules and return the frame after it.

        Raises:
            InvalidEventError: the event does not fit the state (a journal
                written by another tool, or a plan step that does not apply).
            PluginError: a rule raised, in strict mode.
        """
        changes = apply(
            self._state, envelope.event, seq=envelope.seq, occurred_at=envelope.occurred_at
        )
        return self._evaluate(envelope, changes, self.rules_for(envelope.type))

    def run(
        self, envelopes: Iterable[Envelope], *, bulk: bool = False, cut: int = 0
    ) -> Iterator[Frame]:
        """Step through ``envelopes``, yielding each frame.

        Args:
            envelopes: the events, in order.
            bulk: a long replay: quiet the garbage collector meanwhile
                (:func:`twin.bulk.quiet_gc`) and evaluate runs of load events as
                segments (:mod:`twin.segments`) when every rule that runs for them
                can; the frames are the same.
            cut: with ``bulk``, end segments after seqs that are multiples of this
                (so that the engine is at such a seq after yielding its frame, as a
                replay taking snapshots needs).
        """
        step = self.step
        if not bulk:
            for envelope in envelopes:
                yield step(envelope)
            return
        with quiet_gc():
            for is_run, events in runs(envelopes, cut):
                frames = self._segment(events) if is_run and len(events) >= MIN_SEGMENT else None
                if frames is None:
                    for envelope in events:
                        yield step(envelope)
                    continue
                if self.observers:
                    for frame in frames:
                        self._notify(frame)
                        yield frame
                else:
                    yield from frames

    # -- segments ----------------------------------------------------------------------------

    def segments_possible(self) -> bool:
        """True if every rule that runs for loads has a batch method (``evaluate_segment``)."""
        return all(batch_of(r.rule) is not None for r in self.rules_for("load_changed"))

    def _segment(self, events: list[Envelope]) -> list[Frame] | None:
        """The frames of a run of load events, evaluated as columns; None to go event by event.

        The engine ends at the run's last event, exactly as stepping would leave it.
        """
        if not self.segments_possible():
            return None
        state = self._state
        loads = load_columns(state, events)
        if loads is None:
            return None  # something the reducer refuses: stepping says what
        rules = self.rules_for("load_changed")
        seg = Segment(state, loads, self.profile, self.metrics.value, self.metrics.get)
        try:
            for registered in rules:
                seg._rule = registered
                batch = batch_of(registered.rule)
                assert batch is not None
                batch(seg)
        except (Exception, SystemExit):
            return None  # stepping runs the rule again and reports what it raises
        timeline = self._findings_timeline(rules, seg, events)
        if timeline is None:
            return None
        by_subject: dict[str, list[str]] = {}
        for subject, name in seg.columns:
            by_subject.setdefault(subject, []).append(name)
        base = self.metrics
        frames = []
        new = _new_frame
        source = ChangeSource(state, loads)
        for i, envelope in enumerate(events):
            active, raised, cleared = timeline[i]
            frames.append(
                new(
                    Frame,
                    (
                        envelope.seq,
                        envelope,
                        SegmentChanges(source, i),
                        SegmentMetrics(base, seg.columns, by_subject, i),
                        active,
                        raised,
                        cleared,
                    ),
                )
            )
        end_state(state, loads, events[-1])
        lazy = self._computed if self.lazy else {}
        last = len(events) - 1
        for (subject, name), (value, low, high) in seg.columns.items():
            if name in lazy and subject[:7] == "member:":
                continue
            v = _at(value, last)
            if low is value and high is value and v == v:  # no band (and not NaN)
                base.set(subject, name, v)
                continue
            lo, hi = _at(low, last), _at(high, last)
            if lo == v == hi:
                base.set(subject, name, v)
            else:
                base.set(subject, name, v, lo, hi)
        return frames

    def _findings_timeline(
        self, rules: Sequence[RegisteredRule], seg: Segment, events: list[Envelope]
    ) -> (
        list[tuple[tuple[ActiveFinding, ...], tuple[ActiveFinding, ...], tuple[ActiveFinding, ...]]]
        | None
    ):
        """The active findings, raised and cleared after each event of a segment.

        Leaves the engine's finding stores as they are after the last event.
        """
        size = len(events)
        changes: dict[int, list[tuple[str, str, FindingKey, Any]]] = {}

        def note(i: int, kind: str, owner: str, key: FindingKey, item: Any) -> None:
            changes.setdefault(i, []).append((kind, owner, key, item))

        reported: dict[str, dict[FindingKey, SegmentFinding]] = {}
        for item in seg.found:
            reported.setdefault(item.rule.id, {})[(item.finding_id, item.subject)] = item
        crashed = self._findings.get(CRASHED)
        for registered in rules:
            rule = registered.rule
            store = self._findings.get(rule.id, {})
            mine = reported.get(rule.id, {})
            if crashed and (CRASHED, f"rule:{rule.id}") in crashed:
                note(0, "recovered", rule.id, (CRASHED, f"rule:{rule.id}"), None)
            if not rule.incremental:
                for key in store:
                    if key not in mine:
                        note(0, "-", rule.id, key, None)
            for key, item in mine.items():
                severity = item.severity or rule.raises.get(item.finding_id)
                if severity is None:
                    return None  # undeclared: stepping reports it as a crash
                item.severity = severity
                if not item.anywhere():  # most findings: nothing to compute per event
                    if key in store:
                        note(0, "-", rule.id, key, None)
                    continue
                holds = np.broadcast_to(np.asarray(item.holds, dtype=bool), (size,))
                before = key in store
                previous = np.concatenate(([before], holds[:-1]))
                for i in np.flatnonzero(holds & ~previous).tolist():
                    note(i, "+", rule.id, key, item)
                for i in np.flatnonzero(~holds & previous).tolist():
                    note(i, "-", rule.id, key, None)
                if not holds.any():
                    continue
                moved = np.zeros(size, dtype=bool)
                for value in item.evidence.values():
                    if isinstance(value, np.ndarray) and value.shape == (size,):
                        moved[1:] |= value[1:] != value[:-1]
                if before and holds[0]:
                    was = store[key].finding
                    if (
                        was._render is not item.message
                        or was.severity is not severity
                        or was.evidence != item.at(0)
                    ):
                        moved[0] = True
                for i in np.flatnonzero(moved & holds & previous).tolist():
                    note(i, "=", rule.id, key, item)
        out = []
        active = self._active
        quiet = (active, _EMPTY, _EMPTY)
        for i in range(size):
            todo = changes.get(i)
            if todo is None:
                out.append(quiet)
                continue
            seq = events[i].seq
            raised: list[ActiveFinding] = []
            cleared: list[ActiveFinding] = []
            replaced: list[tuple[tuple[str, FindingKey], ActiveFinding]] = []
            by_rule: dict[str, list[tuple[str, FindingKey, Any]]] = {}
            for kind, owner, key, item in todo:
                by_rule.setdefault(owner, []).append((kind, key, item))
            for registered in rules:
                rule_id = registered.id
                mine_now = by_rule.get(rule_id)
                if mine_now is None:
                    continue
                store = self._findings.setdefault(rule_id, {})
                clearing = {key for kind, key, _item in mine_now if kind == "-"}
                if clearing:
                    for key in [k for k in store if k in clearing]:
                        cleared.append(store.pop(key))
                arriving = [(key, item) for kind, key, item in mine_now if kind in "+="]
                arriving.sort(key=lambda pair: pair[1].subject)
                for key, item in arriving:
                    finding = Finding(
                        item.finding_id,
                        item.severity,
                        item.subject,
                        None,
                        item.at(i),
                        render=item.message,
                    )
                    old = store.get(key)
                    if old is None:
                        made = store[key] = ActiveFinding(finding, seq, registered.plugin)
                        raised.append(made)
                        continue
                    made = store[key] = ActiveFinding(finding, old.since, registered.plugin)
                    if (
                        old.finding.severity is finding.severity
                        and (
                            rule_id,
                            key,
                        )
                        in self._position
                    ):
                        replaced.append(((rule_id, key), made))
                    else:
                        self._dirty = True
                if any(kind == "recovered" for kind, _key, _item in mine_now):
                    crash_store = self._findings[CRASHED]
                    cleared.append(crash_store.pop((CRASHED, f"rule:{rule_id}")))
            if raised or cleared or self._dirty:
                self._refresh_active()
            elif replaced:
                listed = list(self._active)
                for where, made in replaced:
                    listed[self._position[where]] = made
                self._active = tuple(listed)
            active = self._active
            quiet = (active, _EMPTY, _EMPTY)
            out.append((active, tuple(raised) or _EMPTY, tuple(cleared) or _EMPTY))
        return out

    def evaluate_everything(self, envelope: Envelope) -> Frame:
        """Re-run every rule on the current state as if every subject had changed.

        The result must equal what incremental evaluation reached (a tested
        invariant); it is also how a state restored without metrics gets them.
        """
        changes = Changes()
        changes.subjects.update(self._state.graph.nodes)
        changes.subjects.update(f"link:{k}" for k in self._state.links)
        changes.subjects.add("system")
        return self._evaluate(envelope, changes, self.rules)

    def _evaluate(
        self, envelope: Envelope, changes: Changes, rules: Sequence[RegisteredRule]
    ) -> Frame:
        seq = envelope.seq
        raised: list[ActiveFinding] = []
        cleared: list[ActiveFinding] = []
        replaced: list[tuple[tuple[str, FindingKey], ActiveFinding]] = []
        removed = changes.removed
        if removed:
            drop = self.metrics.buckets.pop
            for subject in removed:
                drop(subject, None)
        ctx = self._ctx
        ctx.event = envelope.event
        ctx.type = envelope.type
        ctx.seq = seq
        ctx.occurred_at = envelope.occurred_at
        ctx.changes = changes
        found = ctx._found
        stores = self._findings
        for registered, evaluate, rule_id in self._calls(rules):
            held = stores.get(rule_id)
            ctx._held = held or _NOTHING
            try:
                output = evaluate(ctx)
                if output is not None:
                    self._adapt(registered, output)
            except (Exception, SystemExit) as exc:  # a rule's sys.exit() ends no replay
                found.clear()
                if self.strict:
                    raise PluginError(
                        f"rule {rule_id} (plugin {registered.plugin}) raised at seq {seq}: "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                self._crashed(registered, seq, exc, raised)
                continue
            if found or held:
                try:
                    self._fold(registered, found, changes, seq, raised, cleared, replaced)
                except _Undeclared as problem:
                    found.clear()
                    if self.strict:
                        raise PluginError(f"rule {rule_id} {problem}") from None
                    self._crashed(registered, seq, problem, raised)
                    continue
                found.clear()
            if CRASHED in stores:
                self._recovered(registered, cleared)
            if not self.lazy and self._computed:
                self._store_computed(registered)
        if type(envelope.event) is OpaqueEvent:
            self._unknown_type(envelope, raised)
        if removed:
            self._drop_subjects(removed, cleared)
        if raised or cleared or self._dirty:
            self._refresh_active()
        elif replaced:
            active = list(self._active)
            position = self._position
            for key, new in replaced:
                active[position[key]] = new
            self._active = tuple(active)
        frame = _new_frame(
            Frame,
            (
                seq,
                envelope,
                changes,
                self.metrics,
                self._active,
                tuple(raised) if raised else _EMPTY,
                tuple(cleared) if cleared else _EMPTY,
            ),
        )
        if self.observers:
            self._notify(frame)
        return frame

    def _adapt(self, registered: RegisteredRule, output: Iterable[Any]) -> None:
        """Plugin API 0.1: store returned :class:`Metric` objects, queue :class:`Finding` ones."""
        buckets = self.metrics.buckets
        found = self._ctx._found
        wrong: object = None
        for item in output:
            kind = type(item)
            if kind is Metric or isinstance(item, Metric):
                bucket = buckets.get(item.subject)
                if bucket is None:
                    bucket = buckets[item.subject] = {}
                bucket[item.name] = item
            elif kind is Finding or isinstance(item, Finding):
                found.append((item.rule, item.subject, item.severity, _AS_IS, {_FINDING: item}))
            elif wrong is None:
                wrong = item
        if wrong is not None:
            # Not silently dropped: reported like a crash, so `twin run` shows it.
            raise TypeError(
                f"yielded {type(wrong).__name__}; rules yield Metric and Finding objects"
            )

    def _store_computed(self, registered: RegisteredRule) -> None:
        """Eager mode: store the rule's per-member metrics of the members the event touched.

        Touched are the members the event changed and every member of a group it
        changed (a member's metric may follow from its group, as throughput does
        from the serving count). Any other member keeps the value stored before, as
        a 0.1 rule writing every metric itself would leave it; that this equals the
        value computed on read is what makes reading on demand correct (tested).
        """
        ctx = self._ctx
        members = self._state.members
        groups = self._state.groups
        touched = {s[7:] for s in ctx.changes.subjects if s[:7] == "member:" and s[7:] in members}
        for s in ctx.changes.subjects:
            if s[:6] == "group:" and int(s[6:]) in groups:
                touched.update(groups[int(s[6:])]["members"])  # e.g. the serving count changed
        for name, (owner, function) in self._computed.items():
            if owner is not registered:
                continue
            for member_id in sorted(touched):
                member = members[member_id]
                value = function(ctx, member)
                if isinstance(value, tuple):
                    self.metrics.set("member:" + member_id, name, *value)
                else:
                    self.metrics.set("member:" + member_id, name, value)

    # -- findings ---------------------------------------------------------------------------

    def _fold(
        self,
        registered: RegisteredRule,
        found: list[PendingFinding],
        changes: Changes,
        seq: int,
        raised: list[ActiveFinding],
        cleared: list[ActiveFinding],
        replaced: list[tuple[tuple[str, FindingKey], ActiveFinding]],
    ) -> None:
        """Fold what a rule found into its store: raise, keep (with new numbers) or clear."""
        rule = registered.rule
        rule_id = rule.id
        store = self._findings.get(rule_id)
        if store is None:
            store = self._findings[rule_id] = {}
        if len(found) > 1:
            found.sort(key=_subject_of)  # rules find in set order; raise in subject order
        new: dict[FindingKey, PendingFinding] = {}
        for item in found:
            new[(item[0], item[1])] = item
        if store:
            if rule.incremental:
                scope = changes.subjects
                gone = [k for k in store if k[1] in scope and k not in new]
            else:
                gone = [k for k in store if k not in new]
            for key in gone:
                cleared.append(store.pop(key))
        declared = rule.raises
        for key, (finding_id, subject, severity, message, evidence) in new.items():
            if severity is None:
                severity = declared.get(finding_id)
                if severity is None:
                    raise _Undeclared(
                        f"raised finding {finding_id!r}, which it does not declare in raises"
                    )
            old = store.get(key)
            if old is None:
                finding = _make_finding(finding_id, severity, subject, message, evidence)
                active = store[key] = ActiveFinding(finding, seq, registered.plugin)
                raised.append(active)
                continue
            was = old.finding
            if message is _AS_IS:
                finding = evidence[_FINDING]
                if was == finding:
                    continue
            elif was.severity is severity and was._render is message and was.evidence == evidence:
                continue
            else:
                finding = Finding(finding_id, severity, subject, None, evidence, render=message)
            # The same condition with new numbers (or a new severity): `since` stays.
            active = store[key] = ActiveFinding(finding, old.since, registered.plugin)
            if was.severity is finding.severity and (rule_id, key) in self._position:
                replaced.append(((rule_id, key), active))
            else:
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
        """Sort the active findings: only when one was raised, cleared or changed severity."""
        self._dirty = False
        everything = [
            (owner, key, active)
            for owner, store in self._findings.items()
            for key, active in store.items()
        ]
        everything.sort(key=lambda item: _finding_order(item[2]))
        self._active = tuple(item[2] for item in everything)
        self._position = {(owner, key): i for i, (owner, key, _a) in enumerate(everything)}

    @property
    def findings(self) -> tuple[ActiveFinding, ...]:
        """The findings active now, most severe first."""
        return self._active

    # -- observers ---------------------------------------------------------------------------

    def _notify(self, frame: Frame) -> None:
        for index, observer in enumerate(self.observers):
            try:
                observer(frame)
            except (Exception, SystemExit) as exc:
                if self.strict:
                    raise PluginError(f"frame observer {observer!r} raised: {exc}") from exc
                if index not in self._observer_failed:
                    self._observer_failed.add(index)
                    print(f"twin: frame observer {observer!r} raised {exc!r}", file=sys.stderr)

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        """The state, metrics and findings as bytes (a disposable cache, not an archive).

        Plain data (compressed JSON, :mod:`twin.snapshot_codec`), never a pickle:
        snapshots are read back from journals that may come from strangers. Metrics
        computed on read are not kept: they follow from the state.
        """
        return snapshot_codec.encode(self.state, self.metrics.stored(), self._findings)

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
        self.metrics.load_stored(metrics)
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
