"""What Check Point gateways print, shared by the built-in importers: times, states, prompts.

Not a plugin (no entry point): the helpers the ``clusterxl-syslog``,
``cphaprob-state`` and ``asg-stat`` importers share. Times come back as
:class:`datetime` objects, without a zone unless the text gives one; the
importer hands them to ``ctx.utc`` (which applies ``--tz``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}

_MON = r"(?P<mon>[A-Za-z]{3})"
_DAY = r"(?P<day>[0-9]{1,2})"
_HMS = r"(?P<hms>[0-9]{1,2}:[0-9]{2}:[0-9]{2})"
_WEEKDAY = r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)"

CTIME = re.compile(
    rf"^\s*{_WEEKDAY}?{_MON}\s+{_DAY}\s+{_HMS}(?:\s+(?P<zone>[A-Za-z]{{2,5}}|[+-][0-9]{{4}}))?"
    r"\s+(?P<year>[0-9]{4})\s*$",
    re.IGNORECASE,
)
"""A ``date``/ctime line: ``Sun Sep  8 15:28:39 2019``, ``Wed Mar 12 01:33:38 UTC 2025``."""

ISO = re.compile(
    r"^(?P<iso>[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})?)"
)

SYSLOG = re.compile(
    rf"^\s*(?:<[0-9]{{1,3}}>)?{_MON}\s+{_DAY}\s+{_HMS}(?:\s+(?P<year>[0-9]{{4}}))?\s+"
    r"(?P<host>\S+)\s+(?P<prog>[^\s:\[]+)(?:\[[0-9]+\])?:\s*(?P<msg>.*)$",
    re.IGNORECASE,
)
"""A BSD syslog line, with or without a year: ``Mar 3 02:14:07 [2026] host kernel: text``."""

SYSLOG_ISO = re.compile(
    r"^\s*(?:<[0-9]{1,3}>)?(?P<iso>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(?:Z|[+-][0-9:]+)?)\s+"
    r"(?P<host>\S+)\s+(?P<prog>[^\s:\[]+)(?:\[[0-9]+\])?:\s*(?P<msg>.*)$"
)
"""An rsyslog high-precision line: ``2026-03-03T02:14:07.120+01:00 host kernel: text``."""

PROMPT = re.compile(
    r"^\s*(?:\[(?:Expert|admin)?@(?P<host1>[^\s:\]]+)(?::[0-9]+)?\]#|(?P<host2>[A-Za-z0-9._-]*)>)\s*"
    r"(?P<command>.*)$"
)
"""A prompt line: ``[Expert@host:0]# cphaprob state``, ``Member1> show cluster state``."""


def prompt_host(line: str) -> tuple[str, str] | None:
    """``(hostname, command)`` of a prompt line, or None."""
    match = PROMPT.match(line)
    if not match:
        return None
    host = match.group("host1") or match.group("host2") or ""
    return (host, match.group("command").strip())


def month(text: str) -> int | None:
    """``Mar`` (any case) → 3; None if not a month."""
    return MONTHS.get(text[:3].lower())


def ctime(text: str) -> datetime | None:
    """A ``date``/ctime line as a datetime (aware only for ``UTC``/``GMT``/numeric zones)."""
    match = CTIME.match(text)
    if not match:
        return None
    number = month(match.group("mon"))
    if number is None:
        return None
    hour, minute, second = (int(p) for p in match.group("hms").split(":"))
    try:
        moment = datetime(
            int(match.group("year")), number, int(match.group("day")), hour, minute, second
        )
    except ValueError:
        return None
    zone = (match.group("zone") or "").upper()
    if zone in ("UTC", "GMT", "Z"):
        return moment.replace(tzinfo=UTC)
    if zone[:1] in "+-" and zone:
        offset = datetime.strptime(zone, "%z").tzinfo
        return moment.replace(tzinfo=offset)
    return moment


def zone_word(text: str) -> str | None:
    """The zone abbreviation a ``date`` line prints (``CET``), if it is not UTC/GMT/numeric."""
    match = CTIME.match(text)
    if not match or not match.group("zone"):
        return None
    zone = match.group("zone").upper()
    return None if zone in ("UTC", "GMT", "Z") or zone[:1] in "+-" else zone


def iso(text: str) -> datetime | None:
    """An ISO 8601 time at the start of ``text``, or None."""
    match = ISO.match(text.strip())
    if not match:
        return None
    try:
        return datetime.fromisoformat(match.group("iso").replace("Z", "+00:00"))
    except ValueError:
        return None


# -- member states ------------------------------------------------------------------------------

UP_STATES = ("UP", "ACTIVE", "STANDBY", "BACKUP", "ACTIVE ATTENTION")
DOWN_STATES = ("DOWN", "INIT", "LOST", "READY", "DEAD")

STATES = (
    r"ACTIVE\s*\(![A-Z]*\)|ACTIVE!|ACTIVE\s+ATTENTION|ACTIVE|STANDBY|BACKUP|"
    r"DOWN\s*\(admin\)|DOWN|INIT|LOST|READY|DEAD"
)
"""The ClusterXL states as a regular-expression alternation (no group)."""


def normal_state(word: str) -> str:
    """A state as printed (``Active``, ``active(!)``, ``DOWN (admin)``) in one spelling."""
    text = re.sub(r"\s+", " ", word.strip()).upper()
    text = text.replace("( ", "(").replace(" (!", "(!")
    if text.startswith("DOWN") and "ADMIN" in text:
        return "DOWN (admin)"
    return text


def health(word: str) -> str | None:
    """What a printed state means for the twin: ``up``, ``down``, ``admin`` or None (unknown).

    ``ACTIVE``, ``ACTIVE(!)``/``ACTIVE!`` (degraded but passing traffic),
    ``STANDBY`` and ``BACKUP`` are up; ``DOWN``, ``INIT``, ``LOST``, ``READY``
    (a member that does not pass traffic yet, e.g. a newer version than its
    peers) and ``DEAD`` are down; ``DOWN (admin)`` is admin down.
    """
    state = normal_state(word)
    if state == "DOWN (admin)":
        return "admin"
    if state.startswith("ACTIVE") or state in UP_STATES:
        return "up"
    if state in DOWN_STATES:
        return "down"
    return None


TWIN_HEALTH = {"UP": "up", "DOWN": "down", "DOWN_ADMIN": "admin", "UPGRADING": "upgrading"}
"""The twin's member states in the words of :func:`health`."""


def transition(member: str, before: str, after: str, cause: str | None) -> dict[str, object] | None:
    """The event that takes ``member`` from health ``before`` to ``after`` (None: no change).

    Args:
        member: the member id.
        before: ``up``, ``down``, ``admin`` or ``upgrading`` (the twin's view).
        after: ``up``, ``down`` or ``admin`` (what the output says).
        cause: why, for ``member_failed``.
    """
    if before == after or before == "upgrading":
        return None
    if after == "down":
        event: dict[str, object] = {"type": "member_failed", "member": member}
        if cause:
            event["cause"] = cause
        return event
    if after == "admin":
        return {"type": "member_admin_changed", "member": member, "up": False}
    if before == "admin":
        return {"type": "member_admin_changed", "member": member, "up": True}
    return {"type": "member_recovered", "member": member}
