"""Finding, loading and asking plugins: the only module that touches pluggy.

Plugins are found through the entry-point group ``maestro_twin``; our own
rule families are entry points of the ``maestro-twin`` distribution, loaded
exactly like a third party's. Each entry point is loaded on its own, so one
that fails is reported (``twin plugins``) and the rest still work.

User controls (environment, or the matching arguments):

- ``TWIN_DISABLE_PLUGIN_AUTOLOAD=1``: load no third-party entry points
  (built-ins still load);
- ``TWIN_PLUGINS=a,b``: load only these third-party plugins;
- ``--disable-plugin NAME`` (``block``): do not load NAME, built-in or not;
- ``--plugins-dir DIR`` (``plugins_dir``): also load every ``*.py`` in DIR;
- ``TWIN_STRICT_PLUGINS=1``: a plugin that fails to load, a rule that raises
  or an invalid registration raises :class:`~twin.engine.PluginError`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pluggy

from twin import hookspecs
from twin.documented_profile import NAME as DOCUMENTED
from twin.documented_profile import documented_profile
from twin.engine import Engine, PluginError, RegisteredRule
from twin.errors import TwinInputError
from twin.event_files import Importer
from twin.events import CORE_EVENTS, Event, EventRegistry
from twin.frames import Frame
from twin.profile import DEFAULT_PROFILE, Parameter, Profile, default_profile, load_profile
from twin.rule_checks import PARAMETERS, SHAPE, rule_problems

GROUP = "maestro_twin"
OUR_DISTRIBUTION = "maestro-twin"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


@attrs.define
class PluginInfo:
    """What ``twin plugins`` says about one plugin.

    Attributes:
        name: the plugin's name (entry point name, or file stem for ``--plugins-dir``).
        status: ``loaded``, ``blocked`` (by a control) or ``failed``.
        builtin: True for the rule families that ship with maestro-twin.
        distribution: the installed package that provides it.
        version: that package's version.
        origin: ``entry-point``, ``plugins-dir`` or ``registered``.
        error: why it failed, or why it is blocked.
        hooks: the hooks it implements.
        rules: the ids of the rules it registered (and that run).
        refused: one line per rule of it that was refused, and why (the plugin's
            other rules still run): ``"acme.typo: unknown event type 'load_chnged'"``.
    """

    name: str
    status: str
    builtin: bool = False
    distribution: str | None = None
    version: str | None = None
    origin: str = "entry-point"
    error: str | None = None
    hooks: list[str] = attrs.field(factory=list)
    rules: list[str] = attrs.field(factory=list)
    refused: list[str] = attrs.field(factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``twin plugins --json``."""
        return attrs.asdict(self)


@attrs.frozen
class NamedObserver:
    """A plugin's ``twin_frame_evaluated`` implementation, known by its plugin's name.

    Attributes:
        plugin: the plugin's name.
        function: the implementation.
    """

    plugin: str
    function: Callable[[Frame], Any]

    def __call__(self, frame: Frame) -> Any:
        """Pass the frame on."""
        return self.function(frame)

    def __repr__(self) -> str:
        return f"of plugin {self.plugin}"


class TwinPluginManager:
    """Loads plugins and collects what they register.

    Args:
        autoload: load third-party entry points (default: unless
            ``TWIN_DISABLE_PLUGIN_AUTOLOAD`` is set).
        allow: names of the only third-party plugins to load (default: ``TWIN_PLUGINS``).
        block: names of plugins not to load, built-in or not.
        plugins_dir: a folder of ``*.py`` plugin modules to load too.
        strict: raise on any plugin failure (default: ``TWIN_STRICT_PLUGINS``).
        builtins: load the built-in rule families (off only in tests that want
            an empty manager).
    """

    def __init__(
        self,
        *,
        autoload: bool | None = None,
        allow: Iterable[str] | None = None,
        block: Iterable[str] = (),
        plugins_dir: str | Path | None = None,
        strict: bool | None = None,
        builtins: bool = True,
    ) -> None:
        self.autoload = (
            not _env_flag("TWIN_DISABLE_PLUGIN_AUTOLOAD") if autoload is None else autoload
        )
        if allow is None and os.environ.get("TWIN_PLUGINS", "").strip():
            allow = [n.strip() for n in os.environ["TWIN_PLUGINS"].split(",") if n.strip()]
        self.allow = None if allow is None else set(allow)
        self.block = set(block)
        self.plugins_dir = None if plugins_dir is None else Path(plugins_dir)
        self.strict = _env_flag("TWIN_STRICT_PLUGINS") if strict is None else strict
        self.builtins = builtins
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._loaded = False
        self._rules: list[RegisteredRule] | None = None
        self._registry: EventRegistry | None = None
        self._parameters: list[Parameter] | None = None
        self._importers: list[Importer] | None = None
        self._settled = False

    # -- loading -----------------------------------------------------------------------------

    def load(self) -> TwinPluginManager:
        """Load entry points and the plugins folder (once). Returns self."""
        if self._loaded:
            return self
        self._loaded = True
        for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
            self._load_entry_point(ep)
        if self.plugins_dir is not None:
            self._load_folder(self.plugins_dir)
        return self

    def _load_entry_point(self, ep: EntryPoint) -> None:
        dist = ep.dist.name if ep.dist is not None else None
        version = ep.dist.version if ep.dist is not None else None
        builtin = dist is not None and dist.lower().replace("_", "-") == OUR_DISTRIBUTION
        info = PluginInfo(ep.name, "loaded", builtin, dist, version, "entry-point")
        if ep.name in self.infos:
            return  # the same entry point seen twice (e.g. an editable install)
        self.infos[ep.name] = info
        blocked = self._why_blocked(ep.name, builtin)
        if blocked:
            info.status, info.error = "blocked", blocked
            return
        try:
            module = ep.load()
        except (Exception, SystemExit) as exc:  # a plugin may not end the twin by exiting
            self._failed(info, f"{type(exc).__name__}: {exc}", exc)
            return
        self._register(module, info)

    def _why_blocked(self, name: str, builtin: bool) -> str | None:
        if name in self.block:
            return "disabled with --disable-plugin"
        if builtin:
            return None if self.builtins else "built-ins off"
        if not self.autoload:
            return "third-party autoload is off (TWIN_DISABLE_PLUGIN_AUTOLOAD)"
        if self.allow is not None and name not in self.allow:
            return "not listed in TWIN_PLUGINS"
        return None

    def _load_folder(self, folder: Path) -> None:
        if not folder.is_dir():
            raise TwinInputError("not a folder of plugin modules", source=str(folder))
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = path.stem
            info = PluginInfo(name, "loaded", origin="plugins-dir", distribution=str(path))
            self.infos[name] = info
            if name in self.block:
                info.status, info.error = "blocked", "disabled with --disable-plugin"
                continue
            try:
                module = import_plugin_file(f"twin_local_plugins.{name}", path)
            except (Exception, SystemExit) as exc:  # a plugin may not end the twin by exiting
                self._failed(info, f"{type(exc).__name__}: {exc}", exc)
                continue
            self._register(module, info)

    def register(self, plugin: object, name: str | None = None) -> PluginInfo:
        """Register a plugin object or module directly (tests, the testing kit)."""
        name = name or getattr(plugin, "__name__", None) or repr(plugin)
        info = PluginInfo(name, "loaded", origin="registered")
        self.infos[name] = info
        self._register(plugin, info)
        return info

    def unregister(self, name: str) -> None:
        """Unregister the plugin registered as ``name`` (tests, the testing kit)."""
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin, name=name)
        self.infos.pop(name, None)
        self._invalidate()

    def _register(self, plugin: object, info: PluginInfo) -> None:
        try:
            self.pm.register(plugin, name=info.name)
        except Exception as exc:
            self._failed(info, f"{type(exc).__name__}: {exc}", exc)
            return
        info.hooks = sorted(caller.name for caller in (self.pm.get_hookcallers(plugin) or []))
        self._invalidate()

    def _invalidate(self) -> None:
        """Forget what was collected (a plugin was registered or unregistered)."""
        self._rules = self._registry = self._parameters = self._importers = None
        self._settled = False

    def _failed(self, info: PluginInfo, error: str, exc: BaseException | None = None) -> None:
        info.status, info.error = "failed", error
        if self.strict:
            raise PluginError(f"plugin {info.name} failed: {error}") from exc

    # -- collecting ---------------------------------------------------------------------------

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Call a registration hook plugin by plugin: ``[(plugin name, result), ...]``.

        A plugin whose implementation raises (or calls ``sys.exit``) is marked
        failed and skipped; plugins already failed are not called.
        """
        self.load()
        caller = getattr(self.pm.hook, hook_name)
        results: list[tuple[str, Any]] = []
        failed = self._failed_names()
        for impl in sorted(caller.get_hookimpls(), key=lambda i: i.plugin_name):
            if impl.plugin_name in failed:
                continue  # a failed plugin contributes nothing
            args = {k: kwargs[k] for k in impl.argnames if k in kwargs}
            try:
                result = impl.function(**args)
            except (Exception, SystemExit) as exc:
                info = self.infos.get(impl.plugin_name)
                if info is not None:
                    self._failed(info, f"{hook_name} raised {type(exc).__name__}: {exc}", exc)
                elif self.strict:
                    raise PluginError(f"{impl.plugin_name}: {hook_name} raised {exc}") from exc
                continue
            if result is not None:
                results.append((impl.plugin_name, result))
        return results

    def _settle(self) -> None:
        """Collect every registration once; a plugin that fails anywhere contributes nothing.

        Event types, parameters, importers and rules are collected in that order
        (a rule is checked against the parameters). A plugin that fails in any of
        them (its hook raised or returned something invalid, or one of its rules
        reads a parameter nobody declares) is marked failed, and everything is
        collected again without it, so a half-registered plugin never runs.
        """
        if self._settled:
            return
        self._settled = True
        while True:
            failed = self._failed_names()
            for info in self.infos.values():
                info.rules = []
                info.refused = []
            self._registry = self._collect_event_types()
            self._parameters = self._collect_parameters()
            self._importers = self._collect_importers()
            self._rules = self._collect_rules({p.name for p in self._parameters})
            if self._failed_names() == failed:
                return

    def _failed_names(self) -> set[str]:
        return {name for name, info in self.infos.items() if info.status == "failed"}

    def _fail_plugin(self, plugin: str, error: str, exc: BaseException | None = None) -> None:
        info = self.infos.get(plugin)
        if info is not None:
            self._failed(info, error, exc)
        elif self.strict:
            raise PluginError(f"{plugin}: {error}") from exc

    def _items(self, plugin: str, hook_name: str, result: Any) -> list[Any]:
        """A hook's result as a list; a result that is not iterable fails the plugin."""
        try:
            return list(result)
        except TypeError:
            self._fail_plugin(plugin, f"{hook_name} returned {type(result).__name__}, not a list")
            return []

    def rules(self) -> list[RegisteredRule]:
        """Every rule of every loaded plugin, sorted by id.

        Bad or duplicate ids, and rules that read a parameter no loaded plugin
        declares, are refused (their plugin is marked failed, with the reason).
        """
        self._settle()
        assert self._rules is not None
        return self._rules

    def _collect_rules(self, declared: set[str]) -> list[RegisteredRule]:
        """Every rule that passes :func:`twin.rule_checks.rule_problems`.

        A malformed or duplicate rule, or one reading a parameter nobody declares,
        fails its whole plugin (as in plugin API 0.1). A rule with any other problem
        (an unknown event type in ``events``, the reserved ``twin`` family, a
        severity that is no ``Severity``, metrics without units) is refused alone:
        its plugin's other rules run, and ``twin plugins`` says why.
        """
        seen: dict[str, str] = {}
        rules: list[RegisteredRule] = []
        registry = self._registry
        for plugin, result in self.collect("twin_register_rules"):
            reserved_ok = self._is_ours(plugin)
            for rule in self._items(plugin, "twin_register_rules", result):
                found = rule_problems(
                    rule, event_types=registry, parameters=declared, reserved_ok=reserved_ok
                )
                rule_id = getattr(rule, "id", repr(rule))
                fatal = [p.text for p in found if p.kind == SHAPE]
                if not fatal and rule_id in seen:
                    fatal = [f"rule id {rule_id!r} is already registered by {seen[rule_id]}"]
                if not fatal and any(p.kind == PARAMETERS for p in found):
                    missing = [n for n in rule.parameters if n not in declared]
                    fatal = [
                        f"rule {rule_id} reads parameter {', '.join(map(repr, missing))}, "
                        "which no loaded plugin declares (is the plugin that declares it "
                        "disabled or failed?)"
                    ]
                if fatal:
                    self._fail_plugin(plugin, "; ".join(fatal))
                    continue
                refusals = [p.text for p in found if p.refuse]
                if refusals:
                    self._refuse(plugin, rule_id, "; ".join(refusals))
                    continue
                seen[rule_id] = plugin
                rules.append(RegisteredRule(rule, plugin))
                if plugin in self.infos:
                    self.infos[plugin].rules.append(rule_id)
        live = self._failed_names()
        return sorted((r for r in rules if r.plugin not in live), key=lambda r: r.id)

    def _refuse(self, plugin: str, rule_id: str, why: str) -> None:
        """Refuse one rule of ``plugin`` (strict mode: fail)."""
        if self.strict:
            raise PluginError(f"plugin {plugin}: rule {rule_id} refused: {why}")
        info = self.infos.get(plugin)
        if info is not None:
            info.refused.append(f"{rule_id}: {why}")

    def _is_ours(self, plugin: str) -> bool:
        """True for maestro-twin's own plugins, which may use the reserved ``twin`` family."""
        info = self.infos.get(plugin)
        if info is not None and info.builtin:
            return True
        module = getattr(self.pm.get_plugin(plugin), "__name__", "")
        return isinstance(module, str) and module.split(".", 1)[0] == "plugins"

    def event_registry(self) -> EventRegistry:
        """The core catalog plus every plugin's event types."""
        self._settle()
        assert self._registry is not None
        return self._registry

    def _collect_event_types(self) -> EventRegistry:
        registry = EventRegistry(CORE_EVENTS)
        for plugin, result in self.collect("twin_register_event_types"):
            for cls in self._items(plugin, "twin_register_event_types", result):
                try:
                    if not (isinstance(cls, type) and issubclass(cls, Event)):
                        raise TypeError(f"{cls!r} is not a subclass of twin.api.Event")
                    registry.register(cls)
                except (TypeError, ValueError) as exc:
                    self._fail_plugin(plugin, str(exc), exc)
        return registry

    def parameters(self) -> list[Parameter]:
        """Every declared parameter, sorted by name."""
        self._settle()
        assert self._parameters is not None
        return self._parameters

    def _collect_parameters(self) -> list[Parameter]:
        table: dict[str, Parameter] = {}
        for plugin, result in self.collect("twin_register_parameters"):
            for p in self._items(plugin, "twin_register_parameters", result):
                if not isinstance(p, Parameter):
                    self._fail_plugin(plugin, f"{p!r} is not a twin.api.Parameter")
                    continue
                if p.name in table and table[p.name] != p:
                    self._fail_plugin(plugin, f"parameter {p.name!r} declared twice, differently")
                    continue
                table[p.name] = p
        return [table[k] for k in sorted(table)]

    def profile(self, choice: str | Path | None = None) -> Profile:
        """The default ``seed`` profile, the built-in ``documented`` one, or a profile file.

        A profile file overrides ``seed``.
        """
        base = default_profile(self.parameters())
        if choice is None or str(choice) == DEFAULT_PROFILE:
            return base
        if str(choice) == DOCUMENTED:
            return documented_profile(base)
        path = Path(choice)
        if not path.exists():
            raise TwinInputError(
                f"no such profile; use {DEFAULT_PROFILE!r}, {DOCUMENTED!r} or a profile .toml file",
                field="--profile",
                value=str(choice),
            )
        return load_profile(path, base)

    def importers(self) -> list[Importer]:
        """Importers registered by plugins (tried before the built-in ones)."""
        self._settle()
        assert self._importers is not None
        return self._importers

    def _collect_importers(self) -> list[Importer]:
        found: list[Importer] = []
        for plugin, result in self.collect("twin_register_importers"):
            for importer in self._items(plugin, "twin_register_importers", result):
                if not callable(getattr(importer, "read", None)) or not isinstance(
                    getattr(importer, "suffixes", None), tuple | list
                ):
                    self._fail_plugin(
                        plugin, f"{importer!r} is not an importer (it needs suffixes and read())"
                    )
                    continue
                found.append(importer)
        return found

    def add_commands(self, cli: Any, context: Any = None) -> None:
        """Let plugins attach subcommands to the ``twin`` click group.

        ``context`` is the :class:`~twin.command_context.CommandContext` their
        commands use to open SOURCEs; without one, only plugins that take just
        ``cli`` can register (tests of the bare hook).
        """
        if context is None:
            self.collect("twin_register_commands", cli=cli)
        else:
            self.collect("twin_register_commands", cli=cli, context=context)

    def observers(self) -> list[Callable[[Frame], Any]]:
        """Frame observers, called directly by the engine (not through pluggy per event).

        Each is named by its plugin, so a failure is reported as ``plugin NAME``; a
        failed plugin's observers are not called.
        """
        self._settle()
        impls = self.pm.hook.twin_frame_evaluated.get_hookimpls()
        failed = self._failed_names()
        return [
            NamedObserver(impl.plugin_name, impl.function)
            for impl in sorted(impls, key=lambda i: i.plugin_name)
            if impl.plugin_name not in failed
        ]

    def fingerprint(self, profile: Profile) -> str:
        """Identifies what evaluation depends on, so caches built otherwise are never read.

        The profile's values; every rule with its plugin and that plugin's version
        (for a ``--plugins-dir`` module or a directly registered plugin, which have
        no version, the hash of its source); and the known event types, which
        decide what is decoded and what is opaque.
        """
        h = hashlib.sha256(profile.fingerprint().encode())
        for r in self.rules():
            h.update(f"{r.id}@{r.plugin}:{self._plugin_version(r.plugin)};".encode())
        h.update(",".join(self.event_registry().names()).encode())
        return h.hexdigest()[:16]

    def _plugin_version(self, name: str) -> str:
        info = self.infos.get(name)
        if info is not None and info.version:
            return info.version
        plugin = self.pm.get_plugin(name)
        source_file = getattr(plugin, "__file__", None) or getattr(
            sys.modules.get(type(plugin).__module__), "__file__", None
        )
        if source_file and Path(source_file).exists():
            return hashlib.sha256(Path(source_file).read_bytes()).hexdigest()[:12]
        return "unversioned"

    def build_engine(self, profile: Profile | None = None) -> Engine:
        """An engine with every loaded rule, the profile and the observers."""
        return Engine(
            self.rules(),
            profile if profile is not None else self.profile(),
            strict=self.strict,
            observers=self.observers(),
        )

    def plugin_infos(self) -> list[PluginInfo]:
        """Every plugin seen, loaded or not, sorted by name.

        Every registration hook has been called by then, so a plugin whose
        parameters, event types or importers failed is listed as failed, with why.
        """
        self.load()
        self._settle()
        return [self.infos[k] for k in sorted(self.infos)]


def import_plugin_file(module_name: str, path: Path) -> ModuleType:
    """Import the plugin module at ``path`` as ``module_name`` (for ``--plugins-dir``)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def builtin_names() -> Sequence[str]:
    """Names of the built-in rule families (entry points of maestro-twin)."""
    return sorted(
        ep.name
        for ep in entry_points(group=GROUP)
        if ep.dist is not None and ep.dist.name.lower().replace("_", "-") == OUR_DISTRIBUTION
    )
