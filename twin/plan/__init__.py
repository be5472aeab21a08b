"""Change plans: rehearse a maintenance window step by step (contract §3, §4).

A plan file (TOML) names a base (a journal or an event file) and a point in
it, a list of steps (events of the catalog, plugin types too) and what must
hold after them. :func:`read_plan` reads and checks the file;
:func:`check_plan` applies the steps on a what-if session
(:class:`twin.fork.WhatIf`, which never writes the base) and judges every
expectation; :func:`compare_plans` puts two plans side by side.
"""

from __future__ import annotations

from twin.plan.model import Expectation, Plan, Step
from twin.plan.parse import parse_duration, parse_plan, read_plan

__all__ = ["Expectation", "Plan", "Step", "parse_duration", "parse_plan", "read_plan"]
