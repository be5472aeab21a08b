"""Quiet garbage collection while a long replay runs.

A replay allocates a few short-lived objects per event (an envelope, a frame,
what changed), almost all freed by reference counting. Python's cyclic
collector still walks the young generation every 700 allocations, and every
so often the whole heap: ~10% of a bulk replay's time for nothing. Inside
:func:`quiet_gc` the objects alive at the start are frozen (the collector no
longer walks them) and young collections run 70× less often; both are undone
at the end. It nests, and several threads may use it at once: the settings
are restored when the last one leaves.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000
"""Allocations between young-generation collections inside :func:`quiet_gc` (default 700)."""

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Freeze the heap and collect less often until the block ends."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(YOUNG_THRESHOLD, _saved[1], _saved[2])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                gc.unfreeze()
