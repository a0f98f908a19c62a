"""The connectors' side of the hub: the protocol every connector implements, and helpers.

``protocol`` is the whole contract (Reader, Writer, HubView and the values they exchange); the
hub drives it from ``hub.sync`` and owns every sync policy, so a connector only does its
source's I/O. The other modules are helpers a connector may use: ``deletions`` (refuse to
delete most of a source at once), ``prefetch`` (read ahead while mapping), ``secrets``,
``mapping`` (checking a mapping file's entries).
"""

from __future__ import annotations

from connectors.base.protocol import (
    AlreadyExists,
    Batch,
    Connector,
    Current,
    HubView,
    Projection,
    Reader,
    StaleRevision,
    Target,
    Writer,
    WriteRefused,
)
from hub.errors import HubError

__all__ = [
    "AlreadyExists",
    "Batch",
    "Connector",
    "ConnectorError",
    "Current",
    "HubView",
    "Projection",
    "Reader",
    "StaleRevision",
    "Target",
    "WriteRefused",
    "Writer",
]


class ConnectorError(HubError):
    """A source cannot be used as configured (unreachable, login refused, not the expected API);
    the message is for the person running the sync."""
