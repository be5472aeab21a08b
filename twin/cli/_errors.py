"""How click's usage errors reach people: one line, like every other error.

click prints a three-line block (usage, "Try … --help", then the error) for a
bad option value. The twin's errors are one line each, so a usage error is
rewritten as ``twin: error: --at: 'abc' is not a valid integer (see 'twin
state --help')`` with exit code 2. Whatever maps errors to exit codes (that is
:func:`twin.cli.exit_code_of`, run by the click group itself) calls
:func:`usage_line`; nothing else formats them.
"""

from __future__ import annotations

import re

import click

_INVALID_VALUE = re.compile(r"^Invalid value for (?P<hint>.+?): ")
_QUOTED = re.compile(r"^'(?P<inner>[^']*)'$")


def _hint(text: str) -> str:
    """``'--at'`` → ``--at``; ``'--format' / '-f'`` stays as it is."""
    quoted = _QUOTED.match(text)
    return quoted["inner"] if quoted else text


def usage_line(exc: click.UsageError) -> str:
    """The one line printed for a usage error (without the ``twin: error:`` prefix).

    A bare ``twin`` (no command) is not an error of this kind: it shows the
    help, which is :class:`click.exceptions.NoArgsIsHelpError`; callers print
    its message whole.
    """
    message = exc.format_message().strip()
    found = _INVALID_VALUE.match(message)
    if found is not None:
        message = f"{_hint(found['hint'])}: {message[found.end() :]}"
    message = message.rstrip(".") if message.endswith(".") and "?" not in message else message
    command = exc.ctx.command_path if exc.ctx is not None else "twin"
    return f"{message} (see '{command} --help')"


def is_help_request(exc: click.UsageError) -> bool:
    """True for the usage error click raises to show help (``twin`` with no command)."""
    return isinstance(exc, click.exceptions.NoArgsIsHelpError)
