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
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from twin.errors import TwinInputError
from twin.input_files import read_input_text
from twin.toml_lines import parse_toml

PROVENANCES = ("seed", "official", "community", "assumption", "measured")
DEFAULT_PROFILE = "seed"


def _provenance(_inst: Any, _attr: attrs.Attribute[Any], value: str) -> None:
    if value not in PROVENANCES:
        raise ValueError(f"provenance must be one of {', '.join(PROVENANCES)}, not {value!r}")


@attrs.frozen
class Domain:
    """The values a parameter may take: a finite number, optionally within bounds.

    ``Domain()`` is any finite number. Bounds are inclusive unless ``low_open`` /
    ``high_open``. Shorthands accepted by :func:`domain_of` (and
    ``twin.api.parameter(domain=...)``): ``positive`` (> 0), ``non-negative``
    (≥ 0), ``fraction`` (0 to 1), ``share`` (> 0 and ≤ 1), ``percent`` (0 to 100),
    ``above-one`` (> 1), ``any``.

    Attributes:
        low: the smallest allowed value, or None for no lower bound.
        high: the largest allowed value, or None for no upper bound.
        low_open: ``low`` itself is not allowed.
        high_open: ``high`` itself is not allowed.
    """

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        """The domain in words, e.g. ``greater than 0`` or ``from 0 to 1``."""
        if self.low is None and self.high is None:
            return "any finite number"
        if self.high is None:
            return f"{'greater than' if self.low_open else 'at least'} {self.low:g}"
        if self.low is None:
            return f"{'less than' if self.high_open else 'at most'} {self.high:g}"
        left = "greater than" if self.low_open else "from"
        right = "and below" if self.high_open else ("and at most" if self.low_open else "to")
        return f"{left} {self.low:g} {right} {self.high:g}"

    def problem(self, value: float) -> str | None:
        """Why ``value`` is outside the domain, or None if it is inside."""
        if not math.isfinite(value):
            return f"must be a finite number (got {value!r})"
        low_bad = self.low is not None and (
            value <= self.low if self.low_open else value < self.low
        )
        high_bad = self.high is not None and (
            value >= self.high if self.high_open else value > self.high
        )
        if low_bad or high_bad:
            return f"must be {self.describe()} (got {value:g})"
        return None


DOMAINS: dict[str, Domain] = {
    "any": Domain(),
    "positive": Domain(0.0, None, low_open=True),
    "non-negative": Domain(0.0),
    "fraction": Domain(0.0, 1.0),
    "share": Domain(0.0, 1.0, low_open=True),
    "percent": Domain(0.0, 100.0),
    "above-one": Domain(1.0, None, low_open=True),
}
"""Named domains, for :func:`domain_of`."""


def domain_of(spec: str | Domain | None) -> Domain:
    """A :class:`Domain` from a shorthand name, a Domain, or None (any finite number).

    Raises:
        ValueError: an unknown shorthand.
    """
    if spec is None:
        return DOMAINS["any"]
    if isinstance(spec, Domain):
        return spec
    if spec not in DOMAINS:
        raise ValueError(f"unknown parameter domain {spec!r}; known: {', '.join(DOMAINS)}")
    return DOMAINS[spec]


def _in_domain(inst: Parameter, _attr: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None:
        problem = inst.domain.problem(value)
        if problem is not None:
            raise ValueError(f"parameter {inst.name}: {problem}")


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
        domain: the values it may take (a profile that sets it outside them is
            refused); any finite number unless declared.
    """

    name: str
    value: float = attrs.field(validator=lambda i, a, v: _in_domain(i, a, v))
    unit: str
    provenance: str = attrs.field(validator=_provenance)
    source: str
    summary: str = ""
    low: float | None = attrs.field(default=None, validator=lambda i, a, v: _in_domain(i, a, v))
    high: float | None = attrs.field(default=None, validator=lambda i, a, v: _in_domain(i, a, v))
    domain: Domain = attrs.field(default=DOMAINS["any"], converter=domain_of)

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
        TwinInputError: unreadable, not UTF-8 or not valid TOML; a ``[profile]`` or
            ``[parameters]`` that is not a table; an unknown parameter (the closest
            known name is suggested); or a value that is not a number in the
            parameter's domain (NaN, ±inf, 0 or negative where it forbids them).
    """
    path = Path(path)
    shown = str(path)
    text = read_input_text(path, "profile")
    doc = parse_toml(text, shown)
    unknown_tables = sorted(set(doc) - {"profile", "parameters"})
    if unknown_tables:
        raise TwinInputError(
            "unknown table; a profile has [profile] and [parameters]",
            field=unknown_tables[0],
            source=shown,
            line=_line_of(text, unknown_tables[0]),
        )
    for table_name in ("profile", "parameters"):
        if table_name in doc and not isinstance(doc[table_name], dict):
            raise TwinInputError(
                f"must be a table: write [{table_name}] on a line of its own, then its keys",
                field=table_name,
                source=shown,
                line=_line_of(text, table_name),
            )
    given_name = doc.get("profile", {}).get("name", path.stem)
    if not isinstance(given_name, str) or not given_name.strip():
        raise TwinInputError(
            f"must be a non-empty string (got {given_name!r})",
            field="profile.name",
            source=shown,
            line=_line_of(text, "name"),
        )
    name = given_name.strip()
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
        for field, number in ((key, value), (f"{key}.low", low), (f"{key}.high", high)):
            problem = None if number is None else old.domain.problem(number)
            if problem is not None:
                raise TwinInputError(
                    f"{problem}; {old.name} is in {old.unit}", field=field, source=shown, line=line
                )
        if (low is not None and low > value) or (high is not None and high < value):
            raise TwinInputError(
                f"the band must hold the value: low ≤ {value} ≤ high",
                field=key,
                source=shown,
                line=line,
            )
        provenance = spec.get("provenance", "measured")
        if provenance not in PROVENANCES:
            raise TwinInputError(
                f"provenance must be one of {', '.join(PROVENANCES)}",
                field=f"{key}.provenance",
                value=provenance,
                source=shown,
                line=line,
            )
        source_text = spec.get("source", f"profile {name} ({path.name})")
        if not isinstance(source_text, str):
            raise TwinInputError(
                f"must be a string (got {source_text!r})",
                field=f"{key}.source",
                source=shown,
                line=line,
            )
        table[key] = attrs.evolve(
            old,
            value=value,
            low=low,
            high=high,
            provenance=provenance,
            source=source_text,
        )
    return Profile(name, table, source=shown)
