"""Run the `twin` command in this process, the way its console script does.

Cheaper than a subprocess (no interpreter start-up, plugins found once), so
most CLI tests run commands in process: the click group itself maps errors to
one line and an exit code, so what :func:`run_twin` sees is what a user sees.
A handful of smoke tests run the real program (:func:`run_twin_process`):
the entry point, piped output, exit codes, a plugin install. An exception that
escapes ``twin.cli.main`` is what a user would see as a traceback: it is
captured, not raised, so tests can assert there is none.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs

from twin.cli import main

QUIET_ENV = {"TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"}
ROOT = Path(__file__).resolve().parents[1]


@attrs.frozen
class Outcome:
    """What a user saw: exit code, stdout, stderr, and a traceback if one escaped."""

    code: int
    out: str
    err: str
    traceback: str | None = None

    def jsonl(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    @property
    def one_line_error(self) -> bool:
        """Exit 2 with exactly one line on stderr and no traceback."""
        lines = [line for line in self.err.splitlines() if line.strip()]
        return self.code == 2 and self.traceback is None and len(lines) == 1


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_twin(*args: Any, env: dict[str, str] | None = None, stdin: bytes = b"") -> Outcome:
    """Run ``twin ARGS...`` in-process and return what it printed and its exit code."""
    out_bytes, err_bytes = io.BytesIO(), io.BytesIO()
    out = io.TextIOWrapper(out_bytes, encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(err_bytes, encoding="utf-8", write_through=True)
    fake_in = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    saved = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = out, err, fake_in
    code: int = 0
    trace: str | None = None
    try:
        with _environment({**QUIET_ENV, **(env or {})}):
            main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        code, trace = 1, traceback.format_exc()
    finally:
        sys.stdout, sys.stderr, sys.stdin = saved
    return Outcome(
        code,
        out_bytes.getvalue().decode("utf-8", "replace"),
        err_bytes.getvalue().decode("utf-8", "replace"),
        trace,
    )


def run_twin_process(
    *args: Any, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Outcome:
    """Run the real ``python -m twin ARGS...`` in a subprocess (stdout and stderr on pipes).

    For the few tests about the process itself; everything else uses :func:`run_twin`.
    """
    done = subprocess.run(
        [sys.executable, "-m", "twin", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env={**os.environ, **QUIET_ENV, **(env or {})},
        timeout=120,
    )
    trace = done.stderr if "Traceback (most recent call last)" in done.stderr else None
    return Outcome(done.returncode, done.stdout, done.stderr, trace)


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block runs longer than ``seconds``."""
    import signal

    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s (a hang?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def tamper(path: Any, *statements: str) -> None:
    """Change a journal behind the twin's back, as anyone with sqlite3 could (triggers dropped)."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for name in (
            "events_no_update",
            "events_no_delete",
            "branches_no_update",
            "branches_no_delete",
            "branch_events_no_update",
            "branch_events_no_delete",
        ):
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        for sql in statements:
            conn.execute(sql)
    finally:
        conn.close()


@contextmanager
def memory_cap(extra: int = 1 << 30) -> Iterator[None]:
    """Let the block allocate at most ``extra`` more bytes of address space (Linux).

    A regression that reads /dev/zero then fails with MemoryError (a traceback the
    test sees) instead of exhausting the machine.
    """
    import resource

    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = pages * resource.getpagesize() + extra
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
