"""GET a JSON API page, with the failures a harvest meets said plainly.

Refused credentials (401/403) stop the sync at once: asking again cannot help, and the message
names the environment variables to check. What may pass (HTTP 5xx, 429, a timeout, an HTML error
page from a proxy, a truncated JSON body) is asked again with a doubling wait, or the wait the
server asks for in ``Retry-After`` when it is not longer than ``max_retry_after``; when the
retries run out, the message says what the API answered, and the hub keeps what it had.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.base import ConnectorError
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
    def __init__(self, base_url: str, mapping: ApiMapping, auth: Authenticator, source: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.mapping = mapping
        self.auth = auth
        self.source = source
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=mapping.timeout,
            headers={"User-Agent": mapping.user_agent, "Accept": "application/json"},
            follow_redirects=True,
        )

    def get(self, url: str, params: Mapping[str, str | int] | None = None) -> Any:
        """The decoded JSON at ``url`` (relative to the source's url, or absolute: a ``next`` link)."""
        wait = self.mapping.retry_wait
        retries = self.mapping.max_retries
        reauthenticated = False
        attempt = 0
        while True:
            try:
                response = self.http.get(url, params=params, headers=self.auth.headers(self.http))
                if response.status_code == 401 and not reauthenticated and self.auth.refused():
                    reauthenticated = True  # an exchanged token expired: one new exchange
                    continue
                return self._decode(response)
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

    def _decode(self, response: httpx.Response) -> Any:
        status = response.status_code
        where = f"{response.request.method} {response.request.url.path}"
        if status in (401, 403):
            raise AuthRefused(
                f"{self.source}: the API refused the credentials ({where}: HTTP {status}); check the "
                f"token in the environment variable named by the source's credentials"
            )
        if status == 429 or status >= 500:
            raise Retryable(f"HTTP {status}", _retry_after(response.headers.get("retry-after")))
        if status >= 400:
            raise ApiError(f"{self.source}: {where}: HTTP {status}: {_excerpt(response)}")
        text = response.text
        kind = response.headers.get("content-type", "")
        if "html" in kind or text.lstrip()[:1] == "<":
            title = _TITLE.search(text)
            shown = f" ({title.group(1).strip()[:80]!r})" if title else ""
            raise Retryable("an HTML page instead of JSON" + shown)
        try:
            return json.loads(text)
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
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    return f"{url}?{query}" if query else url


def _excerpt(response: httpx.Response) -> str:
    try:
        detail = response.json()
        if isinstance(detail, dict) and "detail" in detail:
            return str(detail["detail"])[:200]
    except ValueError:
        pass
    return response.text[:200]
