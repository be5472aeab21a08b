"""Subjects: what a metric or finding is about, as text (``member:1_01``) and parsed.

A subject is a string ``<kind>:<key>`` (``member:1_01``, ``group:1``,
``site:2``, ``link:sync-1``, ``orchestrator:mho-1``), or ``system`` for the
whole deployment. Rules write subjects as strings (cheap, and what the JSON
output shows); :class:`Subject` takes one apart when a rule needs its kind or
key, and :func:`group_of` answers the question the built-ins kept asking:
which group is this about?

Added in plugin API 0.2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from twin.state import TwinState

SYSTEM = "system"
"""The subject of deployment-wide metrics and findings."""


class Subject(NamedTuple):
    """A subject taken apart: ``Subject.parse("member:1_01")`` is ``Subject("member", "1_01")``.

    Attributes:
        kind: ``member``, ``group``, ``site``, ``link``, ``orchestrator``,
            ``system``, or whatever a plugin uses.
        key: what follows the first ``:`` (``1_01``, ``1``); empty for ``system``.
    """

    kind: str
    key: str

    @classmethod
    def parse(cls, text: str) -> Subject:
        """Take ``text`` apart at its first ``:`` (``"system"`` → kind ``system``, key ``""``)."""
        kind, _, key = text.partition(":")
        return cls(kind, key)

    @property
    def number(self) -> int:
        """The key as a number (groups and sites are numbered).

        Raises:
            ValueError: the key is not a whole number (``member:1_01``).
        """
        key = self.key
        if not (key.isascii() and key.isdigit()):  # int() would take "1_01" as 101
            raise ValueError(f"subject {self} has no number: {key!r} is not a whole number")
        return int(key)

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}" if self.key else self.kind


def group_of(state: TwinState, subject: str) -> int | None:
    """The group ``subject`` belongs to: a group's own number, a member's group, else None.

    None too for a member or group that does not exist (any more).

    Example::

        group_of(ctx.state, "member:1_03")   # 1
        group_of(ctx.state, "group:2")       # 2
        group_of(ctx.state, "system")        # None
    """
    if subject[:7] == "member:":
        member = state.members.get(subject[7:])
        return None if member is None else int(member["group"])
    if subject[:6] == "group:":
        key = subject[6:]
        if key.isascii() and key.isdigit() and int(key) in state.groups:
            return int(key)
    return None
