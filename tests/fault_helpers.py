"""Real faults for the fault tests: read-only mounts, small filesystems, held locks, kills.

Read-only media and a full disk are made for real where the machine allows
it: in a private mount namespace (``unshare --user --map-root-user
--mount``), a bind mount remounted read-only, or a size-limited tmpfs, with
``twin`` run inside it as a subprocess. Where namespaces are not available,
a non-root user gets the read-only cases from file permissions instead; the
tests that need neither skip with the reason.
"""

from __future__ import annotations

import functools
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[1]


@attrs.frozen
class Ran:
    """A finished subprocess: exit code and output."""

    code: int
    out: str
    err: str

    @property
    def one_line_error(self) -> bool:
        lines = [line for line in self.err.splitlines() if line.strip()]
        return self.code == 2 and len(lines) == 1 and "Traceback" not in self.err


def twin_command(*args: object) -> str:
    """The shell words that run ``twin ARGS`` with this interpreter."""
    return " ".join(shlex.quote(str(a)) for a in (sys.executable, "-m", "twin", *args))


@functools.cache
def namespaces_available() -> bool:
    """True if this machine lets us make a private mount namespace."""
    try:
        done = subprocess.run(
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-c",
                "mount -t tmpfs -o size=16k tmpfs /mnt 2>/dev/null || mount -t tmpfs tmpfs /tmp",
            ],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def in_namespace(setup: Sequence[str], command: str, *, timeout: float = 120) -> Ran:
    """Run ``setup`` (mount commands) then ``command`` in a private mount namespace."""
    script = " && ".join([*setup, "cd " + shlex.quote(str(ROOT))]) + " && " + command
    env = {**os.environ, "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def read_only_bind(path: Path) -> list[str]:
    """Mount commands that make ``path`` (a file or a folder) read-only in the namespace."""
    quoted = shlex.quote(str(path))
    return [f"mount --bind {quoted} {quoted}", f"mount -o remount,bind,ro {quoted}"]


def small_filesystem(folder: Path, size_kb: int) -> list[str]:
    """Mount commands that put a ``size_kb`` tmpfs on ``folder`` in the namespace."""
    return [f"mount -t tmpfs -o size={size_kb}k tmpfs {shlex.quote(str(folder))}"]


@contextmanager
def lock_held(journal: Path) -> Iterator[int]:
    """Another process holds the journal's write lock for the block; yields its pid."""
    script = (
        "import sqlite3, sys, time\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(journal)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()  # reaped: the kernel has released its lock
        if holder.stdout is not None:
            holder.stdout.close()
