"""What marks a file as a twin journal, and the clock the journal stamps rows with.

A leaf module: :mod:`journal.schema` and :mod:`journal.migrations` both use it,
so neither has to import the other's constants.
"""

from __future__ import annotations

from datetime import UTC, datetime

FORMAT = "maestro-twin-journal"
"""The ``meta.format`` value of every twin journal."""

FORMAT_VERSION = 1
"""The newest journal format this code reads and writes."""


def utc_now() -> str:
    """The wall clock in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
