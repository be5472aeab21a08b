"""The built-in profile ``documented``: every number with a primary source, and nothing else.

The default profile, ``seed``, is what the plugins declare: mostly the seed
note's numbers, which no official source confirms (domain reference §0.1).
``documented`` replaces each parameter that a primary source gives a value
for with that value and its citation; every other parameter keeps its
``seed`` value, marked ``inherited from seed``.

Tags in the citations: OFFICIAL is Check Point's documentation; ANCESTOR
is the documented chassis Scalable Platform (R76SP), which Maestro's
releases descend from; FIRST-HAND is a named engineer or an operator's
capture. OFFICIAL and ANCESTOR values carry provenance ``official``,
FIRST-HAND ones ``community``.

Not found anywhere, so ``seed`` (or ``assumption``) in every profile: an
official HyperSync definition or copy count for Maestro, the 52-members
figure, Maestro failover times, sync bandwidth per member, connection setup
latency, memory per connection on current releases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from twin.profile import Parameter, Profile

NAME = "documented"
INHERITED = "inherited from seed"

R76SP = "https://sc1.checkpoint.com/documents/R76SP/CP_R76SP_SecuritySystem_AdminGuide"
R76SP_LOAD = f"{R76SP}/104540.htm"
R76SP_SYNCXL = f"{R76SP}/104936.htm"
R76SP20_BONDS = (
    "https://sc1.checkpoint.com/documents/R76SP.20/CP_R76SP.20_SecuritySystem_AdminGuide/123724.htm"
)
CPUG_TIM_HALL = (
    "https://www.cpug.org/forums/showthread.php/22237-Question-regarding-failover-in-ClusterXL-"
    "%28and-not-only%29"
)
CHECKMATES_CUL = (
    "https://community.checkpoint.com/t5/Security-Gateways/IN-VAR-LOG-messages-keep-getting-"
    "Stopping-CUL-mode/m-p/115879"
)
BROADCOM_LDSTAT = (
    "https://knowledge.broadcom.com/external/article/168075/"
    "how-to-access-check-point-ha-statistics.html"
)

DOCUMENTED: Mapping[str, Mapping[str, Any]] = {
    "convergence.cpu_threshold_pct": {
        "value": 80.0,
        "provenance": "official",
        "source": "ANCESTOR: the system is under load when the kernel CPU usage of any member "
        "is 80% or more (R76SP Security System Admin Guide, 'System Under Load': "
        f"{R76SP_LOAD})",
    },
    "convergence.normal_s": {
        "value": 3.0,
        "low": 2.5,
        "high": 3.0,
        "provenance": "official",
        "source": "ANCESTOR: a failed member is taken over once it is declared dead, after 3 s "
        "without cluster control packets (BLADE_DEAD_INTERVAL; R76SP Security System Admin "
        f"Guide, 'System Under Load': {R76SP_LOAD}); FIRST-HAND: about 2.5 s on ClusterXL "
        f"(Tim Hall on CPUG: {CPUG_TIM_HALL}). No source gives Maestro a sub-second figure.",
    },
    "convergence.overload_s": {
        "value": 10.0,
        "provenance": "community",
        "source": "FIRST-HAND: while a member's CPU is at or above 80% (Cluster Under Load, "
        f"R77.30 and later) the dead timer is 10 s (Tim Hall on CPUG: {CPUG_TIM_HALL}); "
        f"observed under-load windows last 10-17 s (CheckMates, 2021: {CHECKMATES_CUL})",
    },
    "hypersync.backup_copies": {
        "value": 1.0,
        "provenance": "official",
        "source": "ANCESTOR: SyncXL, HyperSync's documented ancestor, keeps one backup of each "
        "connection on the active site (and one on the standby site) (R76SP Security System "
        f"Admin Guide, 'SyncXL': {R76SP_SYNCXL})",
    },
    "sync.network_gbps": {
        "value": 10.0,
        "provenance": "official",
        "source": "ANCESTOR: sync ports are 10 Gb, bonded two at most, 12 members per chassis "
        f"(R76SP.20 Security System Admin Guide, 'Working with Sync Bonds': {R76SP20_BONDS})",
    },
    "sync.bytes_per_new_connection": {
        "value": 218.0,
        "low": 183.0,
        "high": 218.0,
        "provenance": "official",
        "source": "OFFICIAL (vendor KB, old VSX): average sync operations are SET 183 B and "
        "DELETE 35 B; a connection is set up once and deleted once, 218 B (183 B if its "
        f"deletion is not synced) (Broadcom KB 168075, `cphaprob ldstat`: {BROADCOM_LDSTAT})",
    },
}
"""Parameter name → the value, band, provenance and citation a primary source gives."""


def documented_profile(seed: Profile) -> Profile:
    """The ``documented`` profile over the parameters of ``seed``.

    A parameter a primary source gives (see :data:`DOCUMENTED`) takes that value
    and citation; a parameter whose declared provenance is already ``official``
    or ``community`` keeps it (its plugin declared it from a primary source);
    every other one keeps its seed value with its source prefixed ``inherited
    from seed:``. Parameters of plugins that are not loaded are left out.
    """
    table: dict[str, Parameter] = {}
    for name, p in seed.parameters.items():
        spec = DOCUMENTED.get(name)
        if spec is not None:
            table[name] = attrs.evolve(
                p,
                value=float(spec["value"]),
                low=spec.get("low"),
                high=spec.get("high"),
                provenance=str(spec["provenance"]),
                source=str(spec["source"]),
            )
        elif p.provenance in ("official", "community"):
            table[name] = p
        else:
            table[name] = attrs.evolve(p, source=f"{INHERITED}: {p.source}")
    return Profile(NAME, table)
