"""Field kinds of event payloads: what a field holds, read from its type hint.

A field of the event catalog says what it holds in its type hint alone::

    member: MemberId = field(doc="member id <site>_<n>")
    cpu_pct: Percent | None = field(default=None, doc="CPU load %")

The base type gives the field's *kind* (``int``, ``float``, ``str``, ``bool``
or ``list`` — ``tuple[str, ...]``), which decides how a text value (a CSV cell,
``twin append key=value``) is converted and which type is accepted; the
:class:`Check` markers in an ``Annotated`` hint are the rules on the value
(ranges, id forms, choices). :func:`kinds_from_hints`, the ``field_transformer``
of every catalog class, turns both into attrs validators and a converter when
the class is built, so the hint cannot disagree with the validation.

Checks return a problem (``"must be greater than 0"``) or None; the validators
raise :class:`~twin.errors.EventDataError` naming the field, the value and
what would be valid.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import attrs

from twin.errors import EventDataError
from twin.textsafe import first_unsafe

MEMBER_ID = re.compile(r"^([1-9][0-9]*)_([0-9]+)\Z")
SUBJECT = re.compile(r"^(site|group|member|orchestrator|link):[^\s/@]+\Z")
METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+\Z")

MAX_MAGNITUDE = 10**15
"""The largest number an event field takes (a quadrillion connections, Gbps, GB...).

Far above any deployment, and far enough below float overflow that the rules'
products and sums stay finite (an input of 1.7e308 used to come out as ``inf``
and print as ``null``)."""

TOO_LARGE = "must be at most 1e15 in size (no deployment comes near; a typo?)"

KINDS = ("int", "float", "str", "bool", "list")
"""The kinds a field can have (what :meth:`EventRegistry.fields` reports)."""

CheckFn = Callable[[str, Any], str | None]
"""A rule on a field's value: (field name, value) → the problem, or None if it is fine."""


@attrs.frozen
class Check:
    """A rule on a field's value, given in its type hint: ``Annotated[int, Check(positive)]``."""

    test: CheckFn


def fail(field: str, value: Any, problem: str) -> EventDataError:
    """The error for ``value`` of ``field``, which has ``problem``."""
    return EventDataError(f"{problem} (got {value!r})", field=field, value=value)


# -- checks -----------------------------------------------------------------------------------


def non_negative(_name: str, value: Any) -> str | None:
    return "must not be negative" if value < 0 else None


def positive(_name: str, value: Any) -> str | None:
    return "must be greater than 0" if value <= 0 else None


def percent(_name: str, value: Any) -> str | None:
    return "must be between 0 and 100" if not 0 <= value <= 100 else None


def weight(_name: str, value: Any) -> str | None:
    return "must be between 0 and 512" if not 0 <= value <= 512 else None


def site_number(_name: str, value: Any) -> str | None:
    return "must be a site number, 1 or greater" if value < 1 else None


def member_id_form(_name: str, value: Any) -> str | None:
    if not MEMBER_ID.fullmatch(value):
        return "must be a member id of the form <site>_<n>, e.g. 1_01"
    return None


def identifier(_name: str, value: Any) -> str | None:
    """Ids are shown everywhere and compared exactly: no control or invisible characters."""
    found = first_unsafe(value)
    if found is not None:
        return (
            f"must not contain control, bidi or invisible characters "
            f"(found U+{ord(found):04X} at position {value.index(found)})"
        )
    return None


def one_of(choices: tuple[str, ...]) -> CheckFn:
    """A check that the value is one of ``choices``."""

    def check(_name: str, value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"

    return check


def subject_name(_name: str, value: Any) -> str | None:
    if value == "system" or SUBJECT.match(value):
        return None
    return "must be system or kind:id, e.g. member:1_01, group:1, site:2, link:sync-1"


def metric_name(_name: str, value: Any) -> str | None:
    if METRIC_NAME.match(value):
        return None
    return "must be a dotted metric name, e.g. load.connections (see `twin rules`)"


# -- the field types of the catalog ----------------------------------------------------------

Ident = Annotated[str, Check(identifier)]
"""An id shown and compared exactly (orchestrator, link, member named by an event)."""
MemberId = Annotated[str, Check(identifier), Check(member_id_form)]
"""A new member's id: ``<site>_<n>``, e.g. ``1_01``."""
SiteNumber = Annotated[int, Check(site_number)]
PositiveInt = Annotated[int, Check(positive)]
PositiveFloat = Annotated[float, Check(positive)]
NonNegativeInt = Annotated[int, Check(non_negative)]
NonNegativeFloat = Annotated[float, Check(non_negative)]
Percent = Annotated[float, Check(percent)]
Weight = Annotated[int, Check(weight)]
"""A member's distribution weight, 0..512."""
SubjectName = Annotated[str, Check(subject_name)]
MetricName = Annotated[str, Check(metric_name)]


# -- kinds from type hints -------------------------------------------------------------------


def kind_and_checks(hint: Any) -> tuple[str, tuple[CheckFn, ...]]:
    """The kind of a field and the checks in its hint (``Percent | None`` → float, (percent,)).

    Optional (``X | None``) is looked through; a union of several types takes the
    first one's kind and no checks; anything that is not a number, bool or list
    of names is a ``str``.
    """
    checks: tuple[CheckFn, ...] = ()
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if not args:
            return "str", ()
        if len(args) > 1:
            return kind_and_checks(args[0])[0], ()
        hint = args[0]
        origin = typing.get_origin(hint)
    if origin is Annotated:
        checks = tuple(m.test for m in hint.__metadata__ if isinstance(m, Check))
        hint = hint.__origin__
        origin = typing.get_origin(hint)
    if hint is bool:
        return "bool", checks
    if hint is int:
        return "int", checks
    if hint is float:
        return "float", checks
    container = origin if origin is not None else hint
    if (
        isinstance(container, type)
        and issubclass(container, (tuple, list, Sequence))
        and not issubclass(container, (str, bytes, bytearray))
    ):
        return "list", checks
    return "str", checks


def kind_of_text(annotation: str) -> str:
    """The kind from an annotation that cannot be resolved, read as text (``int | None`` → int)."""
    text = annotation.replace("Optional[", "").replace(" ", "")
    parts = [p for p in re.split(r"[|\]]", text) if p and p != "None"]
    head = parts[0] if parts else "str"
    if head in ("int", "float", "bool"):
        return head
    if head.startswith(("tuple", "list", "Sequence", "Tuple", "List")):
        return "list"
    return "str"


def field_kinds(cls: type) -> dict[str, str]:
    """Field name → kind of an attrs event class (a plugin's or the catalog's).

    A kind set in a field's metadata wins (the catalog's fields carry theirs);
    otherwise it comes from the field's type hint, resolved as Python resolves
    it; a hint that does not resolve (a name imported only for type checking)
    is read as text.
    """
    hints: Mapping[str, Any] | None = None
    out: dict[str, str] = {}
    for a in attrs.fields(cls):
        kind = a.metadata.get("kind")
        if kind is None:
            hint = a.type
            if isinstance(hint, str):
                if hints is None:
                    try:
                        hints = typing.get_type_hints(cls, include_extras=True)
                    except Exception:
                        hints = {}
                hint = hints.get(a.name, hint)
            if hint is None:
                kind = "str"
            elif isinstance(hint, str):
                kind = kind_of_text(hint)
            else:
                kind = kind_and_checks(hint)[0]
        out[a.name] = kind
    return out


# -- validators and converters built from the hints -------------------------------------------


def _check_kind(kind: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and attribute.default is None:
            return
        name = attribute.name
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise fail(name, value, "must be an integer")
            if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                raise fail(name, value, TOO_LARGE)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise fail(name, value, "must be a number")
            if value != value or value in (float("inf"), float("-inf")):
                raise fail(name, value, "must be a finite number")
            if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
                raise fail(name, value, TOO_LARGE)
        elif kind == "str":
            if not isinstance(value, str) or not value:
                raise fail(name, value, "must be a non-empty string")
        elif kind == "bool":
            if not isinstance(value, bool):
                raise fail(name, value, "must be true or false")
        elif kind == "list" and (
            not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value)
        ):
            raise fail(name, value, "must be a list of names")

    return check


def _run_check(check: CheckFn) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def run(_inst: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        problem = check(attribute.name, value)
        if problem:
            raise fail(attribute.name, value, problem)

    return run


def _to_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def field(*, default: Any = attrs.NOTHING, doc: str = "") -> Any:
    """A payload field: its kind and checks come from its type hint (:func:`kinds_from_hints`)."""
    return attrs.field(default=default, metadata={"doc": doc})


def kinds_from_hints(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """attrs ``field_transformer``: validate each :func:`field` as its type hint says.

    Hints are read as objects; in a module with ``from __future__ import
    annotations`` they are resolved first (the catalog does without it, so
    that nothing is evaluated at import). Each field gets its kind's
    validator, then one per :class:`Check` in hint order, a list-to-tuple
    converter if it is a list, and ``kind``, ``doc`` and ``checks`` in its
    metadata (the registry's fast paths run the same checks from there).
    """
    hints: Mapping[str, Any] | None = None
    out = []
    for a in fields:
        if "doc" not in a.metadata or "kind" in a.metadata:
            out.append(a)
            continue
        hint = a.type
        if isinstance(hint, str):  # `from __future__ import annotations`: resolve (slower)
            if hints is None:
                try:
                    hints = typing.get_type_hints(cls, include_extras=True)
                except Exception as exc:
                    raise TypeError(
                        f"the type hints of {cls.__name__} do not resolve: {exc}"
                    ) from exc
            hint = hints[a.name]
        if hint is None:
            raise TypeError(f"field {a.name} of {cls.__name__} needs a type hint")
        kind, checks = kind_and_checks(hint)
        validators = [_check_kind(kind), *(_run_check(c) for c in checks)]
        out.append(
            a.evolve(
                validator=attrs.validators.and_(*validators),
                converter=_to_tuple if kind == "list" else None,
                metadata={"kind": kind, "doc": a.metadata["doc"], "checks": checks},
            )
        )
    return out


# -- fast kind tests (exact types only) -------------------------------------------------------


def _is_int(value: Any) -> bool:
    return type(value) is int and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE


def _is_float(value: Any) -> bool:
    kind = type(value)
    # Within the bound means finite too (NaN fails every comparison).
    return (kind is int or kind is float) and -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE


def _is_str(value: Any) -> bool:
    return type(value) is str and bool(value)


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_list(value: Any) -> bool:
    return type(value) in (list, tuple) and all(type(v) is str and v for v in value)


KIND_TESTS: dict[str, Callable[[Any], bool]] = {
    "int": _is_int,
    "float": _is_float,
    "str": _is_str,
    "bool": _is_bool,
    "list": _is_list,
}
"""Kind → a test that accepts a subset of what its validator accepts (the import fast path)."""


# -- coercion of text values ------------------------------------------------------------------

_TRUE = {"true", "yes", "1", "on", "up"}
_FALSE = {"false", "no", "0", "off", "down"}


def coerce_text(kind: str, field: str, text: str) -> Any:
    """A text value (CSV cell, ``key=value``) as the Python value of a field of ``kind``."""
    text = text.strip()
    try:
        if kind == "int":
            return int(text.replace("_", ""))
        if kind == "float":
            return float(text.replace("_", ""))
    except ValueError:
        problem = "must be an integer" if kind == "int" else "must be a number"
        raise fail(field, text, problem) from None
    if kind == "bool":
        low = text.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise fail(field, text, "must be true or false")
    if kind == "list":
        return tuple(p.strip() for p in re.split(r"[;,]", text) if p.strip())
    return text
