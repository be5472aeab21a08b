"""Sealing the journal's caches so that only caches this user wrote are ever read back.

A journal may come from a stranger, and its cache tables (snapshots, metric
projections) sit outside the hash chain: anyone can write any row there with
one ``INSERT``. Caches are plain data, so a hostile row cannot run code, but it
could still *lie* (a state where every member is UP). So every cache blob is
sealed with an HMAC-SHA256 under a key that never leaves this user's machine:
a row that does not carry this key's seal — from another machine, another
user, or an edit — is treated as absent and rebuilt from the events.

The key lives in ``$TWIN_CACHE_KEY_FILE``, or else
``$XDG_STATE_HOME/maestro-twin/cache.key`` (``~/.local/state/…`` by default),
created on first use with mode 0600. If it cannot be read or created (a
read-only home), a key for this process only is used: caches still work within
the process and are simply not reused by the next one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

MAGIC = b"TWSEAL1\n"
"""The first bytes of every sealed blob (and the seal format's version)."""

_MAC_SIZE = hashlib.sha256().digest_size
_KEY_SIZE = 32
_keys: dict[Path, bytes] = {}


def key_path() -> Path:
    """Where this user's cache key is kept."""
    explicit = os.environ.get("TWIN_CACHE_KEY_FILE")
    if explicit:
        return Path(explicit)
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "maestro-twin" / "cache.key"


def _read_key(path: Path) -> bytes | None:
    try:
        if not path.is_file() or path.stat().st_size != _KEY_SIZE:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return data if len(data) == _KEY_SIZE else None


def _create_key(path: Path) -> bytes | None:
    fresh = secrets.token_bytes(_KEY_SIZE)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)  # another process made it first: use theirs
    except OSError:
        return None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(fresh)
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return fresh


def cache_key() -> bytes:
    """This user's cache key (read, or created on first use; per process if neither works)."""
    path = key_path()
    key = _keys.get(path)
    if key is None:
        key = _keys[path] = _read_key(path) or _create_key(path) or secrets.token_bytes(_KEY_SIZE)
    return key


def _mac(context: bytes, payload: bytes) -> bytes:
    mac = hmac.new(cache_key(), digestmod=hashlib.sha256)
    mac.update(len(context).to_bytes(4, "big"))
    mac.update(context)
    mac.update(payload)
    return mac.digest()


def seal(context: str, payload: bytes) -> bytes:
    """``payload`` sealed for ``context`` (e.g. the cache key, branch and seq it belongs to).

    The context is part of the seal, so a genuine blob moved to another row
    (another seq, branch or key) no longer opens.
    """
    ctx = context.encode()
    return MAGIC + _mac(ctx, payload) + payload


def unseal(context: str, blob: bytes) -> bytes | None:
    """The payload of a blob sealed by :func:`seal` for ``context``, or None if it is not."""
    head = len(MAGIC)
    if len(blob) < head + _MAC_SIZE or not blob.startswith(MAGIC):
        return None
    mac = blob[head : head + _MAC_SIZE]
    payload = blob[head + _MAC_SIZE :]
    if not hmac.compare_digest(mac, _mac(context.encode(), payload)):
        return None
    return payload
