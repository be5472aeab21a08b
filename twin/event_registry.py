"""The event registry: which event types one process knows, and payloads ↔ events.

The twin builds one :class:`EventRegistry` from the core catalog
(:data:`~twin.event_catalog.CORE_EVENTS`) plus the classes plugins return from
``twin_register_event_types``. It maps each public type name to its class,
knows each field's kind (for text values), upcasts old payload schemas with
the functions registered by :meth:`EventRegistry.upcaster`, and is the single
place where payloads become events: :meth:`~EventRegistry.decode` validates
and explains, :meth:`~EventRegistry.decode_stored` is the replay hot path.
(Events become payloads with :meth:`~twin.event_catalog.Event.to_data`.)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from twin.errors import EventDataError, UnknownEventTypeError
from twin.event_catalog import CORE_EVENTS, Event, OpaqueEvent
from twin.field_kinds import KIND_TESTS, coerce_text, field_kinds

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventRegistry:
    """The event types known in one process, and the upcasters of old payloads.

    The twin builds one from :data:`CORE_EVENTS` plus whatever plugins
    register. Decoding is the single place where payloads become events.
    """

    def __init__(self, classes: Iterable[type[Event]] = CORE_EVENTS) -> None:
        self._classes: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._fields: dict[str, dict[str, str]] = {}
        self._defaults: dict[str, tuple[tuple[str, Any], ...]] = {}
        self._builders: dict[str, Callable[[Mapping[str, Any]], Event | None]] = {}
        self._checked: dict[str, Callable[[Mapping[str, Any]], Event | None]] = {}
        for cls in classes:
            self.register(cls)

    def register(self, cls: type[Event]) -> None:
        """Add an event class; its ``event_type`` must be new and snake_case."""
        name = cls.event_type
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name or ""):
            raise ValueError(f"event class {cls.__name__} needs a snake_case event_type")
        known = self._classes.get(name)
        if known is not None and known is not cls:
            raise ValueError(f"event type {name!r} is already registered by {known.__name__}")
        self._classes[name] = cls
        self._fields[name] = field_kinds(cls)
        trusted = all(
            not isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
            for a in attrs.fields(cls)
        )
        if trusted:
            self._defaults[name] = tuple((a.name, a.default) for a in attrs.fields(cls))
            checked = _checked_builder(cls)
            if checked is not None:
                self._checked[name] = checked
                # Skipping validation on replay is only safe for classes whose checks we
                # know (the catalog's field helper): a plugin's class may convert values
                # (converter=int), and its events may have been stored as opaque, never
                # validated, while the plugin was absent.
                self._builders[name] = _stored_builder(cls)

    def upcaster(self, event_type: str, from_schema: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register a function that turns a ``from_schema`` payload into the next one."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_schema)] = fn
            return fn

        return decorate

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._classes

    def get(self, event_type: str) -> type[Event] | None:
        """The class of ``event_type``, or None."""
        return self._classes.get(event_type)

    def names(self) -> list[str]:
        """Every known event type, sorted."""
        return sorted(self._classes)

    def fields(self, event_type: str) -> dict[str, str]:
        """Field name → kind (int, float, str, bool, list) of a known type."""
        return self._fields[event_type]

    def suggest(self, event_type: str) -> str | None:
        """The closest known type name, for 'did you mean' messages."""
        found = difflib.get_close_matches(event_type, self._classes, n=1, cutoff=0.5)
        return found[0] if found else None

    def unknown_type_error(self, event_type: str) -> UnknownEventTypeError:
        """An error for an unknown ``type`` that suggests the closest known one."""
        hint = self.suggest(event_type)
        tail = f"; did you mean {hint!r}?" if hint else ""
        return UnknownEventTypeError(
            f"unknown event type {event_type!r}{tail} (use --allow-unknown to keep it anyway)",
            field="type",
            value=event_type,
        )

    def schema_of(self, event_type: str) -> int:
        """The current payload schema of ``event_type`` (1 for unknown types)."""
        cls = self._classes.get(event_type)
        return cls.schema if cls is not None else 1

    def decode(
        self,
        event_type: str,
        data: Mapping[str, Any],
        *,
        schema: int | None = None,
        coerce: bool = False,
        allow_unknown: bool = False,
    ) -> Event:
        """Turn a payload into an event, upcasting old schemas first.

        Args:
            event_type: the public type name.
            data: the payload fields.
            schema: the payload's schema version; None means current.
            coerce: convert text values (CSV cells, ``key=value``) to each field's type.
            allow_unknown: return an :class:`OpaqueEvent` for an unknown type instead of
                raising :class:`~twin.errors.UnknownEventTypeError`.

        Raises:
            EventDataError: a field is missing, unexpected or invalid.
            UnknownEventTypeError: ``event_type`` is unknown and ``allow_unknown`` is false.
        """
        cls = self._classes.get(event_type)
        if cls is None:
            if allow_unknown:
                return OpaqueEvent(original_type=event_type, data=dict(data))
            raise self.unknown_type_error(event_type)
        if not coerce and (schema is None or schema == cls.schema):
            checked = self._checked.get(event_type)
            if checked is not None:
                event = checked(data)
                if event is not None:
                    return event  # valid: the slow path below would build the same event
        payload = dict(data)
        if schema is not None and schema != cls.schema:
            payload = self.upcast(event_type, schema, payload)
        kinds = self._fields[event_type]
        for name in payload:
            if name not in kinds:
                hint = difflib.get_close_matches(name, kinds, n=1)
                valid = f"did you mean {hint[0]!r}?" if hint else f"valid: {', '.join(kinds)}"
                raise EventDataError(
                    f"unknown field for {event_type}; {valid}", field=name, value=payload[name]
                )
        if coerce:
            for name, value in list(payload.items()):
                if isinstance(value, str) and kinds[name] != "str":
                    payload[name] = coerce_text(kinds[name], name, value)
        try:
            return cls(**payload)
        except (TypeError, ValueError, ArithmeticError) as exc:
            missing = [
                a.name
                for a in attrs.fields(cls)
                if a.default is attrs.NOTHING and a.name not in payload
            ]
            if missing:
                raise EventDataError(
                    f"required field missing for {event_type}", field=missing[0]
                ) from exc
            # A plugin's own validator or converter refused a value (attrs validators and
            # converter=int raise ValueError or TypeError): name the field if we can.
            field = _failed_field(cls, payload, exc)
            shown = payload.get(field) if field is not None else None
            raise EventDataError(
                f"{exc} (got {shown!r})" if field is not None else str(exc),
                field=field or "type",
                value=shown if field is not None else event_type,
            ) from exc

    def decode_stored(self, event_type: str, data: Mapping[str, Any], schema: int) -> Event:
        """Decode a payload that was validated when it was appended (the replay hot path).

        Field validators are skipped by building the object directly (thread-safe,
        unlike switching attrs validators off globally). Anything unexpected falls
        back to :meth:`decode`, which validates and explains.
        """
        build = self._builders.get(event_type)
        if build is not None and schema == self._classes[event_type].schema:
            event = build(data)
            if event is not None:
                return event
        return self.decode(event_type, data, schema=schema, allow_unknown=True)

    def upcast(self, event_type: str, schema: int, data: dict[str, Any]) -> dict[str, Any]:
        """Apply the upcaster chain from ``schema`` to the current schema of ``event_type``."""
        cls = self._classes[event_type]
        while schema < cls.schema:
            step = self._upcasters.get((event_type, schema))
            if step is None:
                raise EventDataError(
                    f"no upcaster from schema {schema} of {event_type}",
                    field="schema",
                    value=schema,
                )
            data = step(dict(data))
            schema += 1
        if schema > cls.schema:
            raise EventDataError(
                f"schema {schema} of {event_type} is newer than this twin knows ({cls.schema}); "
                "upgrade maestro-twin or the plugin that defines it",
                field="schema",
                value=schema,
            )
        return data


def _failed_field(cls: type[Event], payload: Mapping[str, Any], exc: BaseException) -> str | None:
    """The field a plugin class's validator or converter refused, if it can be told.

    attrs' type validators put the field's ``Attribute`` in the exception's args;
    otherwise each given field's converter and validator are tried on its value.
    """
    for arg in exc.args:
        if isinstance(arg, attrs.Attribute):
            return str(arg.name)
    for a in attrs.fields(cls):
        if a.name not in payload:
            continue
        value = payload[a.name]
        try:
            if a.converter is not None:
                value = a.converter(value)
            if a.validator is not None:
                a.validator(None, a, value)
        except Exception:
            return str(a.name)
    return None


def _stored_builder(cls: type[Event]) -> Callable[[Mapping[str, Any]], Event | None]:
    """A function that builds a ``cls`` from a stored payload without validating it.

    It sets the slots directly (through their descriptors) and returns None when
    the payload has a field ``cls`` does not know or lacks a required one, so that
    the caller can fall back to the validating path, which explains.
    """
    fields = attrs.fields(cls)
    names = frozenset(a.name for a in fields)
    slots = []
    for a in fields:
        descriptor = getattr(cls, a.name, None)
        setter = getattr(descriptor, "__set__", None)
        if setter is None:  # not a slotted attrs class: use the generic setter
            setter = _setter_of(a.name)
        slots.append((setter, a.name, a.default))
    plan = tuple(slots)
    missing = attrs.NOTHING
    new = object.__new__

    def build(data: Mapping[str, Any]) -> Event | None:
        if not names.issuperset(data):
            return None
        event = new(cls)
        get = data.get
        for setter, name, default in plan:
            value = get(name, default)
            if value is missing:
                return None
            if type(value) is list:
                value = tuple(value)
            setter(event, value)
        return event

    return build


def _checked_builder(cls: type[Event]) -> Callable[[Mapping[str, Any]], Event | None] | None:
    """A validating builder of ``cls`` for the import hot path, or None if it cannot have one.

    Only for classes whose every field is declared with :func:`twin.field_kinds.field`:
    it runs the same checks as the attrs validators (kind, then each check, then
    ``__attrs_post_init__``) without attrs' per-field machinery. It accepts a
    subset of what the validating constructor accepts (exact types only) and
    returns None for anything else, so that the caller takes the slow path,
    which either accepts it too or explains what is wrong.
    """
    fields = attrs.fields(cls)
    plan = []
    for a in fields:
        kind = a.metadata.get("kind")
        checks = a.metadata.get("checks")
        descriptor = getattr(cls, a.name, None)
        setter = getattr(descriptor, "__set__", None)
        if kind not in KIND_TESTS or checks is None or setter is None:
            return None
        plan.append((setter, a.name, a.default, KIND_TESTS[kind], checks, kind == "list"))
    names = frozenset(a.name for a in fields)
    post = getattr(cls, "__attrs_post_init__", None)
    missing = attrs.NOTHING
    new = object.__new__
    steps = tuple(plan)

    def build(data: Mapping[str, Any]) -> Event | None:
        if not names.issuperset(data):
            return None
        event = new(cls)
        get = data.get
        for setter, name, default, test, checks, is_list in steps:
            value = get(name, default)
            if value is None:
                if default is not None:
                    return None
            else:
                if value is missing or not test(value):
                    return None
                for check in checks:
                    if check(name, value) is not None:
                        return None
                if is_list:
                    value = tuple(value)
            setter(event, value)
        if post is not None:
            try:
                post(event)
            except EventDataError:
                return None
        return event

    return build


def _setter_of(name: str) -> Callable[[object, Any], None]:
    def setter(obj: object, value: Any) -> None:
        object.__setattr__(obj, name, value)

    return setter


def default_registry() -> EventRegistry:
    """A registry of the core catalog only (plugins' types are added by the plugin manager)."""
    return EventRegistry(CORE_EVENTS)
