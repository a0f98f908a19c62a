"""Walking an endpoint's pages the way its API pages: page/size, offset/limit, ``next`` links,
cursors, or a single answer.

Each page yields the records it holds, as found at the mapping's ``records`` path. A listing
that announces a ``total`` is checked against what was read and against itself from page to page:
when records moved between pages during the walk (the source changed meanwhile), the reader is
told the listing is incomplete and deletes nothing on its word.

An API may also page forever: the same page again whatever the page number (a parameter it
ignores), or pages without end. A page holding exactly the records of an earlier one ends the
walk, as does the mapping's ``max_pages``; either way the listing is incomplete (nothing deleted)
and the sync says why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connectors.jsonapi.client import ApiClient, ApiError
from connectors.jsonapi.mapping import Endpoint
from connectors.jsonapi.paths import walk
from hub.iris import is_web_address


@dataclass
class Listing:
    """What the walk learnt besides the records."""

    read: int = 0
    total: int | None = None
    pages: int = 0
    license: str | None = None
    """The licence IRI the answers state (the endpoint's ``license`` path), if any."""
    totals: set[int] = field(default_factory=set)
    """Every total the pages announced: more than one, and records moved between pages while
    they were read (one deleted on page 1 shifts a record of page 2 onto page 1, unseen)."""
    cut: str | None = None
    """Why the walk stopped before the listing's end (a repeated page, max_pages), if it did."""

    @property
    def complete(self) -> bool:
        if self.cut is not None:
            return False
        return self.total is None or (self.read >= self.total and len(self.totals) <= 1)


def pages(client: ApiClient, endpoint: Endpoint, listing: Listing,
          extra: dict[str, str] | None = None) -> Iterator[list[Any]]:
    """The records of each page of ``endpoint`` (``extra`` query parameters: an updated-since
    filter); ``listing`` is filled as the walk goes."""
    paging = endpoint.paging
    params: dict[str, str | int] = {**dict(endpoint.params), **(extra or {})}
    url: str | None = endpoint.path
    number = paging.first
    offset = 0
    seen_links: set[str] = set()
    seen_pages: set[bytes] = set()
    while url is not None:
        if listing.pages >= client.mapping.max_pages:
            listing.cut = f"stopped at max_pages = {client.mapping.max_pages}"
            return
        query = dict(params)
        if paging.kind == "page":
            query.update({paging.page: number, paging.size: paging.size_value})
        elif paging.kind == "offset":
            query.update({paging.offset: offset, paging.size: paging.size_value})
        elif paging.kind == "cursor" or (paging.kind == "next" and paging.size):
            query[paging.size] = paging.size_value  # next: only on the first request
        body = client.get(url, query if paging.kind != "next" or listing.pages == 0 else None)
        records = _records(body, endpoint, url)
        ids = "\x00".join(str(walk(r, endpoint.id)) if isinstance(r, dict) else repr(r) for r in records)
        fingerprint = hashlib.sha256(ids.encode()).digest()  # the ids: cheap, and what a repeat repeats
        if records and fingerprint in seen_pages:
            listing.cut = f"page {listing.pages + 1} holds the same records as an earlier page"
            return
        seen_pages.add(fingerprint)
        listing.pages += 1
        listing.read += len(records)
        if endpoint.license:
            stated = walk(body, endpoint.license)
            stated = stated.strip() if isinstance(stated, str) else None
            listing.license = stated if stated and is_web_address(stated) else None
        if paging.total:
            total = walk(body, paging.total)
            if isinstance(total, int):
                listing.total = total
                listing.totals.add(total)
        yield records
        if paging.kind == "none" or not records:
            return
        if paging.kind == "page":
            count = walk(body, paging.pages) if paging.pages else None
            if (isinstance(count, int) and number - paging.first + 1 >= count) or (
                count is None and len(records) < paging.size_value
            ):
                return
            number += 1
        elif paging.kind == "offset":
            if len(records) < paging.size_value or (
                listing.total is not None and listing.read >= listing.total
            ):
                return
            offset += len(records)
        elif paging.kind == "next":
            link = walk(body, paging.next)
            if not link or not isinstance(link, str) or link in seen_links:
                return
            seen_links.add(link)
            url = link
        elif paging.kind == "cursor":
            cursor = walk(body, paging.next)
            if cursor in (None, "") or str(cursor) in seen_links:
                return
            seen_links.add(str(cursor))
            params[paging.cursor] = str(cursor)


def _records(body: Any, endpoint: Endpoint, url: str) -> list[Any]:
    found = walk(body, endpoint.records)
    if found is None and isinstance(body, dict) and endpoint.records not in body:
        raise ApiError(
            f"{url[:200]}: the answer has no '{endpoint.records}' "
            f"(keys: {', '.join(repr(k[:40]) for k in list(body)[:10])}); "
            f"check the endpoint's records path in the mapping"
        )
    if found is None:
        return []
    if not isinstance(found, list):
        raise ApiError(f"{url[:200]}: '{endpoint.records or 'the answer'}' is not a list of records")
    return found
