"""The example plugin, installed for real: a fresh virtual environment, real entry points.

This is the downstream check of docs/writing-plugins.md: build and install
this repository and examples/twin-plugin-example into a temporary venv, then
ask the installed ``twin`` what it found. Nothing is imported from the
working tree: every check runs in a subprocess of the venv's interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.install

REPO = Path(__file__).parents[1]
EXAMPLE = REPO / "examples" / "twin-plugin-example"
BIN = "Scripts" if os.name == "nt" else "bin"


def _clean_env() -> dict[str, str]:
    """The environment without the user's TWIN_* controls or an outer virtual env."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TWIN_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")
    }


def _run(
    args: Sequence[str | Path], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env=env or _clean_env(),
        # Not the working tree: `python -c` puts the current folder first on sys.path.
        cwd=cwd or Path(tempfile.gettempdir()),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with maestro-twin[testing] and twin-plugin-example installed."""
    root = tmp_path_factory.mktemp("example-install") / "venv"
    python = root / BIN / "python"
    wanted = [
        f"maestro-twin[testing] @ {REPO.as_uri()}",
        f"twin-plugin-example @ {EXAMPLE.as_uri()}",
    ]
    uv = shutil.which("uv")
    if uv is not None:
        _run([uv, "venv", root, "--python", sys.executable, "--quiet"])
        # --reinstall-package rebuilds the two local projects even when uv's
        # cache holds a wheel built from an older working tree.
        fresh = [
            "--reinstall-package",
            "maestro-twin",
            "--reinstall-package",
            "twin-plugin-example",
        ]
        _run([uv, "pip", "install", "--python", python, "--quiet", *wanted, *fresh])
    else:
        _run([sys.executable, "-m", "venv", root])
        _run([python, "-m", "pip", "install", "--quiet", *wanted])
    return root


def _python(venv: Path, code: str) -> Any:
    return json.loads(_run([venv / BIN / "python", "-c", code]).stdout)


def test_the_venv_runs_this_working_tree(venv: Path) -> None:
    installed = _python(
        venv,
        "import json, twin.testing.plugin_check as m; print(json.dumps(m.__file__))",
    )
    assert str(REPO) not in installed  # a real install, not the working tree on sys.path
    ours = hashlib.sha256((REPO / "twin" / "testing" / "plugin_check.py").read_bytes())
    theirs = hashlib.sha256(Path(installed).read_bytes())
    assert ours.hexdigest() == theirs.hexdigest(), "stale build in the venv"


def test_entry_point_discovery_finds_the_example(venv: Path) -> None:
    infos = _python(
        venv,
        "import json\n"
        "from twin.plugin_manager import TwinPluginManager\n"
        "manager = TwinPluginManager(strict=True)\n"
        "print(json.dumps([i.to_json() for i in manager.plugin_infos()]))\n",
    )
    (example,) = [i for i in infos if i["name"] == "example"]
    assert example["status"] == "loaded"
    assert example["builtin"] is False
    assert example["distribution"] == "twin-plugin-example"
    assert example["version"] == "0.1.0"
    assert example["rules"] == ["example.thin-site"]


def _twin(venv: Path, *args: str | Path, env: dict[str, str] | None = None) -> str:
    return _run([venv / BIN / "twin", *args], env=env).stdout


def test_twin_plugins_lists_the_example(venv: Path) -> None:
    infos = json.loads(_twin(venv, "plugins", "--json"))
    (example,) = [i for i in infos if i["name"] == "example"]
    assert (example["status"], example["builtin"], example["rules"]) == (
        "loaded",
        False,
        ["example.thin-site"],
    )


def test_twin_rules_and_profile_list_what_the_example_declares(venv: Path) -> None:
    rules = json.loads(_twin(venv, "rules", "--json"))
    (thin,) = [r for r in rules if r["id"] == "example.thin-site"]
    assert thin["plugin"] == "example"
    assert thin["raises"] == {"example.thin-site": "warning"}
    profile = json.loads(_twin(venv, "profile", "--json"))
    (minimum,) = [p for p in profile["parameters"] if p["name"] == "example.min_up_per_site"]
    assert (minimum["value"], minimum["provenance"]) == (2.0, "assumption")


def test_disable_autoload_hides_the_example(venv: Path) -> None:
    env = {**_clean_env(), "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    infos = json.loads(_twin(venv, "plugins", "--json", env=env))
    (example,) = [i for i in infos if i["name"] == "example"]
    assert example["status"] == "blocked"


def test_twin_run_shows_the_example_finding(venv: Path, tmp_path: Path) -> None:
    events = [
        {"type": "site_added", "site": 1},
        {"type": "site_added", "site": 2},
        {"type": "group_created", "group": 1},
        *(
            {"type": "member_added", "member": f"{site}_0{n}", "group": 1, "site": site}
            for site in (1, 2)
            for n in (1, 2)
        ),
        {"type": "member_failed", "member": "2_01"},
        {"type": "member_recovered", "member": "2_01"},
    ]
    scenario = tmp_path / "scenario.jsonl"
    scenario.write_text("".join(json.dumps(e) + "\n" for e in events))
    printed = _twin(venv, "run", scenario, "--format", "jsonl")
    frames = [json.loads(line) for line in printed.splitlines()]
    assert [f["seq"] for f in frames] == list(range(1, len(events) + 1))

    def thin(frame: dict[str, Any]) -> list[dict[str, Any]]:
        return [f for f in frame["findings"] if f["rule"] == "example.thin-site"]

    failed, recovered = frames[-2], frames[-1]
    (finding,) = thin(failed)
    assert (finding["plugin"], finding["subject"], finding["severity"]) == (
        "example",
        "group:1",
        "warning",
    )
    assert "site 2: 1 UP" in finding["message"]
    assert failed["metrics"]["group:1"]["example.site_up_min"]["value"] == 1
    assert thin(recovered) == []


def test_the_example_own_tests_pass_in_the_venv(venv: Path) -> None:
    result = _run(
        [venv / BIN / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", EXAMPLE / "tests"],
        cwd=EXAMPLE,
    )
    assert " passed" in result.stdout
