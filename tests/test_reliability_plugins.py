"""Plugins that misbehave are reported by name and never half-loaded; integrity checks run none."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.cli_helpers import run_twin, tamper

GENESIS = [
    {"ts": "2026-03-14T01:00:00Z", "type": "site_added", "site": 1},
    {"type": "group_created", "group": 1},
    {"type": "member_added", "member": "1_01", "group": 1, "site": 1},
]

PSU_EVENT = '''
import attrs
from typing import ClassVar
from twin.api import Event, Metric, hookimpl, rule


@attrs.frozen(kw_only=True)
class PsuChanged(Event):
    """How many PSUs a member runs on."""

    event_type: ClassVar[str] = "psu_changed"
    member: str
    psu: int = attrs.field(converter=int, validator=attrs.validators.ge(1))


@rule(id="psu.count", summary="PSUs per member", events=["psu_changed"],
      metrics={"psu.count": "PSUs"})
def psu_count(ctx):
    assert type(ctx.event.psu) is int, f"psu arrived as {type(ctx.event.psu).__name__}"
    yield Metric(f"member:{ctx.event.member}", "psu.count", ctx.event.psu * 1.0)


@hookimpl
def twin_register_event_types():
    return [PsuChanged]


@hookimpl
def twin_register_rules():
    return [psu_count]
'''


def plugins(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def infos(folder: Path, *extra: str) -> dict[str, dict[str, Any]]:
    result = run_twin("--plugins-dir", folder, *extra, "plugins", "--json")
    assert result.code == 0, result
    return {p["name"]: p for p in json.loads(result.out)}


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "j.db"
    run_twin("init", path)
    run_twin("import", path, write_jsonl(tmp_path / "g.jsonl", GENESIS))
    return path


# -- a registration hook that raises ---------------------------------------------------------


@pytest.mark.parametrize(
    "hook", ["twin_register_parameters", "twin_register_event_types", "twin_register_importers"]
)
def test_a_raising_registration_hook_marks_the_plugin_failed(tmp_path: Path, hook: str) -> None:
    folder = plugins(
        tmp_path,
        flaky=f"""
        from twin.api import Metric, hookimpl, rule

        @rule(id="flaky.rule", summary="never runs", metrics={{"flaky.x": "x"}})
        def flaky_rule(ctx):
            yield Metric("system", "flaky.x", 1.0)

        @hookimpl
        def twin_register_rules():
            return [flaky_rule]

        @hookimpl
        def {hook}():
            raise RuntimeError("cannot reach the licence server")
        """,
    )
    flaky = infos(folder)["flaky"]
    assert flaky["status"] == "failed"
    assert f"{hook} raised RuntimeError: cannot reach the licence server" in flaky["error"]
    assert flaky["rules"] == []  # a half-registered plugin does not run
    rules = run_twin("--plugins-dir", folder, "rules", "--json")
    assert "flaky.rule" not in rules.out


# -- a plugin's converter or validator refusing a value ------------------------------------------


@pytest.mark.parametrize(("value", "words"), [("abc", "invalid literal"), ("0", ">= 1")])
def test_a_plugins_validator_refusing_a_value_is_exit_2_naming_the_field(
    tmp_path: Path, journal: Path, value: str, words: str
) -> None:
    folder = plugins(tmp_path, psu=PSU_EVENT)
    result = run_twin(
        "--plugins-dir", folder, "append", journal, "psu_changed", "member=1_01", f"psu={value}"
    )
    assert result.one_line_error, result
    assert "psu: " in result.err
    source = write_jsonl(
        tmp_path / "p.jsonl", [{"type": "psu_changed", "member": "1_01", "psu": value}]
    )
    imported = run_twin("--plugins-dir", folder, "import", journal, source)
    assert imported.one_line_error, imported
    assert f"{source}:1: psu: " in imported.err and words in imported.err


def test_events_kept_while_their_plugin_was_absent_are_converted_when_it_returns(
    tmp_path: Path, journal: Path
) -> None:
    source = write_jsonl(
        tmp_path / "p.jsonl", [{"type": "psu_changed", "member": "1_01", "psu": "2"}]
    )
    assert run_twin("import", journal, source, "--allow-unknown").code == 0
    folder = plugins(tmp_path, psu=PSU_EVENT)
    result = run_twin("--plugins-dir", folder, "run", journal, "--format", "jsonl")
    assert result.code == 0, result
    last = result.jsonl()[-1]
    assert last["metrics"]["member:1_01"]["psu.count"]["value"] == 2.0
    assert not any(f["rule"] == "twin.rule-crashed" for f in last["findings"])


# -- a rule that reads a parameter nobody declares -----------------------------------------------


def test_a_rule_reading_a_disabled_plugins_parameter_is_refused_with_the_reason(
    tmp_path: Path, journal: Path
) -> None:
    folder = plugins(
        tmp_path,
        needs_sync="""
        from twin.api import Metric, hookimpl, rule

        @rule(id="needs.sync", summary="reads sync's parameter",
              parameters=["sync.network_gbps"], metrics={"needs.gbps": "Gbps"})
        def needs_sync(ctx):
            yield Metric("system", "needs.gbps", ctx.param("sync.network_gbps"))

        @hookimpl
        def twin_register_rules():
            return [needs_sync]
        """,
    )
    assert infos(folder)["needs_sync"]["status"] == "loaded"
    listed = infos(folder, "--disable-plugin", "sync")["needs_sync"]
    assert listed["status"] == "failed"
    assert (
        "reads parameter 'sync.network_gbps', which no loaded plugin declares" in (listed["error"])
    )
    run = run_twin(
        "--plugins-dir", folder, "--disable-plugin", "sync", "run", journal, "--format", "jsonl"
    )
    assert run.code == 0, run
    assert not any(f["rule"] == "twin.rule-crashed" for f in run.jsonl()[-1]["findings"])


# -- a frame observer that raises ---------------------------------------------------------------


def test_a_raising_frame_observer_is_named_by_its_plugin(tmp_path: Path, journal: Path) -> None:
    folder = plugins(
        tmp_path,
        noisy="""
        from twin.api import hookimpl

        @hookimpl
        def twin_frame_evaluated(frame):
            raise ValueError("sink unreachable")
        """,
    )
    result = run_twin("--plugins-dir", folder, "run", journal, "--format", "jsonl")
    assert result.code == 0
    assert "frame observer of plugin noisy raised ValueError('sink unreachable')" in result.err
    assert "<function" not in result.err and result.err.count("noisy") == 1


# -- integrity commands run no plugin code ------------------------------------------------------

EXITING = """
import sys
from pathlib import Path
Path(sys.argv[0]).parent  # noqa
Path(__file__).with_suffix(".ran").write_text("plugin code ran")
sys.exit(0)
"""


@pytest.mark.parametrize("command", ["verify", "snapshots", "export"])
def test_integrity_commands_load_no_plugin_code(
    tmp_path: Path, journal: Path, command: str
) -> None:
    folder = plugins(tmp_path, exiting=EXITING)
    args = [journal, tmp_path / "copy.db"] if command == "export" else [journal]
    assert run_twin("--plugins-dir", folder, command, *args).code == 0
    assert not (folder / "exiting.ran").exists()
    tamper(journal, "UPDATE events SET actor = 'mallory' WHERE seq = 2")
    verify = run_twin("--plugins-dir", folder, "verify", journal)
    assert verify.code == 1 and "verify FAILED at seq 2" in verify.err
    assert not (folder / "exiting.ran").exists()


def test_a_plugin_calling_sys_exit_is_a_failed_plugin_not_a_silent_exit(
    tmp_path: Path, journal: Path
) -> None:
    folder = plugins(tmp_path, exiting=EXITING)
    listed = infos(folder)["exiting"]
    assert listed["status"] == "failed" and "SystemExit" in listed["error"]
    log = run_twin("--plugins-dir", folder, "log", journal)
    assert log.code == 0 and "member_added" in log.out
