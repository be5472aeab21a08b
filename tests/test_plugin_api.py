"""The plugin API: its public surface, every hook (documented, tested), and the user controls.

Meta-tests keep the API honest (httpx and datasette style): ``twin.api.__all__``
is exactly what the module exposes, every hookspec has full reference text, a
section in docs/plugin-hooks.md and a ``test_hook_<name>`` test. Each hook test
registers a real plugin object from tests/plugins/ into a TwinPluginManager.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from click.testing import CliRunner

import twin.api
from twin import hookspecs
from twin.api import Severity, hookimpl
from twin.engine import PluginError
from twin.errors import TwinInputError, UnknownEventTypeError
from twin.event_files import read_event_file
from twin.frames import Frame
from twin.plugin_manager import TwinPluginManager, builtin_names
from twin.testing import (
    group_load,
    isolated_manager,
    load_plugin_file,
    make_envelopes,
    member_failure,
    single_site,
)

ROOT = Path(__file__).parents[1]
SAMPLES = Path(__file__).parent / "plugins"
HOOKS_DOC = ROOT / "docs" / "plugin-hooks.md"
HOOKS = sorted(
    name
    for name, value in vars(hookspecs).items()
    if name.startswith("twin_") and inspect.isfunction(value)
)
CONTROLS = ("TWIN_PLUGINS", "TWIN_DISABLE_PLUGIN_AUTOLOAD", "TWIN_STRICT_PLUGINS")


def sample(name: str) -> ModuleType:
    """A fresh copy of the sample plugin ``tests/plugins/<name>.py``."""
    return load_plugin_file(SAMPLES / f"{name}.py")


def frames_of(manager: TwinPluginManager, events: list[Any]) -> list[Frame]:
    """Run events through the manager's engine; return every frame."""
    engine = manager.build_engine()
    return list(engine.run(make_envelopes(events, manager.event_registry())))


def rule_ids(manager: TwinPluginManager) -> list[str]:
    return [r.id for r in manager.rules()]


@pytest.fixture(autouse=True)
def _no_control_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without the user's TWIN_* plugin controls."""
    for variable in CONTROLS:
        monkeypatch.delenv(variable, raising=False)


# -- the public surface ---------------------------------------------------------------------------


def test_api_all_is_exactly_what_the_module_exposes() -> None:
    exposed = {
        name
        for name, value in vars(twin.api).items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType)
        and type(value).__module__ != "__future__"  # `from __future__ import annotations`
    }
    assert sorted(exposed) == sorted(twin.api.__all__)
    assert len(set(twin.api.__all__)) == len(twin.api.__all__)


def test_every_name_in_api_all_resolves() -> None:
    namespace: dict[str, Any] = {}
    exec("from twin.api import *", namespace)
    for name in twin.api.__all__:
        assert getattr(twin.api, name) is namespace[name]


def test_api_names_the_hook_docstrings_mention_exist() -> None:
    mentioned = set()
    for hook in HOOKS:
        mentioned |= set(re.findall(r"twin\.api\.(\w+)", getattr(hookspecs, hook).__doc__ or ""))
    assert mentioned
    assert sorted(mentioned - set(twin.api.__all__)) == []


# -- hooks: reference text, docs and tests ------------------------------------------------------


@pytest.mark.parametrize("hook", HOOKS)
def test_hookspec_has_full_reference_text(hook: str) -> None:
    spec = getattr(hookspecs, hook)
    doc = inspect.getdoc(spec) or ""
    assert re.search(r"^Added in \d+\.\d+\.$", doc, re.MULTILINE), f"{hook}: no 'Added in X.Y.'"
    params = list(inspect.signature(spec).parameters)
    if params:
        assert "Args:" in doc
        for name in params:
            assert re.search(rf"^\s+{name}: \S", doc, re.MULTILINE), f"{hook}: {name} undocumented"
    if hook.startswith("twin_register_") and hook != "twin_register_commands":
        assert "Returns:" in doc, f"{hook}: does not say what to return"


def _documented_hooks() -> dict[str, tuple[list[str], str | None]]:
    """``## twin_x(a, b)`` sections of docs/plugin-hooks.md → (arguments, version added)."""
    text = HOOKS_DOC.read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    found = {}
    for section in sections:
        heading = re.match(r"(twin_\w+)\(([^)]*)\)", section)
        if heading is None:
            continue
        args = [a.strip() for a in heading.group(2).split(",") if a.strip()]
        added = re.search(r"Added in (\d+\.\d+)", section)
        found[heading.group(1)] = (args, added.group(1) if added else None)
    return found


def test_every_hook_has_a_section_in_plugin_hooks_md() -> None:
    assert sorted(_documented_hooks()) == HOOKS


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_docs_match_the_hookspec(hook: str) -> None:
    args, added = _documented_hooks()[hook]
    spec = getattr(hookspecs, hook)
    assert args == list(inspect.signature(spec).parameters)
    in_code = re.search(r"Added in (\d+\.\d+)", spec.__doc__ or "")
    assert in_code is not None
    assert added == in_code.group(1)


def test_every_hook_has_a_test_named_after_it() -> None:
    tested = set()
    for path in Path(__file__).parent.rglob("*.py"):
        tested |= set(re.findall(r"def test_hook_(twin_\w+)\(", path.read_text(encoding="utf-8")))
    assert sorted(set(HOOKS) - tested) == []


# -- one test per hook ----------------------------------------------------------------------------


def test_hook_twin_register_rules() -> None:
    manager = isolated_manager(builtins=False)
    manager.register(sample("good"), name="acme")
    (registered,) = manager.rules()
    assert (registered.id, registered.plugin) == ("acme.hot-member", "acme")
    info = _infos(manager)["acme"]
    assert info.origin == "registered"
    assert info.rules == ["acme.hot-member"]
    assert info.hooks == ["twin_register_parameters", "twin_register_rules"]
    frames = frames_of(manager, single_site(members=2) + group_load(cpu_pct=95))
    hot = {f.finding.subject for f in frames[-1].findings if f.finding.rule == "acme.hot-member"}
    assert hot == {"member:1_01", "member:1_02"}
    assert frames[-1].metrics.get("member:1_01", "acme.cpu_headroom_pct") is not None


def test_hook_twin_register_event_types(tmp_path: Path) -> None:
    plain = isolated_manager(builtins=False)
    with pytest.raises(UnknownEventTypeError, match="change_window_opened"):
        plain.event_registry().decode("change_window_opened", {"ticket": "CHG-7"})

    manager = isolated_manager(builtins=False)
    manager.register(sample("change_window"), name="acme")
    registry = manager.event_registry()
    assert "change_window_opened" in registry.names()
    event = registry.decode("change_window_opened", {"ticket": "CHG-7", "minutes": 90})
    assert event.to_data() == {"ticket": "CHG-7", "minutes": 90}
    from_text = registry.decode("change_window_opened", {"ticket": "CHG-7", "minutes": "90"})
    assert from_text == event

    path = tmp_path / "window.jsonl"
    path.write_text(
        '{"type": "site_added", "site": 1}\n'
        '{"ts": "2026-03-14T02:10:00Z", "type": "change_window_opened", "ticket": "CHG-7",'
        ' "minutes": 90}\n'
    )
    read = list(read_event_file(path, registry))
    assert [(r.type, r.line) for r in read] == [("site_added", 1), ("change_window_opened", 2)]
    frames = frames_of(manager, [r.event for r in read])
    (found,) = [f for f in frames[-1].findings if f.finding.rule == "acme.change-window"]
    assert found.finding.message == "change window CHG-7 open for 90 min"
    assert found.since == 2


def test_hook_twin_register_parameters(tmp_path: Path) -> None:
    manager = isolated_manager(builtins=False)
    manager.register(sample("good"), name="acme")
    assert [p.name for p in manager.parameters()] == ["acme.cpu_limit_pct"]
    declared = manager.profile().parameters["acme.cpu_limit_pct"]
    assert (declared.value, declared.unit, declared.provenance, declared.source) == (
        90.0,
        "%",
        "assumption",
        "acme runbook, section 4",
    )
    lab = tmp_path / "lab.toml"
    lab.write_text('[parameters]\n"acme.cpu_limit_pct" = 50\n')
    overridden = manager.profile(lab).parameters["acme.cpu_limit_pct"]
    assert (overridden.value, overridden.provenance) == (50.0, "measured")


def test_hook_twin_register_importers(tmp_path: Path) -> None:
    manager = isolated_manager(builtins=False)
    manager.register(sample("kv_importer"), name="kv")
    importers = manager.importers()
    assert [i.name for i in importers] == ["kv"]

    path = tmp_path / "incident.kv"
    path.write_text(
        "# exported from the acme NOC\n"
        "ts=2026-03-14T02:10:00Z type=site_added site=1\n"
        "type=group_created group=1\n"
        "type=member_added member=1_01 group=1 site=1 cores=32\n"
    )
    read = list(read_event_file(path, manager.event_registry(), importers=importers))
    assert [(r.type, r.line) for r in read] == [
        ("site_added", 2),
        ("group_created", 3),
        ("member_added", 4),
    ]
    assert read[0].occurred_at == "2026-03-14T02:10:00Z"
    assert read[2].event.cores == 32  # type: ignore[attr-defined]  # text coerced to int

    with pytest.raises(TwinInputError, match="unknown event file format"):
        list(read_event_file(path, manager.event_registry()))
    path.write_text("type=member_added member=1_01 group=1 site=1 cores=many\n")
    with pytest.raises(TwinInputError, match=r"incident\.kv:1: cores: must be an integer"):
        list(read_event_file(path, manager.event_registry(), importers=importers))


def test_hook_twin_register_commands() -> None:
    manager = isolated_manager(builtins=False)
    manager.register(sample("commands"), name="acme")
    cli = click.Group("twin")
    manager.add_commands(cli)
    assert sorted(cli.commands) == ["acme-hello"]
    result = CliRunner().invoke(cli, ["acme-hello", "noc"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello, noc, from acme\n"


def test_hook_twin_frame_evaluated() -> None:
    log = sample("frame_log")
    manager = isolated_manager(builtins=False)
    manager.register(log, name="log")
    manager.register(sample("good"), name="acme")
    frames = frames_of(manager, single_site(members=2) + group_load(cpu_pct=95))
    assert [(f.seq, f.envelope.type, len(f.findings)) for f in frames] == log.SEEN
    assert log.SEEN[-1] == (len(frames), "load_changed", 2)


class _BrokenObserver:
    @hookimpl
    def twin_frame_evaluated(self, frame: Frame) -> None:
        raise RuntimeError(f"alert sink down at seq {frame.seq}")


def test_a_failing_observer_is_reported_once_and_the_replay_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    manager = isolated_manager(builtins=False, strict=False)
    manager.register(_BrokenObserver(), name="sink")
    frames = frames_of(manager, single_site(members=2))
    assert len(frames) == len(single_site(members=2))
    assert capsys.readouterr().err.count("alert sink down") == 1

    strict = isolated_manager(builtins=False, strict=True)
    strict.register(_BrokenObserver(), name="sink")
    with pytest.raises(PluginError, match="alert sink down at seq 1"):
        frames_of(strict, single_site(members=2))


# -- controls ----------------------------------------------------------------------------------


OTHER_PLUGIN = """
from twin.api import hookimpl, rule

@rule(id="other.noop", summary="does nothing")
def noop(ctx):
    return []

@hookimpl
def twin_register_rules():
    return [noop]
"""


def _install(site: Path, distribution: str, entry: str, module: str, source: str) -> None:
    """Write a module and the metadata of a distribution that names it as a twin plugin."""
    info = site / f"{distribution.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[maestro_twin]\n{entry} = {module}\n")
    (site / f"{module}.py").write_text(source)


@pytest.fixture
def site_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on sys.path holding two installed third-party plugins: ``acme`` and ``other``.

    Discovery goes through importlib.metadata's real entry-point lookup.
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    _install(site, "acme-twin", "acme", "twin_acme_plugin", (SAMPLES / "good.py").read_text())
    _install(site, "other-twin", "other", "twin_other_plugin", OTHER_PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    yield site
    for module in ("twin_acme_plugin", "twin_other_plugin", "twin_broken_plugin"):
        sys.modules.pop(module, None)


def _infos(manager: TwinPluginManager) -> dict[str, Any]:
    return {i.name: i for i in manager.plugin_infos()}


def test_installed_plugins_are_found_through_entry_points(site_packages: Path) -> None:
    manager = TwinPluginManager(builtins=False, strict=True)
    infos = _infos(manager)
    acme = infos["acme"]
    assert (acme.status, acme.distribution, acme.version, acme.builtin) == (
        "loaded",
        "acme-twin",
        "1.0",
        False,
    )
    assert acme.origin == "entry-point"
    assert rule_ids(manager) == ["acme.hot-member", "other.noop"]


def test_disable_autoload_env_skips_third_party_plugins_only(
    site_packages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWIN_DISABLE_PLUGIN_AUTOLOAD", "1")
    manager = TwinPluginManager(strict=False)
    infos = _infos(manager)
    for name in ("acme", "other"):
        assert infos[name].status == "blocked"
        assert "TWIN_DISABLE_PLUGIN_AUTOLOAD" in infos[name].error
    assert not any(r.startswith(("acme.", "other.")) for r in rule_ids(manager))
    for name in builtin_names():
        assert infos[name].builtin
        assert infos[name].status == "loaded"


def test_twin_plugins_env_is_an_allow_list(
    site_packages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWIN_PLUGINS", "acme")
    manager = TwinPluginManager(builtins=False, strict=True)
    infos = _infos(manager)
    assert infos["acme"].status == "loaded"
    assert infos["other"].status == "blocked"
    assert "TWIN_PLUGINS" in infos["other"].error
    assert rule_ids(manager) == ["acme.hot-member"]


def test_block_disables_a_plugin_by_name(site_packages: Path) -> None:
    builtin = builtin_names()[0]
    manager = TwinPluginManager(block=["acme", builtin], strict=True)
    infos = _infos(manager)
    assert infos["acme"].status == "blocked"
    assert infos[builtin].status == "blocked"
    assert infos["acme"].error == "disabled with --disable-plugin"
    assert infos["other"].status == "loaded"
    assert "acme.hot-member" not in rule_ids(manager)


def test_plugins_dir_loads_local_rule_modules(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "site_rules.py").write_text((SAMPLES / "good.py").read_text())
    (folder / "_helpers.py").write_text("raise RuntimeError('private modules are skipped')\n")
    manager = TwinPluginManager(autoload=False, builtins=False, plugins_dir=folder, strict=True)
    local = {n: i for n, i in _infos(manager).items() if i.origin == "plugins-dir"}
    assert list(local) == ["site_rules"]
    assert local["site_rules"].status == "loaded"
    frames = frames_of(manager, single_site(members=1) + group_load(cpu_pct=99))
    assert [f.plugin for f in frames[-1].findings] == ["site_rules"]


def test_plugins_dir_must_be_a_folder(tmp_path: Path) -> None:
    manager = TwinPluginManager(autoload=False, builtins=False, plugins_dir=tmp_path / "nope")
    with pytest.raises(TwinInputError, match="not a folder"):
        manager.load()


def test_a_plugin_that_fails_to_import(
    site_packages: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(
        site_packages,
        "broken-twin",
        "broken",
        "twin_broken_plugin",
        "raise ImportError('needs acme-sdk>=2')\n",
    )
    with pytest.raises(PluginError, match="plugin broken failed: ImportError: needs acme-sdk>=2"):
        TwinPluginManager(builtins=False, strict=True).load()
    monkeypatch.setenv("TWIN_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="broken"):
        TwinPluginManager(builtins=False).load()
    monkeypatch.delenv("TWIN_STRICT_PLUGINS")

    lenient = TwinPluginManager(builtins=False)
    infos = _infos(lenient)
    assert infos["broken"].status == "failed"
    assert infos["broken"].error == "ImportError: needs acme-sdk>=2"
    assert infos["acme"].status == "loaded"
    frames = frames_of(lenient, single_site(members=1) + group_load(cpu_pct=99))
    assert [f.finding.rule for f in frames[-1].findings] == ["acme.hot-member"]


def test_a_duplicate_rule_id_is_refused() -> None:
    lenient = isolated_manager(builtins=False, strict=False)
    lenient.register(sample("good"), name="acme")
    lenient.register(sample("good"), name="acme-copy")
    assert [(r.id, r.plugin) for r in lenient.rules()] == [("acme.hot-member", "acme")]
    copy = _infos(lenient)["acme-copy"]
    assert copy.status == "failed"
    assert "already registered by acme" in copy.error

    strict = isolated_manager(builtins=False, strict=True)
    strict.register(sample("good"), name="acme")
    strict.register(sample("good"), name="acme-copy")
    with pytest.raises(PluginError, match="already registered by acme"):
        strict.rules()


def test_a_crashing_rule_becomes_a_finding_and_the_others_still_run() -> None:
    events = single_site(members=2) + member_failure("1_02")
    lenient = isolated_manager(builtins=False, strict=False)
    lenient.register(sample("crashing"), name="acme")
    last = frames_of(lenient, events)[-1]
    (crashed,) = [f for f in last.findings if f.finding.rule == "twin.rule-crashed"]
    assert crashed.finding.subject == "rule:acme.fragile"
    assert crashed.finding.severity is Severity.ERROR
    assert "ZeroDivisionError" in crashed.finding.message
    assert crashed.finding.evidence["plugin"] == "acme"
    members = last.metrics.get("system", "acme.members")
    assert members is not None
    assert members.value == 2

    strict = isolated_manager(builtins=False, strict=True)
    strict.register(sample("crashing"), name="acme")
    with pytest.raises(PluginError, match=r"rule acme\.fragile \(plugin acme\) raised"):
        frames_of(strict, events)
