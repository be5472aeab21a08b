"""Maestro Twin: an event-sourced digital twin of a Check Point Maestro deployment."""

from __future__ import annotations

__version__ = "0.1.0"
