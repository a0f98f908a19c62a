"""GET a JSON API page, with the failures a harvest meets said plainly.

Refused credentials (401/403) stop the sync at once: asking again cannot help, and the message
names the environment variables to check. What may pass (HTTP 5xx, 429, a timeout, an HTML error
page from a proxy, a truncated JSON body) is asked again with a doubling wait, or the wait the
server asks for in ``Retry-After`` when it is not longer than ``max_retry_after``; when the
retries run out, the message says what the API answered, and the hub keeps what it had.
Messages never carry the source's secrets, even when the API echoes them.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.base import ConnectorError
from connectors.base.http import Answer, GuardedHttp, Refused, host_of
from connectors.jsonapi.auth import Authenticator, AuthRefused
from connectors.jsonapi.mapping import ApiMapping

log = logging.getLogger("maillage.jsonapi")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class ApiError(ConnectorError):
    """The API could not be read as configured; the message says what it answered."""


class Retryable(Exception):
    """An answer worth asking again; ``wait`` is the server's Retry-After, if it gave one."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class ApiClient:
    """GETs on the source's own host (``connectors.base.http``: a ``next`` link or a redirect
    elsewhere is refused, answers are bounded in time and size); credentials go nowhere else."""

    def __init__(self, base_url: str, mapping: ApiMapping, auth: Authenticator, source: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.mapping = mapping
        self.auth = auth
        self.source = source
        self.http = GuardedHttp(
            {host_of(self.base_url)}, mapping.timeout, mapping.max_page_bytes,
            headers={"User-Agent": mapping.user_agent, "Accept": "application/json"},
        )

    def absolute(self, url: str) -> str:
        """``url`` as the source's url continues it (a path), or as it is (a ``next`` link)."""
        try:
            if urlsplit(url).scheme:
                return url
        except ValueError:  # not a URL ("http://[::1"): the guard refuses it with the reason
            return url
        return f"{self.base_url}/{url.lstrip('/')}"

    def post(self, url: str, *, data: Mapping[str, str] | None = None, json: Any = None,
             headers: Mapping[str, str] | None = None) -> Answer:
        """A POST on the source's host (the token exchange); raises Refused or TransportError."""
        return self.http.request("POST", self.absolute(url), data=data, json=json, headers=headers)

    def get(self, url: str, params: Mapping[str, str | int] | None = None) -> Any:
        """The decoded JSON at ``url`` (relative to the source's url, or absolute: a ``next`` link)."""
        try:
            return self._get(url, params)
        except Refused as exc:
            raise ApiError(self.auth.redact(f"{self.source}: {exc}; nothing was deleted")) from exc
        except ConnectorError as exc:
            exc.args = (self.auth.redact(str(exc)),)
            raise

    def _get(self, url: str, params: Mapping[str, str | int] | None) -> Any:
        wait = self.mapping.retry_wait
        retries = self.mapping.max_retries
        reauthenticated = False
        attempt = 0
        while True:
            try:
                answer = self.http.request("GET", self.absolute(url), params=params,
                                           headers=self.auth.headers(self))
                if answer.status == 401 and not reauthenticated and self.auth.refused():
                    reauthenticated = True  # an exchanged token expired: one new exchange
                    continue
                return self._decode(answer)
            except (Retryable, httpx.TransportError) as exc:
                if attempt >= retries:
                    raise ApiError(
                        f"{self.source}: {_shown(url, params)} did not answer usably after {attempt + 1} "
                        f"attempt(s): {_reason(exc)}"
                    ) from exc
                pause = wait
                if isinstance(exc, Retryable) and exc.wait is not None:
                    if exc.wait > self.mapping.max_retry_after:
                        raise ApiError(
                            f"{self.source}: {_shown(url, params)}: {exc}; the API asks to wait "
                            f"{exc.wait:.0f} s, more than max_retry_after = "
                            f"{self.mapping.max_retry_after:g} s"
                        ) from exc
                    pause = max(exc.wait, 0.0)
                log.warning("%s: %s; asking again in %.1f s", self.source, _reason(exc), pause)
                time.sleep(pause)
                wait *= 2
                attempt += 1

    def _decode(self, answer: Answer) -> Any:
        status = answer.status
        where = f"GET {urlsplit(answer.url).path}"
        if status in (401, 403):
            raise AuthRefused(
                f"{self.source}: the API refused the credentials ({where}: HTTP {status}); check the "
                f"token in the environment variable named by the source's credentials"
            )
        if status == 429 or status >= 500:
            raise Retryable(f"HTTP {status}", _retry_after(answer.headers.get("retry-after")))
        if status >= 400:
            raise ApiError(f"{self.source}: {where}: HTTP {status}: {self.auth.redact(_excerpt(answer))}")
        text = answer.body.decode("utf-8", "replace")
        kind = answer.headers.get("content-type", "")
        if "html" in kind or text.lstrip()[:1] == "<":
            title = _TITLE.search(text[:100_000])
            shown = f" ({title.group(1).strip()[:80]!r})" if title else ""
            raise Retryable("an HTML page instead of JSON" + shown)
        try:
            return json.loads(text)
        except RecursionError as exc:  # the C parser stops at Python's recursion limit
            raise ApiError(f"{self.source}: {where}: JSON nested deeper than the hub reads "
                           f"(about {sys.getrecursionlimit()} levels); nothing was deleted") from exc
        except ValueError as exc:
            raise Retryable(f"malformed JSON ({exc.__class__.__name__}: {str(exc)[:80]})") from exc

    def close(self) -> None:
        self.http.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer before the timeout"
    if isinstance(exc, httpx.TransportError):
        return f"connection failed ({exc.__class__.__name__})"
    return str(exc)


def _shown(url: str, params: Mapping[str, str | int] | None) -> str:
    """The URL asked, as a message shows it: a ``next`` link comes from the API, of any length."""
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    shown = f"{url}?{query}" if query else url
    return shown if len(shown) <= 200 else f"{shown[:200]}… ({len(shown):,} characters)"


def _excerpt(answer: Answer) -> str:
    text = answer.body[:100_000].decode("utf-8", "replace")
    try:
        detail = json.loads(text)
        if isinstance(detail, dict) and "detail" in detail:
            return str(detail["detail"])[:200]
    except (ValueError, RecursionError):
        pass
    return text[:200]
