"""Placing catches up by itself: records stored before placing existed, or placed under another
reference version or other placing rules, are placed again once, by the first start or import
that sees the change, instead of waiting for a person to run `maillage places refresh`.

What the store's placings were made with (reference version and :data:`~hub.pipeline.place.RULES`)
is a cursor in the bookkeeping graph, written after the last batch: a run killed halfway is taken
up again at the next start (placing again is idempotent), and an up-to-date hub pays one query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hub.meta.cursors import read_cursor, write_cursor
from hub.pipeline.place import RULES, Placer
from hub.pipeline.place_again import refresh_plans
from hub.store.base import Store
from hub.store.transaction import Transaction
from hub.territories.reference import SOURCE

log = logging.getLogger(__name__)

CURSOR = "placing:rules"


def stamp(placer: Placer) -> str:
    """What placings made now depend on: the reference version and the rules."""
    package, version = placer.reference()
    return f"{package}@{version} rules {RULES}"


def ensure_placed(
    store: Store, base: str, placer: Placer | None = None,
    progress: Callable[[int], None] | None = None,
) -> int | None:
    """Place the stored records again unless the store's placings are up to date; the number of
    records placed again, or None when nothing had to be done (or placing is off or has no
    reference). ``progress`` gets the running count after each batch. The reference's own
    territories are not read (a territory is never placed)."""
    placer = placer or Placer(base)
    if not placer.enabled:
        return None
    try:
        wanted = stamp(placer)
    except OSError as exc:  # a hub installed without the reference data
        log.warning("territory reference unavailable, stored records are not placed: %s", exc)
        return None
    if read_cursor(store, base, CURSOR) == wanted:
        return None
    placed = 0
    for count, tx in refresh_plans(store, placer, skip=(SOURCE,)):
        if not tx.empty:
            store.commit(tx)
        placed += count
        if progress is not None:
            progress(placed)
    done = Transaction()
    write_cursor(done, base, CURSOR, wanted)
    store.commit(done)
    log.info("placing caught up (%s): %d stored record(s) placed again", wanted, placed)
    return placed
