"""Time-ordered event ids in the UUIDv7 layout (RFC 9562).

A journal keeps ``event_id`` under a UNIQUE index. Random UUIDv4 ids scatter
the index and cost about 10× on append; ids that grow with time append at the
right edge of the index instead. Ids made by one process are strictly
increasing (RFC 9562 §6.2, method 3: the 74 random bits are a counter that is
reseeded whenever the millisecond advances), so a batch of events keeps its
order in the index even within one millisecond.
"""

from __future__ import annotations

import os
import re
import threading
import time

_RANDOM_BITS = 74
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1
# Reseed with the top random bit clear, so a millisecond has at least 2**73 ids to go.
_SEED_MASK = (1 << (_RANDOM_BITS - 1)) - 1

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")


class _Clock:
    """The last id's millisecond and counter, shared by the threads of one process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms = -1
        self.counter = 0

    def reset(self) -> None:
        """Forget the last id (a forked child must not continue its parent's sequence)."""
        self.lock = threading.Lock()
        self.ms = -1
        self.counter = 0

    def next(self, count: int) -> tuple[int, int]:
        """Reserve ``count`` consecutive ids; return the first one's millisecond and counter."""
        now = time.time_ns() // 1_000_000
        with self.lock:
            if now > self.ms:
                self.ms = now
                self.counter = int.from_bytes(os.urandom(10), "big") & _SEED_MASK
            else:
                self.counter += 1
            if self.counter + count - 1 > _RANDOM_MASK:
                # The counter ran out within this millisecond: borrow the next one.
                self.ms += 1
                self.counter = int.from_bytes(os.urandom(10), "big") & _SEED_MASK
            first = (self.ms, self.counter)
            self.counter += count - 1
            return first


_CLOCK = _Clock()
os.register_at_fork(after_in_child=_CLOCK.reset)


def _format(ms: int, counter: int) -> str:
    value = (
        (ms & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | (counter >> 62) << 64
        | 0b10 << 62
        | (counter & 0x3FFF_FFFF_FFFF_FFFF)
    )
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_event_id() -> str:
    """A new time-ordered event id, greater than every id this process made before.

    Returns:
        A lowercase UUIDv7 string such as ``0190b2b4-5f1e-7c3a-9d2e-4b1f0a6c8e21``.
    """
    ms, counter = _CLOCK.next(1)
    return _format(ms, counter)


def new_event_ids(count: int) -> list[str]:
    """``count`` new time-ordered event ids, in increasing order (cheaper than one at a time).

    Args:
        count: how many ids to make (0 gives an empty list).

    Returns:
        The ids, each greater than the one before and than every earlier id of this process.
    """
    if count <= 0:
        return []
    ms, counter = _CLOCK.next(count)
    return _formatted(ms, counter, count)


_LOW_48 = (1 << 48) - 1


def _formatted(ms: int, counter: int, count: int) -> list[str]:
    """``[_format(ms, c) for c in range(counter, counter + count)]``, made faster.

    Only the last 12 hex digits change between ids whose counters agree above
    bit 48, so a run of such ids shares one formatted prefix and each id
    formats one 48-bit number (an import makes one id per event).
    """
    out: list[str] = []
    c, end = counter, counter + count
    while c < end:
        stop = min(end, ((c >> 48) + 1) << 48)  # the next change of the digits before the last 12
        h = f"{(ms & 0xFFFF_FFFF_FFFF) << 16 | 0x7 << 12 | c >> 62:016x}"
        variant = 0b10 << 14 | (c & 0x3FFF_FFFF_FFFF_FFFF) >> 48
        prefix = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{variant:04x}-"
        low = c & _LOW_48
        out += [f"{prefix}{x:012x}" for x in range(low, low + stop - c)]
        c = stop
    return out


def event_id_time_ms(event_id: str) -> int | None:
    """The Unix time in milliseconds encoded in a UUIDv7 id, or None for other ids."""
    if not UUID7.match(event_id):
        return None
    return int(event_id[:8] + event_id[9:13], 16)
