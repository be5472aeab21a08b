"""Suite-wide set-up: keep the suite's cache key out of the user's home."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Snapshots are sealed with a per-user key (journal.cache_seal). The suite uses a
# key of its own, so it neither reads nor writes the developer's real one; child
# processes inherit it through the environment.
_KEY_DIR = Path(tempfile.mkdtemp(prefix="twin-test-key-"))
os.environ.setdefault("TWIN_CACHE_KEY_FILE", str(_KEY_DIR / "cache.key"))


def pytest_addoption(parser: object) -> None:
    """``--update-goldens``: rewrite the TUI's golden screens instead of comparing them."""
    parser.addoption(  # type: ignore[attr-defined]
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/goldens/ (the TUI's text and SVG screens) from this run",
    )
