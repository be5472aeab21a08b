"""The hooks a Maestro Twin plugin may implement (pluggy project ``maestro_twin``).

Every hook starts with ``twin_``. Implement one by decorating a function in
your plugin module with :data:`twin.api.hookimpl`; an implementation may take
any subset of the arguments (pluggy's opt-in arguments), so hooks gain
arguments without breaking plugins.

Registration hooks (``twin_register_*``) are collected one plugin at a time:
a plugin that raises is reported by ``twin plugins`` and the others still
load. They run once per process, at start-up, never per event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

# The markers live in the domain layer (twin.api re-exports hookimpl); kept importable from here.
from twin.hook_markers import PROJECT as PROJECT
from twin.hook_markers import hookimpl as hookimpl
from twin.hook_markers import hookspec as hookspec

if TYPE_CHECKING:
    import click

    from twin.command_context import CommandContext
    from twin.event_files import Importer
    from twin.events import Event
    from twin.frames import Frame
    from twin.profile import Parameter
    from twin.rules import Rule


@hookspec
def twin_register_rules() -> Iterable[Rule]:  # type: ignore[empty-body]
    """Return the rules this plugin provides.

    Called once when the engine is built. Each rule is an object with ``id``,
    ``summary``, ``events``, ``parameters``, ``raises``, ``metrics``,
    ``incremental``, ``doc`` and ``evaluate(ctx)`` (see :class:`twin.api.Rule`);
    the :func:`twin.api.rule` decorator makes one from a function. Rule ids are
    unique across all plugins; the engine runs rules in sorted id order, only
    for the event types they declare, and turns an exception into a
    ``twin.rule-crashed`` finding.

    Returns:
        An iterable of rules (a list is fine).

    Added in 0.1.
    """


@hookspec
def twin_register_event_types() -> Iterable[type[Event]]:  # type: ignore[empty-body]
    """Return extra event classes this plugin understands.

    Each is a frozen attrs subclass of :class:`twin.api.Event` with a new
    snake_case ``event_type`` and a ``schema`` version. Events of these types
    can then be imported and appended; they change no built-in state, but
    rules that declare them run when they occur. Called once at start-up.

    Returns:
        An iterable of event classes.

    Added in 0.1.
    """


@hookspec
def twin_register_parameters() -> Iterable[Parameter]:  # type: ignore[empty-body]
    """Return the parameters (numbers with provenance) this plugin's rules read.

    Each is a :class:`twin.api.Parameter`, best made with
    :func:`twin.api.parameter`: name, value, unit, optional band
    (``low``/``high``), ``provenance`` (``seed``, ``official``, ``community``,
    ``assumption``) and ``source``. They form the default profile ``seed``;
    ``twin profile`` lists them and a profile file overrides them. A name
    declared twice with different values is an error.

    Returns:
        An iterable of parameters.

    Added in 0.1.
    """


@hookspec
def twin_register_importers() -> Iterable[Importer]:  # type: ignore[empty-body]
    """Return readers for other event file formats.

    Each is an object with ``name``, ``suffixes`` (file name endings it reads)
    and ``read(path)`` yielding :class:`twin.api.Record` objects with their
    line numbers (see :class:`twin.api.Importer`). Importers registered here
    are tried before the built-in ``.jsonl`` and ``.csv`` readers.

    Returns:
        An iterable of importers.

    Added in 0.1.
    """


@hookspec
def twin_register_commands(cli: click.Group, context: CommandContext) -> None:
    """Attach subcommands to the ``twin`` command line.

    Called once when the CLI starts, with the top-level click group; add
    commands with ``@cli.command()``. Use names that will not clash with
    built-in commands (prefix them with your plugin's name). An implementation
    may take only ``cli`` (as in 0.1).

    Args:
        cli: the ``twin`` click group.
        context: a :class:`twin.api.CommandContext` (added in 0.2): your command
            opens a SOURCE with ``context.at(source, at)`` or
            ``context.replay(source)``, evaluated with the profile and the plugins
            in effect for this run (``--plugins-dir`` included).

    Added in 0.1.
    """


@hookspec
def twin_frame_evaluated(frame: Frame) -> Any:
    """Observe every evaluated frame (exporters, alert sinks).

    Called after the rules ran for an event, with the :class:`twin.api.Frame`
    (seq, envelope, metrics, active findings, findings raised and cleared).
    The frame's metric view is live: copy what you keep. Observers are called
    directly, not through pluggy's call loop, and only when one is installed,
    so they cost nothing otherwise; one that raises is reported once on stderr
    and the replay goes on (strict mode re-raises). Return value is ignored.

    Args:
        frame: the frame just evaluated.

    Added in 0.1.
    """
