"""The real `twin tui` in a real PTY (tmux): entry point, key encodings, exit code."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui_helpers import fixture_rows

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 45.0  # generous: CI machines are shared and a loaded one is slow to start Python


class Tmux:
    """A private tmux server with one 120×40 session."""

    def __init__(self) -> None:
        self.socket = f"twin-test-{os.getpid()}"

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=10,
            env=env,
        )
        return done.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "s1")

    def keys(self, *keys: str) -> None:
        self("send-keys", "-t", "s1", *keys)

    def wait_for(self, text: str) -> str:
        """Poll the pane until ``text`` appears (no fixed sleeps)."""
        deadline = time.monotonic() + TIMEOUT
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{screen}")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not on PATH")
    server = Tmux()
    try:
        yield server
    finally:
        server("kill-server")


QUIT_WITHIN_S = 2.0


def long_journal(path: Path, samples: int = 8000) -> Path:
    """The 30-event fixture and then enough load samples that evaluating them takes a while."""
    rows = fixture_rows()
    for i in range(samples):
        rows.append(
            {
                "ts": f"2026-03-14T{3 + i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "type": "load_changed",
                "group": 1,
                "cpu_pct": 30 + i % 50,
                "connections": 1_000_000 + i,
            }
        )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_journey(tmux: Tmux, tmp_path: Path) -> None:
    journal = long_journal(tmp_path / "long.jsonl")
    total = 30 + 8000
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
    env |= {
        "TERM": "xterm-256color",
        "TEXTUAL_ANIMATIONS": "none",
        "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "s1", "-x", "120", "-y", "40", env=env)
    tmux("set", "-sg", "escape-time", "0")
    tmux("set", "-g", "remain-on-exit", "on")
    # sh waits for the TUI and writes its exit status: tmux itself sometimes leaves an
    # exited pane process unreaped (a zombie, no status) for a long while.
    status_file = tmp_path / "status"
    wrapper = f'"$@"; echo $? > {shlex.quote(str(status_file))}'
    command = ["sh", "-c", wrapper, "sh", sys.executable, "-m", "twin", "tui", str(journal)]
    tmux("respawn-pane", "-k", "-t", "s1", "-c", str(ROOT), *command)
    tmux.wait_for(f"#{total}/{total}")
    tmux.keys("g")
    tmux.wait_for(f"#1/{total}")
    for _ in range(5):
        tmux.keys("]")
    tmux.wait_for(f"#6/{total}")
    tmux.keys(":")
    tmux.wait_for("esc closes")  # the command line's hint
    tmux.keys("-l", "12")
    tmux.keys("Enter")
    tmux.wait_for(f"#12/{total}")
    tmux.keys("?")
    tmux.wait_for("Help — keys")
    tmux.keys("Escape")
    deadline = time.monotonic() + TIMEOUT
    while "Help — keys" in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Help — keys" not in tmux.screen()
    busy = "evaluating" in tmux.screen() or "scanning" in tmux.screen()
    tmux.keys("q")
    pressed = time.monotonic()
    deadline = pressed + TIMEOUT
    while not status_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    took = time.monotonic() - pressed
    status = status_file.read_text().strip() if status_file.exists() else None
    assert status == "0", f"exit status {status!r} after {took:.1f} s:\n{tmux.screen()}"
    assert took < QUIT_WITHIN_S, f"q took {took:.1f} s (still computing: {busy})"
