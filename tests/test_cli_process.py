"""The real `twin` program in a real process: a few smoke tests, the rest runs in process.

What only a process shows: the console script installed for the package, exit
codes as the shell sees them, output on a pipe that closes early, and what
`twin --help` has to import. (Piped tables: tests/test_cli_golden.py; a plugin
installed into a fresh venv: tests/test_example_plugin_install.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_helpers import QUIET_ENV, ROOT, run_twin_process
from tests.test_cli import topology_rows, write_jsonl

INCIDENT = ROOT / "examples" / "incident-0412.jsonl"


def test_the_installed_console_script_runs_the_cli() -> None:
    script = shutil.which("twin", path=str(Path(sys.executable).parent))
    assert script is not None, "the `twin` console script is not installed beside python"
    done = subprocess.run(
        [script, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET_ENV},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: twin [OPTIONS] COMMAND [ARGS]...")
    for command in ("demo", "import", "run", "state", "verify", "plugins"):
        assert f"\n  {command} " in done.stdout


def test_exit_codes_as_the_shell_sees_them(tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", topology_rows())
    ran = run_twin_process("run", good, "--format", "jsonl")
    assert ran.code == 0 and ran.err == ""
    assert [json.loads(line)["seq"] for line in ran.out.splitlines()] == list(range(1, 9))

    bad = write_jsonl(
        tmp_path / "bad.jsonl", [*topology_rows(), {"type": "member_failed", "member": "1_09"}]
    )
    refused = run_twin_process("run", bad)
    assert refused.one_line_error, refused.err
    assert refused.err.startswith(f"twin: error: {bad}:9: member: unknown member '1_09'")

    usage = run_twin_process("state", good, "--at", "abc")
    assert usage.one_line_error, usage.err
    assert usage.err.strip() == (
        "twin: error: --at: 'abc' is not a valid integer (see 'twin state --help')"
    )

    db = tmp_path / "j.db"
    assert run_twin_process("init", db).code == 0
    assert run_twin_process("import", db, good).code == 0
    late = run_twin_process("append", db, "note", "text=late", "--expect-head", "7")
    assert late.code == 1 and late.traceback is None
    assert "conflict" in late.err


def test_a_pipe_closed_early_ends_quietly() -> None:
    # `twin log … | head -n 1`: head exits after one line; twin stops without a word
    # and exits 0: a reader that went away is not an error (issue 9, item 13).
    twin = subprocess.Popen(
        [sys.executable, "-m", "twin", "log", str(INCIDENT), "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **QUIET_ENV},
    )
    assert twin.stdout is not None and twin.stderr is not None
    first = twin.stdout.readline()
    twin.stdout.close()  # the reader goes away, as `head` does
    err = twin.stderr.read().decode()
    twin.stderr.close()
    code = twin.wait(timeout=120)
    assert json.loads(first)["seq"] == 1
    assert err == ""
    assert code == 0


@pytest.mark.parametrize("module", ["networkx", "sqlite_utils"])
def test_help_does_not_import_the_heavy_libraries(module: str) -> None:
    # `twin --help` must stay quick: graph and database libraries load inside commands.
    probe = (
        "import sys\n"
        "from twin.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        f"print('LOADED' if {module!r} in sys.modules else 'NOT LOADED')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **QUIET_ENV},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "NOT LOADED", f"`twin --help` imported {module}"
