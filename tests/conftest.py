"""Suite-wide set-up: the suite's own cache key, a bytecode cache for child processes and
workers, and the whole suite on every core (pytest-xdist) unless one asks otherwise."""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# Snapshots are sealed with a per-user key (journal.cache_seal). The suite uses a
# key of its own, so it neither reads nor writes the developer's real one; child
# processes (and xdist's workers) inherit it through the environment.
if "TWIN_CACHE_KEY_FILE" not in os.environ:
    _KEY_DIR = tempfile.mkdtemp(prefix="twin-test-key-")
    atexit.register(shutil.rmtree, _KEY_DIR, ignore_errors=True)
    os.environ["TWIN_CACHE_KEY_FILE"] = str(Path(_KEY_DIR) / "cache.key")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-goldens``: rewrite the TUI's golden screens instead of comparing them."""
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite tests/goldens/ (the TUI's text and SVG screens) from this run",
    )


def pytest_configure(config: pytest.Config) -> None:
    """A bytecode cache for this run's processes, where the environment turns bytecode off.

    Real processes (the `twin` smoke and fault tests, benchmark children, concurrent
    writers) each start a fresh interpreter, and so does each xdist worker. Where the
    environment sets PYTHONDONTWRITEBYTECODE, every one of them compiled all it imports
    (networkx, numpy, textual, rich, the twin) from source again: seconds of CPU per
    process, which no user sees (an installed twin keeps its bytecode). This process,
    its workers (started after this hook) and all their children share one cache
    instead, under pytest's cache folder (.pytest_cache/, git-ignored, emptied by
    ``--cache-clear``), never beside the sources; so the next run starts warm too.
    Python writes each .pyc atomically and checks it against its source's mtime and size.
    """
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("PYTHONPYCACHEPREFIX"):
        return  # bytecode is written already, or a worker: its controller chose the cache
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
    try:
        folder = str(cache.mkdir("twin-pycache")) if cache is not None else None
    except OSError:  # a read-only checkout
        folder = None
    if folder is None:
        folder = tempfile.mkdtemp(prefix="twin-test-pycache-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = folder
    sys.dont_write_bytecode = False  # this process too, for all it imports from here on
    sys.pycache_prefix = folder


def _wants_one_process(config: pytest.Config) -> bool:
    """Whether this run should stay in one process although nobody passed ``-n``.

    Naming files or tests (not the whole tests/ folder) means a quick look at a few,
    where starting workers costs more than it saves; ``--pdb``, ``-s`` (output to the
    terminal), ``--collect-only`` and ``--update-goldens`` only make sense in one
    process.
    """
    option = config.option
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        # Paths given on the command line: the whole tests/ folder still gets workers.
        testpaths = [Path(config.rootpath, p).resolve() for p in config.getini("testpaths")]
        chosen = [Path(config.invocation_params.dir, a.split("::")[0]) for a in config.args]
        if not chosen or any(p.resolve() not in testpaths for p in chosen):
            return True
    return bool(
        option.usepdb or option.capture == "no" or option.collectonly or option.update_goldens
    )


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``uv run pytest`` runs the suite on every core: ``-n auto --dist worksteal``.

    The same as passing those options, decided here rather than in ``addopts`` so that
    ``-p no:xdist`` still works and a single file (``uv run pytest tests/test_x.py``)
    runs in one process. An explicit ``-n N`` (``-n 0``: one process) always wins.
    Runs before xdist's own hook (conftest hooks are called before plugins' of the
    same kind), which turns ``auto`` into a number of workers.
    """
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return
    if config.option.numprocesses is not None or config.option.dist != "no":
        return  # the caller chose
    if _wants_one_process(config):
        return
    config.option.numprocesses = "auto"  # PYTEST_XDIST_AUTO_NUM_WORKERS=N overrides the count
    config.option.dist = "worksteal"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With workers, the tests marked slow start first, so no run ends waiting on one.

    The order is the same in every worker (xdist checks that), and the order of the
    rest is unchanged; a run in one process keeps the files' own order.
    """
    if not hasattr(config, "workerinput"):
        return
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
