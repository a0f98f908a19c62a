"""A careful MediaWiki API client on mwclient: bot login, User-Agent, maxlag, retries, edit pace.

mwclient already retries HTTP 5xx, timeouts and lag headers (``max_retries`` times, waiting
``retry_wait`` seconds more each time); this wrapper adds the API-level errors that mean "later"
(``maxlag``, ``ratelimited``, ``readonly``), a minimum interval between edits, and messages a
person can act on when the wiki answers HTML, refuses the password or the URL is wrong.
mwclient talks through :class:`GuardedSession`: the wiki's own host and port only (a redirect
elsewhere is refused, the bot password and login cookies stay home), each answer bounded in time
(``timeout``, whole answer) and size (``max_page_bytes``).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import mwclient
import mwclient.errors
import requests

from connectors.base import ConnectorError
from connectors.base.http import GuardedHttp, Refused, host_of
from connectors.mediawiki.session import GuardedSession

log = logging.getLogger("maillage.mediawiki")
USER_AGENT = "Maillage/0.1 (linked-data hub for territorial commons; MediaWiki connector)"
RETRY_LATER = {"maxlag", "ratelimited", "readonly", "internal_api_error_DBQueryError"}
PAGE_BATCH = 50
T = TypeVar("T")


class WikiError(ConnectorError):
    """The wiki cannot be used as configured; the message says why."""


class EditConflict(Exception):
    """Someone else changed the page since the revision the edit was based on."""


@dataclass(frozen=True)
class SavedRevision:
    """What the wiki says of an edit it saved: enough to know the page without reading it."""

    pageid: int
    title: str
    revid: int
    timestamp: str


@dataclass(frozen=True)
class PageRevision:
    """The latest revision of a page as read from the API."""

    pageid: int
    title: str
    revid: int
    timestamp: str
    text: str
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientSettings:
    user_agent: str = USER_AGENT
    timeout: float = 30.0
    max_page_bytes: int = 100_000_000  # 50 pages of a wiki's 2 MB maximum
    max_retries: int = 5
    retry_wait: float = 2.0
    edit_interval: float = 1.0  # seconds between two edits
    maxlag: int = 5


class WikiClient:
    """One logged-in session with one wiki."""

    def __init__(
        self, api_url: str, user: str | None, password: str | None, settings: ClientSettings | None = None
    ) -> None:
        self.settings = settings or ClientSettings()
        parts = urlsplit(api_url)
        if not parts.scheme or not parts.netloc or not parts.path.endswith("api.php"):
            raise WikiError(f"{api_url!r} is not an api.php URL (e.g. https://wiki.example.org/api.php)")
        self.api_url = api_url
        self.user = user
        self._http = GuardedHttp({host_of(api_url)}, self.settings.timeout, self.settings.max_page_bytes,
                                 headers={"User-Agent": f"{self.settings.user_agent} mwclient"})
        self._site_options = dict(
            host=parts.netloc,
            path=parts.path[: -len("api.php")],
            scheme=parts.scheme,
            clients_useragent=self.settings.user_agent,
            max_retries=self.settings.max_retries,
            retry_timeout=self.settings.retry_wait,
            connection_options={"timeout": self.settings.timeout},
            force_login=bool(user),
            do_init=False,
        )
        self._last_edit = 0.0
        self.site = self._retrying(lambda: self._connect(user, password), "connect to")

    def _connect(self, user: str | None, password: str | None) -> mwclient.Site:
        """A fresh session each attempt: a half-done bot-password login cannot be resumed."""
        self._http.http.cookies.clear()
        site = mwclient.Site(**self._site_options, pool=GuardedSession(self._http))
        try:
            if user:
                site.login(user, password or "")  # mwclient reads the site info after logging in
            else:
                site.site_init()
        except mwclient.errors.LoginError as exc:
            raise WikiError(f"the wiki refused the login of {user!r}: {exc}") from exc
        return site

    def _retrying(self, attempt: Callable[[], T], what: str) -> T:
        """Run ``attempt``, waiting and retrying (doubling the wait) while the wiki says "later"
        or the network fails; other errors go through, with a message when the answer is not JSON."""
        wait = self.settings.retry_wait
        for number in range(self.settings.max_retries + 1):
            last = number == self.settings.max_retries
            try:
                return attempt()
            except mwclient.errors.APIError as exc:
                if exc.code not in RETRY_LATER or last:
                    raise
                log.warning("wiki says %s; retrying in %.1f s", exc.code, wait)
            except Refused as exc:  # another host, too big, too slow: asking again cannot help
                raise WikiError(f"{self.api_url}: {exc}") from exc
            except RecursionError as exc:
                raise WikiError(f"{self.api_url} answered JSON nested too deep to read") from exc
            except (ValueError, mwclient.errors.InvalidResponse) as exc:
                raise WikiError(
                    f"{self.api_url} answered something that is not JSON (an HTML error page?)"
                ) from exc
            except (requests.RequestException, mwclient.errors.MaximumRetriesExceeded) as exc:
                if last:
                    raise WikiError(f"cannot {what} {self.api_url} ({number + 1} attempts): {exc}") from exc
                log.warning("wiki request failed (%s); retrying in %.1f s", exc, wait)
            time.sleep(wait)
            wait *= 2
        raise WikiError("unreachable")  # the loop always returns or raises

    def for_thread(self) -> WikiClient:
        """The same login on its own HTTP session, for reading from a second thread (a requests
        session is not meant to be shared between threads)."""
        connection = self.site.connection
        assert isinstance(connection, GuardedSession)
        twin = copy.copy(self)
        twin.site = copy.copy(self.site)
        twin.site.connection = connection.twin()
        return twin

    def close(self) -> None:
        self.site.connection.close()

    def call(self, action: str, http_method: str = "GET", **params: Any) -> dict[str, Any]:
        """One API call, waiting and retrying while the wiki says "later"."""
        params.setdefault("formatversion", 2)
        return self._retrying(lambda: dict(self.site.api(action, http_method, **params)), "query")

    def query(self, **params: Any) -> Iterator[dict[str, Any]]:
        """``action=query`` with continuation: one result per batch."""
        params = {k: v for k, v in params.items() if v is not None}
        while True:
            result = self.call("query", **params)
            yield result
            if "continue" not in result:
                return
            params.update(result["continue"])

    def pages(self, **selector: Any) -> Iterator[list[PageRevision]]:
        """Pages with their latest content, 50 a request, for a generator or titles/pageids."""
        merged: dict[int, dict[str, Any]] = {}
        for result in self.query(
            prop="revisions|categories",
            rvprop="ids|timestamp|content",
            rvslots="main",
            cllimit="max",
            clshow="!hidden",
            **selector,
        ):
            for page in result.get("query", {}).get("pages", []):
                entry = (
                    merged.setdefault(page["pageid"], {"page": page, "categories": []})
                    if "pageid" in page
                    else None
                )
                if entry is None:
                    continue
                entry["categories"] += [c["title"].split(":", 1)[-1] for c in page.get("categories", [])]
                if "revisions" in page:
                    entry["page"] = {**entry["page"], "revisions": page["revisions"]}
            if result.get("batchcomplete"):
                yield [
                    _revision(e["page"], e["categories"]) for e in merged.values() if "revisions" in e["page"]
                ]
                merged = {}

    def edit(
        self,
        title: str,
        text: str,
        summary: str,
        *,
        base_revid: int | None,
        base_timestamp: str | None,
        start_timestamp: str | None,
        create: bool,
        tag: str | None,
    ) -> SavedRevision:
        """Save a page; conflicts raise :class:`EditConflict`."""
        pause = self.settings.edit_interval - (time.monotonic() - self._last_edit)
        if pause > 0:
            time.sleep(pause)
        params: dict[str, Any] = {
            "title": title,
            "text": text,
            "summary": summary,
            "bot": 1,
            "token": self.site.get_token("csrf"),
            "maxlag": self.settings.maxlag,
            "watchlist": "nochange",
        }
        if self.user:
            params["assert"] = "user"
        if create:
            params["createonly"] = 1
        else:
            params["nocreate"] = 1
            params.update(baserevid=base_revid, basetimestamp=base_timestamp, starttimestamp=start_timestamp)
        if tag:
            params["tags"] = tag
        try:
            result = self.call("edit", "POST", **{k: v for k, v in params.items() if v is not None})
        except mwclient.errors.APIError as exc:
            if exc.code in ("editconflict", "articleexists", "missingtitle", "pagedeleted"):
                raise EditConflict(f"{title}: {exc.code}") from exc
            raise WikiError(f"the wiki refused the edit of {title!r}: {exc.code} ({exc.info})") from exc
        finally:
            self._last_edit = time.monotonic()
        edit = result.get("edit", {})
        if edit.get("result") != "Success":
            raise WikiError(f"the wiki did not save {title!r}: {edit}")
        return SavedRevision(
            pageid=int(edit.get("pageid") or 0),
            title=str(edit.get("title") or title),
            revid=int(edit.get("newrevid") or base_revid or 0),
            timestamp=str(edit.get("newtimestamp", "")),
        )

    def created_by_us(self, title: str, tag: str | None) -> bool:
        """Whether the page's first revision was saved by this account (with our change tag): a
        page the hub created in a run that was killed before it could record it."""
        if not self.user:
            return False
        result = self.call(
            "query", prop="revisions", titles=title, rvdir="newer", rvlimit=1, rvprop="user|tags"
        )
        pages = result.get("query", {}).get("pages", [])
        revisions = pages[0].get("revisions", []) if pages else []
        if not revisions:
            return False
        first = revisions[0]
        return first.get("user") == self.user.split("@", 1)[0] and (not tag or tag in first.get("tags", []))

    def now(self) -> str:
        """The wiki's clock (curtimestamp), for ``starttimestamp``."""
        return str(self.call("query", curtimestamp=1)["curtimestamp"])


def _revision(page: dict[str, Any], categories: list[str]) -> PageRevision:
    revision = page["revisions"][0]
    return PageRevision(
        pageid=int(page["pageid"]),
        title=str(page["title"]),
        revid=int(revision["revid"]),
        timestamp=str(revision["timestamp"]),
        text=str(revision["slots"]["main"].get("content", "")),
        categories=tuple(dict.fromkeys(categories)),
    )
