"""The hash chain: canonical envelope bytes, chained SHA-256, and the verify loop.

Every journal row carries ``prev_hash`` (the previous row's ``hash``; 64 zeros
for the first row) and ``hash``::

    hash = sha256(bytes.fromhex(prev_hash) || canonical_bytes(envelope without hash))

The canonical bytes are ``orjson.dumps(d, option=OPT_SORT_KEYS)`` of the dict
``d`` of ``seq``, ``event_id``, ``type``, ``schema``, ``occurred_at``,
``recorded_at``, ``actor``, ``reason``, ``correlation_id``, ``causation_id``,
``data`` (the payload as a JSON object) and ``prev_hash``: compact, sorted
keys, UTF-8. The journal stores ``data`` as the compact sorted-key JSON text
itself, so the canonical bytes embed exactly the stored text (as an
``orjson.Fragment``) and checking a row needs no re-encoding of its payload.

Both the append path and :func:`check_rows` build the bytes here, so they
cannot drift apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import attrs
import orjson

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first event of a journal."""

_dumps = orjson.dumps
_Fragment = orjson.Fragment
_sha256 = hashlib.sha256

Row = tuple[Any, ...]
"""A stored row: seq, event_id, type, schema, occurred_at, recorded_at, actor, reason,
correlation_id, causation_id, data (text), prev_hash, hash."""


def encode_data(data: dict[str, Any]) -> bytes:
    """A payload as it is stored: compact JSON with sorted keys (UTF-8 bytes).

    Raises:
        TypeError: the payload holds something JSON cannot (``orjson.JSONEncodeError``).
    """
    return _dumps(data, option=orjson.OPT_SORT_KEYS)


def canonical_bytes(
    seq: int,
    event_id: str,
    type_: str,
    schema: int,
    occurred_at: str,
    recorded_at: str,
    actor: str | None,
    reason: str | None,
    correlation_id: str | None,
    causation_id: str | None,
    data: str | bytes,
    prev_hash: str,
) -> bytes:
    """The canonical bytes of an envelope (everything but ``hash``).

    Args:
        seq: the row's position.
        event_id: its id.
        type_: its event type.
        schema: its payload schema version.
        occurred_at: domain time.
        recorded_at: wall clock at append.
        actor: who recorded it.
        reason: why.
        correlation_id: plan or incident id.
        causation_id: the event that caused it.
        data: the payload as stored (compact sorted-key JSON text).
        prev_hash: the previous row's hash (hex).

    Returns:
        ``orjson.dumps`` of the envelope dict with sorted keys, ``data`` embedded as JSON.
    """
    # Keys are written in sorted order, so the output equals OPT_SORT_KEYS's.
    return _dumps(
        {
            "actor": actor,
            "causation_id": causation_id,
            "correlation_id": correlation_id,
            "data": _Fragment(data),
            "event_id": event_id,
            "occurred_at": occurred_at,
            "prev_hash": prev_hash,
            "reason": reason,
            "recorded_at": recorded_at,
            "schema": schema,
            "seq": seq,
            "type": type_,
        }
    )


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """``sha256(bytes.fromhex(prev_hash) || canonical)`` as hex."""
    return _sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


@attrs.define
class ChainCursor:
    """Where a verification stands: the next expected seq and the hash it must chain from.

    Attributes:
        next_seq: the seq the next row must have.
        prev_hash: the hash (hex) the next row's ``prev_hash`` must equal.
        checked: rows found good so far.
        bad_seq: the first bad seq, once one is found.
        problem: what is wrong with it.
    """

    next_seq: int = 1
    prev_hash: str = GENESIS_HASH
    checked: int = 0
    bad_seq: int | None = None
    problem: str | None = None


def check_rows(cursor: ChainCursor, rows: Iterable[Row]) -> bool:
    """Check stored rows in seq order against the chain, advancing ``cursor``.

    This is the verify hot loop: tuples in, no events decoded, no payload parsed.

    Args:
        cursor: the state after the rows checked so far; updated in place.
        rows: the next rows, in seq order.

    Returns:
        True if every row is good; False at the first bad one (``cursor.bad_seq`` and
        ``cursor.problem`` say which and why).
    """
    dumps = _dumps
    fragment = _Fragment
    sha256 = _sha256
    expected = cursor.next_seq
    prev_hex = cursor.prev_hash
    prev_raw = bytes.fromhex(prev_hex)
    checked = cursor.checked
    ok = True
    # The canonical dict is spelled out here rather than calling canonical_bytes: this loop
    # runs once per stored event, and the tests check both against the same stored hashes.
    for seq, eid, typ, schema, occ, rec, actor, reason, corr, caus, data, prev, stored in rows:
        if seq != expected:
            ok = False
            cursor.bad_seq = expected
            if seq > expected:
                cursor.problem = f"seq {expected} is missing (seq {seq} follows seq {expected - 1})"
            else:
                cursor.problem = f"seq {seq} is out of order (expected seq {expected})"
            break
        if prev != prev_hex:
            ok = False
            cursor.bad_seq = seq
            cursor.problem = (
                f"seq {seq}: prev_hash does not match the hash of seq {seq - 1} (broken link)"
            )
            break
        try:
            canonical = dumps(
                {
                    "actor": actor,
                    "causation_id": caus,
                    "correlation_id": corr,
                    "data": fragment(data),
                    "event_id": eid,
                    "occurred_at": occ,
                    "prev_hash": prev,
                    "reason": reason,
                    "recorded_at": rec,
                    "schema": schema,
                    "seq": seq,
                    "type": typ,
                }
            )
        except (TypeError, orjson.JSONEncodeError):
            ok = False
            cursor.bad_seq = seq
            cursor.problem = f"seq {seq}: a column holds a value no journal writes (edited?)"
            break
        digest = sha256(prev_raw + canonical).digest()
        prev_hex = digest.hex()
        if prev_hex != stored:
            ok = False
            cursor.bad_seq = seq
            cursor.problem = f"seq {seq}: hash does not match the event's contents (edited?)"
            break
        prev_raw = digest
        expected += 1
        checked += 1
    if ok:
        cursor.prev_hash = prev_hex
        cursor.next_seq = expected
    cursor.checked = checked
    return ok
