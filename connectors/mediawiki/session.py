"""The requests.Session mwclient talks through, made of the guarded client (connectors.base.http).

mwclient follows redirects with requests, which re-posts a 307'd login form (the bot password)
and sends the session cookies to whatever host or port the wiki points at, and reads an answer
for as long and as big as the wiki sends it. Handing mwclient this session instead keeps every
request on the wiki's own host and port, bounded in time and size (docs/security.md, "Sources");
the login cookies live in the guarded client's jar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from connectors.base.http import GuardedHttp


class GuardedSession(requests.Session):
    """Only ``request`` (what mwclient calls) is supported; uploads are not sent."""

    def __init__(self, http: GuardedHttp) -> None:
        super().__init__()
        self.trust_env = False
        self.guarded = http

    def request(self, method: str | bytes, url: str | bytes, params: Any = None, data: Any = None,
                headers: Any = None, cookies: Any = None, files: Any = None, auth: Any = None,
                timeout: Any = None, allow_redirects: bool = True, proxies: Any = None, hooks: Any = None,
                stream: Any = None, verify: Any = None, cert: Any = None, json: Any = None,
                ) -> requests.Response:
        """One request through the guard (its own total timeout replaces ``timeout``); transport
        failures become the requests exceptions mwclient retries on."""
        if files:
            raise requests.exceptions.InvalidURL("uploads are not sent by this hub")
        method, url = _text(method), _text(url)
        try:
            answer = self.guarded.request(method, url, params=_form(params), data=_form(data),
                                          headers=dict(headers or {}))
        except httpx.TimeoutException as exc:
            raise requests.exceptions.Timeout(str(exc)) from exc
        except httpx.TransportError as exc:
            raise requests.exceptions.ConnectionError(str(exc)) from exc
        response = requests.Response()
        response.status_code = answer.status
        response.reason = httpx.codes.get_reason_phrase(answer.status)
        response.headers = CaseInsensitiveDict(dict(answer.headers.items()))
        response._content = answer.body
        response.encoding = get_encoding_from_headers(response.headers) or "utf-8"
        response.url = answer.url
        return response

    def twin(self) -> GuardedSession:
        """The same hosts, limits, headers and cookies on another connection pool (another thread)."""
        return GuardedSession(self.guarded.twin())

    def close(self) -> None:
        self.guarded.close()
        super().close()


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _form(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Values as requests encodes them: ``None`` left out, the rest as text, lists repeated."""
    if not values:
        return None
    return {
        key: [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
        for key, value in values.items() if value is not None
    }
