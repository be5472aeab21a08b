"""Bad sample plugin: a module with no hook at all."""

from __future__ import annotations

LIMIT = 3
