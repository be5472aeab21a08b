"""``check_plugin``: a conformance check for a twin plugin, in one call.

It asks, in order:

1. Does the plugin register cleanly in an isolated, strict plugin manager,
   with every ``twin_*`` function decorated and every hook name real?
2. Do its registration hooks return what they promise: well-formed, unique
   rule ids (``<family>.<kebab-slug>``, not in the reserved ``twin`` family,
   not clashing with a built-in), a one-line summary, known event types,
   severities for every finding id, parameters declared by some plugin (its
   own or a built-in) with a known provenance and a source, event classes,
   importers and commands that install?
3. Run on the standard smoke set (:func:`~twin.testing.builders.smoke_events`),
   do its rules yield only :class:`~twin.api.Metric` and
   :class:`~twin.api.Finding` objects, with finding ids and severities
   declared in ``raises`` and metric names declared in ``metrics``, findings
   of incremental rules only on subjects the event touched, never change the
   state, never raise, and give equal results when run twice?

Each problem is one line that names the rule and, where it helps, the seq of
the smoke event where it showed.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import attrs
import click
import pluggy

from twin import hookspecs
from twin.engine import Engine, PluginError, RegisteredRule
from twin.event_files import BUILTIN_IMPORTERS
from twin.events import Event, EventRegistry
from twin.frames import Frame
from twin.plugin_manager import GROUP, TwinPluginManager
from twin.profile import PROVENANCES, Parameter
from twin.rule_checks import METRICS, PARAMETER_NAME, RAISES, SHAPE, rule_problems
from twin.rules import Finding, Metric, RuleContext, Severity
from twin.source_context import SourceContext
from twin.testing.builders import smoke_events
from twin.testing.isolation import isolated_manager
from twin.testing.scenario import make_envelopes

HOOK_NAMES = frozenset(
    name for name in vars(hookspecs) if name.startswith("twin_") and callable(vars(hookspecs)[name])
)
_BUILTIN_SUFFIXES = frozenset(s for importer in BUILTIN_IMPORTERS for s in importer.suffixes)


class _Problems:
    """An ordered list of problems that keeps only the first of each kind."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._keys: set[Any] = set()

    def add(self, message: str, key: Any = None) -> None:
        key = message if key is None else key
        if key not in self._keys:
            self._keys.add(key)
            self.items.append(message)


def plugin_name(plugin: object) -> str:
    """The name a plugin is registered under when none is given."""
    if isinstance(plugin, ModuleType):
        return plugin.__name__
    name = getattr(plugin, "__name__", None)
    return name if isinstance(name, str) else type(plugin).__name__


def check_plugin(plugin: object, *, name: str | None = None) -> list[str]:
    """Check that a plugin keeps the plugin contract; return its problems (empty = OK).

    Args:
        plugin: the plugin module (what your entry point names) or object.
        name: the name to register it under (default: its module name).

    Returns:
        One line per problem found, in the order the checks ran.
    """
    name = name or plugin_name(plugin)
    problems = _Problems()
    try:
        _check(plugin, name, problems)
    except Exception as exc:  # the check itself must report, never raise
        problems.add(f"the check could not finish: {type(exc).__name__}: {exc}")
    return problems.items


def _check(plugin: object, name: str, problems: _Problems) -> None:
    misnamed = _check_hook_functions(plugin, problems)
    manager = isolated_manager(builtins=False, strict=True)
    try:
        info = manager.register(plugin, name=name)
        if not misnamed:  # already reported, with a suggestion
            manager.pm.check_pending()
    except (PluginError, pluggy.PluginValidationError) as exc:
        problems.add(f"does not register: {exc}")
        return
    if not info.hooks:
        problems.add("implements no twin hook (decorate functions with twin.api.hookimpl)")
        return

    base = _baseline(plugin, name)
    rules = _collected(manager, "twin_register_rules", problems)
    event_types = _collected(manager, "twin_register_event_types", problems)
    parameters = _collected(manager, "twin_register_parameters", problems)
    importers = _collected(manager, "twin_register_importers", problems)
    _check_commands(manager, problems)

    registry = _check_event_types(event_types, base.event_registry(), problems)
    declared = _check_parameters(parameters, base, problems)
    good_rules = _check_rules(rules, base, registry, declared, problems, ours=_ours(plugin))
    _check_importers(importers, problems)

    if good_rules or "twin_frame_evaluated" in info.hooks:
        _check_smoke(plugin, name, good_rules, problems)


def assert_plugin_ok(plugin: object, *, name: str | None = None) -> None:
    """Fail (``AssertionError``) with every problem :func:`check_plugin` finds.

    Args:
        plugin: the plugin module or object.
        name: the name to register it under (default: its module name).
    """
    problems = check_plugin(plugin, name=name)
    if problems:
        shown = name or plugin_name(plugin)
        lines = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"plugin {shown} has {len(problems)} problem(s):\n{lines}")


# -- registration -------------------------------------------------------------------------------


def _check_hook_functions(plugin: object, problems: _Problems) -> bool:
    """Catch the two classic slips: a missing ``@hookimpl`` and a misspelt hook name.

    Returns:
        True if a function marked ``@hookimpl`` has a name that is no twin hook.
    """
    probe = pluggy.PluginManager(hookspecs.PROJECT)
    misnamed = False
    for attr in sorted(dir(plugin)):
        if attr.startswith("__"):
            continue
        try:
            value = getattr(plugin, attr)
        except Exception:  # a property that raises is not a hook
            continue
        if not callable(value):
            continue
        marked = probe.parse_hookimpl_opts(plugin, attr) is not None
        if attr in HOOK_NAMES and not marked:
            problems.add(
                f"{attr} is not decorated with @hookimpl (from twin.api import hookimpl), "
                "so the twin never calls it"
            )
        elif attr not in HOOK_NAMES and marked:
            hint = difflib.get_close_matches(attr, HOOK_NAMES, n=1)
            tail = f"; did you mean {hint[0]}?" if hint else ""
            problems.add(f"{attr} is marked @hookimpl but is not a twin hook{tail}")
            misnamed = True
    return misnamed


def _collected(manager: TwinPluginManager, hook: str, problems: _Problems) -> list[Any]:
    """Everything the plugin returned from a registration hook, flattened."""
    try:
        results = manager.collect(hook)
    except PluginError as exc:
        problems.add(f"{hook} raised: {exc.__cause__ or exc}")
        return []
    items: list[Any] = []
    for _plugin, result in results:
        if isinstance(result, str | bytes | Mapping) or not isinstance(result, Iterable):
            problems.add(
                f"{hook} must return an iterable (a list is fine), not {type(result).__name__}"
            )
            continue
        try:
            items.extend(result)
        except Exception as exc:
            problems.add(f"{hook} raised while its result was read: {type(exc).__name__}: {exc}")
    return items


def _check_commands(manager: TwinPluginManager, problems: _Problems) -> None:
    group = click.Group("twin")
    try:
        manager.add_commands(group, SourceContext(lambda: manager))
    except PluginError as exc:
        problems.add(f"twin_register_commands raised: {exc.__cause__ or exc}")


def _baseline(plugin: object, name: str) -> TwinPluginManager:
    """The built-ins the plugin will live beside (without the plugin itself, if it is one)."""
    block = {name}
    module = plugin.__name__ if isinstance(plugin, ModuleType) else None
    for ep in entry_points(group=GROUP):
        if module is not None and ep.value.split(":")[0] == module:
            block.add(ep.name)
    return TwinPluginManager(autoload=False, allow=(), block=block, strict=False, builtins=True)


def _check_event_types(
    classes: list[Any], base: EventRegistry, problems: _Problems
) -> EventRegistry:
    registry = EventRegistry([cls for n in base.names() if (cls := base.get(n)) is not None])
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, Event)):
            problems.add(f"event type {cls!r} is not a subclass of twin.api.Event")
            continue
        is_attrs_class = attrs.has(cls)  # (not in the `if`: it would narrow away Event)
        if not is_attrs_class:
            problems.add(f"event class {cls.__name__} is not an attrs class (use @attrs.frozen)")
            continue
        if cls.event_type in base:
            problems.add(
                f"event class {cls.__name__} reuses the event type {cls.event_type!r}, "
                "which the twin or a built-in plugin already defines"
            )
            continue
        try:
            registry.register(cls)
        except ValueError as exc:
            problems.add(str(exc))
    return registry


def _check_parameters(
    parameters: list[Any], base: TwinPluginManager, problems: _Problems
) -> dict[str, Parameter]:
    """Problems with the plugin's own parameters; returns every parameter known."""
    known = {p.name: p for p in base.parameters()}
    own: dict[str, Parameter] = {}
    for p in parameters:
        if not isinstance(p, Parameter):
            problems.add(f"{p!r} is not a twin.api.Parameter (make one with twin.api.parameter)")
            continue
        where = f"parameter {p.name!r}"
        if not isinstance(p.name, str) or not PARAMETER_NAME.match(p.name):
            problems.add(f"{where}: the name is not a dotted lowercase id such as family.name")
        if p.provenance not in PROVENANCES:
            problems.add(f"{where}: provenance must be one of {', '.join(PROVENANCES)}")
        if not p.source:
            problems.add(f"{where}: no source (say where the number comes from)")
        if not p.unit:
            problems.add(f"{where}: no unit")
        low, value, high = p.band
        if not low <= value <= high:
            problems.add(f"{where}: the band must hold the value (low ≤ value ≤ high)")
        if p.name in own and own[p.name] != p:
            problems.add(f"{where} is declared twice, differently")
        if p.name in known and known[p.name] != p:
            problems.add(f"{where} is already declared, differently, by a built-in plugin")
        own[p.name] = p
    return {**known, **own}


def _ours(plugin: object) -> bool:
    """True for a module of maestro-twin's own ``plugins`` package (its built-ins)."""
    name = getattr(plugin, "__name__", "")
    return isinstance(name, str) and name.split(".", 1)[0] == "plugins"


def _check_rules(
    rules: list[Any],
    base: TwinPluginManager,
    registry: EventRegistry,
    declared: Mapping[str, Parameter],
    problems: _Problems,
    *,
    ours: bool = False,
) -> list[Any]:
    """Problems with the rules' declarations; returns the rules fit to run.

    ``ours``: a built-in of maestro-twin, which may use the reserved ``twin`` family.
    """
    builtin_rules = {r.id: r for r in base.rules()}
    produced = {m for r in builtin_rules.values() for m in r.rule.metrics}
    for r in rules:
        if isinstance(getattr(r, "metrics", None), Mapping):
            produced.update(r.metrics)
    seen: set[str] = set()
    good = []
    for rule in rules:
        label = f"rule {getattr(rule, 'id', rule)!r}"
        found = rule_problems(rule, event_types=registry, parameters=declared, reserved_ok=ours)
        shape = [p for p in found if p.kind == SHAPE]
        for problem in shape:
            problems.add(f"{label}: {problem.text}")
        if shape:
            continue
        rule_id = rule.id
        ok = True
        if rule_id in seen:
            problems.add(f"{label}: the id is registered twice")
            ok = False
        elif rule_id in builtin_rules:
            problems.add(
                f"{label}: the id is already taken by the built-in plugin "
                f"{builtin_rules[rule_id].plugin}"
            )
            ok = False
        seen.add(rule_id)
        for problem in found:
            problems.add(f"{label}: {problem.text}")
            if problem.kind in (RAISES, METRICS) or problem.text.startswith("events must"):
                ok = False  # unfit even for the smoke run
        for metric_name in getattr(rule, "reads", ()) or ():
            if metric_name not in produced:
                problems.add(f"{label}: reads metric {metric_name!r}, which no rule computes")
        if ok:
            good.append(rule)
    return good


def _check_importers(importers: list[Any], problems: _Problems) -> None:
    for importer in importers:
        label = f"importer {getattr(importer, 'name', importer)!r}"
        if not isinstance(getattr(importer, "name", None), str):
            problems.add(f"{label}: needs a name (str)")
        suffixes = getattr(importer, "suffixes", None)
        if isinstance(suffixes, str) or not isinstance(suffixes, Iterable):
            problems.add(f"{label}: suffixes must be a tuple of file name endings such as '.log'")
        else:
            for suffix in suffixes:
                if not isinstance(suffix, str) or not suffix.startswith("."):
                    problems.add(f"{label}: suffix {suffix!r} must start with '.'")
                elif suffix.lower() in _BUILTIN_SUFFIXES:
                    problems.add(
                        f"{label}: claims {suffix}, which the built-in reader handles; plugin "
                        "importers are tried first and would take those files over"
                    )
        if not callable(getattr(importer, "read", None)):
            problems.add(f"{label}: needs a read(path) method")


# -- the smoke run ------------------------------------------------------------------------------


def _normal(value: float) -> Any:
    return "nan" if isinstance(value, float) and math.isnan(value) else value


@attrs.define
class _Recorder:
    """Wraps a plugin's rule: checks and records what it reports, and survives its crashes.

    It sees both ways of reporting: objects returned (plugin API 0.1) and what the
    rule writes through the context (``ctx.metric``, ``ctx.finding``), which it
    checks and passes on to the engine.
    """

    rule: Any
    problems: _Problems
    log: list[tuple[Any, ...]]
    id: str = attrs.field(init=False)
    summary: str = attrs.field(init=False)
    events: Any = attrs.field(init=False)
    parameters: Any = attrs.field(init=False)
    raises: Any = attrs.field(init=False)
    metrics: Any = attrs.field(init=False)
    incremental: bool = attrs.field(init=False)
    doc: str = attrs.field(init=False)
    reads: tuple[str, ...] = attrs.field(init=False)
    per_member: Mapping[str, Any] = attrs.field(init=False)
    wrote: bool = attrs.field(init=False, default=False)
    silent_at: str | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        r = self.rule
        self.id, self.summary, self.events = r.id, r.summary, r.events
        self.parameters, self.raises, self.metrics = r.parameters, r.raises, r.metrics
        self.incremental, self.doc = bool(r.incremental), getattr(r, "doc", "")
        self.reads = tuple(getattr(r, "reads", ()) or ())
        self.per_member = dict(getattr(r, "per_member", None) or {})

    def evaluate(self, ctx: RuleContext) -> list[Metric | Finding]:
        label = f"rule {self.id!r}"
        where = f"at seq {ctx.seq} ({ctx.type})"
        before = ctx.state.digest()
        written: dict[str, dict[str, Any]] = {}
        found: list[Any] = []
        spy = ctx.replace(_buckets=written, _found=found)
        try:
            output = self.rule.evaluate(spy)
            items: list[Any] = [] if output is None else list(output)
        except Exception as exc:
            self.problems.add(
                f"{label} raised {type(exc).__name__}: {exc} {where}", key=(self.id, "raised")
            )
            self.log.append((ctx.seq, self.id, "raised", type(exc).__name__, str(exc)))
            return []
        if output is None and not written and not found and self.silent_at is None:
            self.silent_at = where
        if written or found:
            self.wrote = True
        if ctx.state.digest() != before:
            self.problems.add(
                f"{label} changed the state {where}; rules only read ctx.state",
                key=(self.id, "mutated"),
            )
        for subject, names in written.items():
            for name, stored in names.items():
                value, low, high = stored if isinstance(stored, tuple) else (stored,) * 3
                metric = Metric(subject, name, value, low, high)
                items.append(metric)
        explicit: set[int] = set()  # ctx.finding(..., severity=...): an escalation (0.2)
        for finding_id, subject, severity, message, evidence in found:
            chosen = severity is not None and isinstance(severity, Severity)
            if severity is None:
                severity = self.raises.get(finding_id)
            finding = Finding(
                finding_id,
                severity if severity is not None else Severity.WARNING,
                subject,
                None,
                evidence,
                render=message,
            )
            if severity is None:
                finding.severity = None  # type: ignore[assignment]  # reported below
            elif chosen:
                explicit.add(id(finding))
            items.append(finding)
        self._check_per_member(ctx, label, where)
        kept: list[Metric | Finding] = []
        for item in items:
            if isinstance(item, Metric):
                self._check_metric(item, label, where)
                kept.append(item)
                self.log.append(
                    (
                        ctx.seq,
                        self.id,
                        "metric",
                        item.subject,
                        item.name,
                        _normal(item.value),
                        _normal(item.low),
                        _normal(item.high),
                    )
                )
            elif isinstance(item, Finding):
                self._check_finding(item, ctx, label, where, id(item) in explicit)
                if item.severity is None:
                    continue
                kept.append(item)
                self.log.append(
                    (
                        ctx.seq,
                        self.id,
                        "finding",
                        item.rule,
                        item.severity,
                        item.subject,
                        item.message,
                    )
                )
            else:
                self.problems.add(
                    f"{label} yielded a {type(item).__name__} {where}; rules yield only "
                    "Metric and Finding objects",
                    key=(self.id, "type", type(item).__name__),
                )
        return kept

    def _check_per_member(self, ctx: RuleContext, label: str, where: str) -> None:
        """Compute the rule's per-member metrics for the members the event touched."""
        for name, function in self.per_member.items():
            if name not in self.metrics:
                self.problems.add(
                    f"{label} computes per-member metric {name!r}, which is not declared in its "
                    "metrics",
                    key=(self.id, "metric", name),
                )
            for member_id in ctx.changes.touched_members():
                member = ctx.state.members.get(member_id)
                if member is None:
                    continue
                try:
                    value = function(ctx, member)
                except Exception as exc:
                    self.problems.add(
                        f"{label}: per-member metric {name!r} raised {type(exc).__name__}: {exc} "
                        f"{where}",
                        key=(self.id, "per-member", name),
                    )
                    continue
                triple = value if isinstance(value, tuple) else (value, value, value)
                if len(triple) != 3:
                    self.problems.add(
                        f"{label}: per-member metric {name!r} is neither a number nor "
                        f"(value, low, high) {where}",
                        key=(self.id, "per-member-shape", name),
                    )
                    continue
                metric = Metric(f"member:{member_id}", name, *triple)
                self._check_metric(metric, label, where)
                self.log.append(
                    (ctx.seq, self.id, "per-member", metric.subject, name, _normal(metric.value))
                )

    def _check_metric(self, item: Metric, label: str, where: str) -> None:
        if item.name not in self.metrics:
            self.problems.add(
                f"{label} computed metric {item.name!r} {where}, which is not declared in its "
                "metrics",
                key=(self.id, "metric", item.name),
            )
        if not isinstance(item.subject, str) or not item.subject:
            self.problems.add(
                f"{label}: metric {item.name!r} has no subject {where}",
                key=(self.id, "metric-subject"),
            )
        numbers = (item.value, item.low, item.high)
        if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in numbers):
            self.problems.add(
                f"{label}: metric {item.name!r} is not a number {where}",
                key=(self.id, "metric-type", item.name),
            )
        elif any(math.isnan(x) for x in numbers):
            self.problems.add(
                f"{label}: metric {item.name!r} is NaN {where}",
                key=(self.id, "metric-nan", item.name),
            )
        elif item.low > item.high:
            self.problems.add(
                f"{label}: metric {item.name!r} has low > high {where}",
                key=(self.id, "metric-band", item.name),
            )

    def _check_finding(
        self, item: Finding, ctx: RuleContext, label: str, where: str, chosen: bool = False
    ) -> None:
        """Check one finding; ``chosen``: its severity was passed to ``ctx.finding``."""
        declared = self.raises.get(item.rule)
        if declared is None:
            self.problems.add(
                f"{label} raised finding {item.rule!r} {where}, which is not declared in its "
                "raises",
                key=(self.id, "finding", item.rule),
            )
        elif item.severity is None or chosen:
            pass
        elif item.severity is not declared:
            shown = getattr(item.severity, "value", item.severity)
            self.problems.add(
                f"{label} raised {item.rule!r} as {shown} {where}, but declares it "
                f"{declared.value} (to escalate, pass severity= to ctx.finding)",
                key=(self.id, "severity", item.rule),
            )
        if not isinstance(item.subject, str) or not item.subject:
            self.problems.add(
                f"{label}: finding {item.rule!r} has no subject {where}",
                key=(self.id, "finding-subject"),
            )
        elif self.incremental and item.subject not in ctx.changes.subjects:
            self.problems.add(
                f"{label} is incremental but raised {item.rule!r} on {item.subject} {where}, "
                "a subject the event did not touch; judge only ctx.changes.subjects",
                key=(self.id, "scope"),
            )
        if not isinstance(item.message, str) or not item.message.strip():
            self.problems.add(
                f"{label}: finding {item.rule!r} has no message {where}", key=(self.id, "message")
            )


def _observer(
    function: Callable[[Frame], Any], plugin: str, problems: _Problems, log: list[tuple[Any, ...]]
) -> Callable[[Frame], None]:
    def observe(frame: Frame) -> None:
        try:
            function(frame)
        except Exception as exc:
            problems.add(
                f"frame observer {function.__name__} raised {type(exc).__name__}: {exc} "
                f"at seq {frame.seq}",
                key=(plugin, "observer", function.__name__),
            )
            log.append((frame.seq, function.__name__, "raised"))

    return observe


def _smoke_run(plugin: object, name: str, rule_ids: set[str], problems: _Problems) -> list[Any]:
    """Run the plugin beside the built-ins on the smoke set; return what its rules did."""
    base = _baseline(plugin, name)
    manager = TwinPluginManager(
        autoload=False, allow=(), block=base.block - {name}, strict=False, builtins=True
    )
    manager.register(plugin, name=name)
    log: list[tuple[Any, ...]] = []
    rules = [
        RegisteredRule(_Recorder(r.rule, problems, log), r.plugin)
        if r.plugin == name and r.id in rule_ids
        else r
        for r in manager.rules()
        if r.plugin != name or r.id in rule_ids
    ]
    impls = manager.pm.hook.twin_frame_evaluated.get_hookimpls()
    observers = [_observer(i.function, name, problems, log) for i in impls if i.plugin_name == name]
    engine = Engine(rules, manager.profile(), strict=False, observers=observers)
    for _frame in engine.run(make_envelopes(smoke_events(), manager.event_registry())):
        pass
    for registered in rules:
        recorder = registered.rule
        if (
            isinstance(recorder, _Recorder)
            and recorder.silent_at
            and not recorder.wrote
            and not (recorder.metrics or recorder.raises)
        ):
            # It declares nothing it could report, and reported nothing: a rule that
            # forgot to return (0.1) or to write through the context (0.2).
            problems.add(
                f"rule {recorder.id!r}: evaluate returned None {recorder.silent_at}, wrote "
                "nothing through ctx.metric or ctx.finding and declares no metrics or raises; "
                "report through the context (or return metrics and findings)",
                key=(recorder.id, "none"),
            )
    return log


def _check_smoke(plugin: object, name: str, rules: list[Any], problems: _Problems) -> None:
    rule_ids = {r.id for r in rules}
    try:
        first = _smoke_run(plugin, name, rule_ids, problems)
        second = _smoke_run(plugin, name, rule_ids, _Problems())
    except Exception as exc:
        problems.add(f"the smoke run failed: {type(exc).__name__}: {exc}")
        return
    if first != second:
        index = next(
            (i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b),
            min(len(first), len(second)),
        )
        shown = first[index] if index < len(first) else second[index]
        problems.add(
            f"not deterministic: a second run of the smoke set differed, first at seq "
            f"{shown[0]} ({shown[1]}); rules must not keep state of their own, read the "
            "clock or use unseeded randomness"
        )
