"""Suite-wide set-up: the suite's own cache key, and a bytecode cache for child processes."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Snapshots are sealed with a per-user key (journal.cache_seal). The suite uses a
# key of its own, so it neither reads nor writes the developer's real one; child
# processes inherit it through the environment.
_KEY_DIR = Path(tempfile.mkdtemp(prefix="twin-test-key-"))
os.environ.setdefault("TWIN_CACHE_KEY_FILE", str(_KEY_DIR / "cache.key"))

# Real processes (the `twin` smoke and fault tests, benchmark children, concurrent
# writers) each start a fresh interpreter. Where the environment sets
# PYTHONDONTWRITEBYTECODE, every one of them compiled all it imports (networkx, numpy,
# rich, the twin) from source again: seconds per process, which no user sees (an
# installed twin keeps its bytecode). Children of the suite share a private bytecode
# cache instead: under a temporary prefix, never beside the sources, removed at exit.
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
    _PYCACHE = tempfile.mkdtemp(prefix="twin-test-pycache-")
    atexit.register(shutil.rmtree, _PYCACHE, ignore_errors=True)
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = _PYCACHE


def pytest_addoption(parser: object) -> None:
    """``--update-goldens``: rewrite the TUI's golden screens instead of comparing them."""
    parser.addoption(  # type: ignore[attr-defined]
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/goldens/ (the TUI's text and SVG screens) from this run",
    )
