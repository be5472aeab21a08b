"""Parameters with provenance, and profiles that override them.

Every number a rule uses is a :class:`Parameter`: value, unit, optional band,
provenance (``seed``, ``official``, ``community``, ``assumption``, or
``measured`` for an operator's calibration) and source. Plugins declare them;
the built-in default profile, ``seed``, is what they declare. A profile file
(TOML) overrides any of them::

    [profile]
    name = "lab-2026-03"

    [parameters]
    "sync.growth_per_member" = 0.09            # a bare value

    [parameters."hypersync.capacity_factor"]   # or a table
    value = 0.6
    low = 0.55
    high = 0.65
    source = "our lab, March 2026"
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from twin.errors import TwinInputError

PROVENANCES = ("seed", "official", "community", "assumption", "measured")
DEFAULT_PROFILE = "seed"


def _provenance(_inst: Any, _attr: attrs.Attribute[Any], value: str) -> None:
    if value not in PROVENANCES:
        raise ValueError(f"provenance must be one of {', '.join(PROVENANCES)}, not {value!r}")


@attrs.frozen
class Parameter:
    """One number the model uses, with where it comes from.

    Attributes:
        name: dotted id, e.g. ``hypersync.capacity_factor``.
        value: the value used (the midpoint of the band unless a profile says otherwise).
        unit: unit of ``value`` (``ratio``, ``s``, ``GB``...).
        provenance: ``seed``, ``official``, ``community``, ``assumption`` or ``measured``.
        source: a document or address backing the number.
        summary: one line on what it means.
        low: lower end of the band, if the source gives a range.
        high: upper end of the band.
    """

    name: str
    value: float
    unit: str
    provenance: str = attrs.field(validator=_provenance)
    source: str
    summary: str = ""
    low: float | None = None
    high: float | None = None

    @property
    def band(self) -> tuple[float, float, float]:
        """``(low, value, high)``; low and high equal value when there is no band."""
        low = self.value if self.low is None else self.low
        high = self.value if self.high is None else self.high
        return (low, self.value, high)

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``twin profile --json``."""
        return attrs.asdict(self)


@attrs.frozen
class Profile:
    """A complete set of parameter values: the declared defaults plus overrides.

    Attributes:
        name: ``seed`` for the defaults, else the profile file's name.
        parameters: every parameter by name.
        source: the file the overrides came from, if any.
    """

    name: str
    parameters: Mapping[str, Parameter]
    source: str | None = None
    values: Mapping[str, float] = attrs.field(init=False, eq=False, repr=False)
    bands: Mapping[str, tuple[float, float, float]] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # Rules read parameters on every event: give them plain dicts built once.
        object.__setattr__(self, "values", {k: p.value for k, p in self.parameters.items()})
        object.__setattr__(self, "bands", {k: p.band for k, p in self.parameters.items()})

    def __getitem__(self, name: str) -> Parameter:
        return self.parameters[name]

    def value(self, name: str) -> float:
        """The value of parameter ``name``."""
        return self.parameters[name].value

    def band(self, name: str) -> tuple[float, float, float]:
        """``(low, value, high)`` of parameter ``name``."""
        return self.parameters[name].band

    def fingerprint(self) -> str:
        """A short hash of every value: caches built with another profile are stale."""
        h = hashlib.sha256()
        for name in sorted(self.parameters):
            p = self.parameters[name]
            h.update(f"{name}={p.value!r},{p.low!r},{p.high!r};".encode())
        return h.hexdigest()[:16]


def default_profile(parameters: Iterable[Parameter]) -> Profile:
    """The ``seed`` profile: every declared parameter at its declared value."""
    table: dict[str, Parameter] = {}
    for p in parameters:
        if p.name in table and table[p.name] != p:
            raise ValueError(f"parameter {p.name!r} is declared twice with different values")
        table[p.name] = p
    return Profile(DEFAULT_PROFILE, dict(sorted(table.items())))


def _line_of(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if key in line:
            return number
    return None


def _number(value: Any, path: str, field: str, line: int | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TwinInputError(
            f"must be a number (got {value!r})", field=field, value=value, source=path, line=line
        )
    return float(value)


def load_profile(path: str | Path, base: Profile) -> Profile:
    """Read a profile file and return ``base`` with its overrides applied.

    Raises:
        TwinInputError: unreadable TOML, an unknown parameter (the closest known
            name is suggested), or a value that is not a number.
    """
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TwinInputError(f"cannot read profile: {exc.strerror}", source=shown) from exc
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TwinInputError(f"not valid TOML: {exc}", source=shown) from exc
    unknown_tables = sorted(set(doc) - {"profile", "parameters"})
    if unknown_tables:
        raise TwinInputError(
            "unknown table; a profile has [profile] and [parameters]",
            field=unknown_tables[0],
            source=shown,
            line=_line_of(text, unknown_tables[0]),
        )
    name = str(doc.get("profile", {}).get("name", path.stem))
    table = dict(base.parameters)
    for key, raw in doc.get("parameters", {}).items():
        line = _line_of(text, key)
        if key not in table:
            hint = difflib.get_close_matches(key, table, n=1)
            tail = f"; did you mean {hint[0]!r}?" if hint else "; see `twin profile`"
            raise TwinInputError(
                f"unknown parameter{tail}", field=key, value=key, source=shown, line=line
            )
        old = table[key]
        spec = raw if isinstance(raw, dict) else {"value": raw}
        extra = sorted(set(spec) - {"value", "low", "high", "source", "provenance"})
        if extra:
            raise TwinInputError(
                "unknown key; valid: value, low, high, source, provenance",
                field=f"{key}.{extra[0]}",
                source=shown,
                line=line,
            )
        if "value" not in spec:
            raise TwinInputError("needs a value", field=key, source=shown, line=line)
        value = _number(spec["value"], shown, key, line)
        low = _number(spec["low"], shown, f"{key}.low", line) if "low" in spec else None
        high = _number(spec["high"], shown, f"{key}.high", line) if "high" in spec else None
        if (low is not None and low > value) or (high is not None and high < value):
            raise TwinInputError(
                f"the band must hold the value: low ≤ {value} ≤ high",
                field=key,
                source=shown,
                line=line,
            )
        provenance = str(spec.get("provenance", "measured"))
        if provenance not in PROVENANCES:
            raise TwinInputError(
                f"provenance must be one of {', '.join(PROVENANCES)}",
                field=f"{key}.provenance",
                value=provenance,
                source=shown,
                line=line,
            )
        table[key] = attrs.evolve(
            old,
            value=value,
            low=low,
            high=high,
            provenance=provenance,
            source=str(spec.get("source", f"profile {name} ({path.name})")),
        )
    return Profile(name, table, source=shown)
