"""The real `twin tui` in a real PTY (tmux): entry point, key encodings, exit code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_tui import write_fixture

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

    def exit_status(self) -> str | None:
        """The pane's exit status once its process ended, else None."""
        out = self("display-message", "-p", "-t", "s1", "#{pane_dead}:#{pane_dead_status}")
        dead, _, status = out.strip().partition(":")
        return status if dead == "1" and status else None


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not on PATH")
    server = Tmux()
    try:
        yield server
    finally:
        server("kill-server")


def test_journey(tmux: Tmux, tmp_path: Path) -> None:
    journal = write_fixture(tmp_path / "small.jsonl")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
    env |= {
        "TERM": "xterm-256color",
        "TEXTUAL_ANIMATIONS": "none",
        "TWIN_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "s1", "-x", "120", "-y", "40", env=env)
    tmux("set", "-sg", "escape-time", "0")
    tmux("set", "-g", "remain-on-exit", "on")
    command = [sys.executable, "-m", "twin", "tui", str(journal)]
    tmux("respawn-pane", "-k", "-t", "s1", "-c", str(ROOT), *command)
    tmux.wait_for("#30/30")
    tmux.keys("g")
    tmux.wait_for("#1/30")
    for _ in range(5):
        tmux.keys("]")
    tmux.wait_for("#6/30")
    tmux.keys(":")
    tmux.wait_for("esc closes")  # the command line's hint
    tmux.keys("-l", "12")
    tmux.keys("Enter")
    tmux.wait_for("#12/30")
    tmux.keys("?")
    tmux.wait_for("Help — keys")
    tmux.keys("Escape")
    deadline = time.monotonic() + TIMEOUT
    while "Help — keys" in tmux.screen() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Help — keys" not in tmux.screen()
    tmux.keys("q")
    deadline = time.monotonic() + TIMEOUT
    while tmux.exit_status() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    status = tmux.exit_status()
    assert status == "0", f"exit status {status!r}; the screen:\n{tmux.screen()}"
