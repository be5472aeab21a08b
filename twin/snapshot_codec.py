"""Engine snapshots as plain data: the state, the metrics and the active findings.

An engine snapshot is compressed JSON, never a pickle: it is read back from a
journal that may come from a stranger, so loading it must not be able to run
anything, and what it holds is validated like any input (a blob that does not
validate raises :class:`ValueError`, and the caller replays from an older
snapshot instead). The layout is versioned by :data:`FORMAT`.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import orjson

from twin.rules import ActiveFinding, Finding, Metric, Severity
from twin.state import TwinState
from twin.state_data import from_canonical

FORMAT = 3
"""The engine snapshot layout (1–2 were pickles, never read any more)."""

MAX_PAYLOAD = 64 * 1024 * 1024
"""The largest payload a snapshot may expand to (a guard, far above real sizes)."""

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

FindingStores = dict[str, dict[tuple[str, str], ActiveFinding]]
"""Store id (the rule that owns them) → (finding rule, subject) → active finding."""


def compress(payload: bytes) -> bytes:
    """Compress a payload (level 1: ~4x smaller for a fraction of a millisecond)."""
    return zlib.compress(payload, 1)


def decompress(blob: bytes) -> bytes:
    """Undo :func:`compress`, refusing anything that would expand past :data:`MAX_PAYLOAD`.

    Raises:
        ValueError: not a compressed payload, truncated, or too large.
    """
    inflater = zlib.decompressobj()
    try:
        payload = inflater.decompress(blob, MAX_PAYLOAD)
    except zlib.error as exc:
        raise ValueError(f"not a compressed snapshot: {exc}") from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise ValueError("snapshot too large or truncated")
    return payload


def _number(value: float) -> float | str:
    return value if math.isfinite(value) else repr(value)


def _read_number(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) if isinstance(value, int) else value
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    raise ValueError(f"not a number: {value!r}")


def _plain(value: Any) -> Any:
    """Evidence values JSON cannot hold as they are (sets, objects) become lists or text."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def encode(
    state: TwinState, metrics: Mapping[str, Mapping[str, Metric]], findings: FindingStores
) -> bytes:
    """The engine's stores as a compressed JSON snapshot."""
    payload = {
        "format": FORMAT,
        "state": state.to_canonical(),
        "metrics": {
            subject: {
                name: [_number(m.value), _number(m.low), _number(m.high)]
                for name, m in by_name.items()
            }
            for subject, by_name in metrics.items()
        },
        "findings": [
            [
                store,
                a.finding.rule,
                a.finding.severity.value,
                a.finding.subject,
                a.finding.message,
                dict(a.finding.evidence),
                a.since,
                a.plugin,
            ]
            for store, by_key in findings.items()
            for a in by_key.values()
        ],
    }
    return compress(orjson.dumps(payload, default=_plain, option=orjson.OPT_NON_STR_KEYS))


def decode(blob: bytes) -> tuple[TwinState, dict[str, dict[str, Metric]], FindingStores]:
    """What :func:`encode` stored, validated.

    Raises:
        ValueError: the blob is not a snapshot of this format, or does not validate.
    """
    try:
        data = orjson.loads(decompress(blob))
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not a snapshot: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("snapshot of another format")
    state = from_canonical(data.get("state"))
    metrics: dict[str, dict[str, Metric]] = {}
    raw_metrics = data.get("metrics")
    if not isinstance(raw_metrics, dict):
        raise ValueError("metrics: not a table")
    for subject, by_name in raw_metrics.items():
        if not isinstance(by_name, dict):
            raise ValueError(f"metrics of {subject!r}: not a table")
        bucket = metrics[subject] = {}
        for name, triple in by_name.items():
            if not isinstance(triple, list) or len(triple) != 3:
                raise ValueError(f"metric {subject} {name}: not [value, low, high]")
            value, low, high = (_read_number(v) for v in triple)
            bucket[name] = Metric(subject, name, value, low, high)
    findings: FindingStores = {}
    raw_findings = data.get("findings")
    if not isinstance(raw_findings, list):
        raise ValueError("findings: not a list")
    for item in raw_findings:
        if not isinstance(item, list) or len(item) != 8:
            raise ValueError("a finding is not a row of eight")
        store, rule, severity, subject, message, evidence, since, plugin = item
        if not all(isinstance(v, str) for v in (store, rule, severity, subject, message, plugin)):
            raise ValueError("a finding has a field that is not text")
        if not isinstance(evidence, dict):
            raise ValueError("a finding's evidence is not a table")
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise ValueError("a finding's since is not a seq")
        finding = Finding(rule, Severity(severity), subject, message, evidence=evidence)
        findings.setdefault(store, {})[(rule, subject)] = ActiveFinding(finding, since, plugin)
    return state, metrics, findings
