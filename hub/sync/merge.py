"""The three-way merge the outbound engine decides with, and the conflict records it leaves.

Values are compared as *projections*: one normalised string per field of the source. Per field,
the hub's value is written only where the source still holds what the hub last saw there; where
a person changed the same field meanwhile, their value stays and a conflict is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base.protocol import Projection as Projection
from hub.meta.conflicts import blocked_properties as blocked_properties
from hub.meta.conflicts import conflict_update

conflict = conflict_update
"""The conflict record (written by :mod:`hub.meta.conflicts`, the meta graph's owner)."""


@dataclass
class Plan:
    updates: dict[str, str]
    conflicts: list[tuple[str, str, str]]  # field, hub value, source value


def settled(hub: Projection, pushed: Projection, base: Projection) -> bool:
    """Whether every hub value is one the hub already wrote or read there: then :func:`plan`
    finds nothing to do whatever the source holds now, and the source need not be read."""
    return all(value in (pushed.get(field), base.get(field)) for field, value in hub.items())


def plan(hub: Projection, pushed: Projection, base: Projection, current: Projection) -> Plan:
    """``hub``: what other sources say now; ``pushed``: what the hub last wrote; ``base``: the
    source as the hub last read it; ``current``: the source now. Absent hub values never erase."""
    result = Plan({}, [])
    for field, value in hub.items():
        if value in (pushed.get(field), current.get(field), base.get(field)):
            # unchanged in the hub, already there, or the source's own value coming back
            continue
        if current.get(field) == base.get(field):
            result.updates[field] = value
        else:
            result.conflicts.append((field, value, current.get(field, "")))
    return result


