"""How a JSON API is told who is asking: nothing, a bearer token, an API-key header, or a token
obtained by POSTing credentials (Aides-territoires' ``/api/connexion/``).

Secrets come from environment variables the source's ``credentials`` name (never from the
mapping, which is shared). An exchanged token is asked for once and again only when the API
refuses it (401): tokens expire, and a harvest can outlive one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from connectors.base import ConnectorError
from connectors.base.http import Answer, Refused
from connectors.jsonapi.mapping import Auth
from connectors.jsonapi.paths import walk

Secret = Callable[[str], str | None]
"""``credentials`` key → the environment variable's value (None when the key is not set)."""


class Poster(Protocol):
    """What the exchange needs of the client: a POST on the source's own host."""

    def post(self, url: str, *, data: Mapping[str, str] | None = None, json: Any = None,
             headers: Mapping[str, str] | None = None) -> Answer: ...


class AuthRefused(ConnectorError):
    """The API refused the credentials (401/403, or an exchange that gave no token)."""


class Authenticator:
    def __init__(self, auth: Auth, secret: Secret, source: str) -> None:
        self.auth = auth
        self.secret = secret
        self.source = source
        self._token: str | None = None

    def _needed(self, key: str) -> str:
        value = self.secret(key)
        if not value:
            raise ConnectorError(
                f"source {self.source!r}: the mapping's auth needs credentials.{key} (the name of an "
                f"environment variable holding the secret)"
            )
        return value

    def redact(self, text: str) -> str:
        """``text`` without the secrets in use (an API may echo a token in its error page)."""
        keys = [self.auth.token or "", *(k for _, k in (*self.auth.fields, *self.auth.headers))]
        values = [self.secret(k) for k in keys if k] + [self._token]
        for value in sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True):
            text = text.replace(value, "[secret]")
        return text

    def headers(self, http: Poster) -> dict[str, str]:
        """The headers to send with every request (exchanging credentials first if needed)."""
        auth = self.auth
        if auth.kind == "none":
            return {}
        if auth.kind == "token_exchange":
            if self._token is None:
                self._token = self._exchange(http)
            token = self._token
        else:
            token = self._needed(auth.token or "")
        return {auth.header: f"{auth.scheme} {token}".strip()}

    def refused(self) -> bool:
        """The API answered 401: forget an exchanged token; True when asking again may help."""
        if self.auth.kind == "token_exchange" and self._token is not None:
            self._token = None
            return True
        return False

    def _exchange(self, http: Poster) -> str:
        auth = self.auth
        values = {field: self._needed(key) for field, key in auth.fields}
        headers = {name: self._needed(key) for name, key in auth.headers}
        try:
            if not values:
                response = http.post(auth.url or "", headers=headers)
            elif auth.body == "form":
                response = http.post(auth.url or "", data=values, headers=headers)
            else:
                response = http.post(auth.url or "", json=values, headers=headers)
        except (httpx.TransportError, Refused) as exc:
            raise ConnectorError(
                self.redact(f"{self.source}: the token exchange at {auth.url} failed: {exc}")) from exc
        if response.status in (400, 401, 403):
            raise AuthRefused(
                f"{self.source}: the API refused the credentials at {auth.url} "
                f"(HTTP {response.status}); "
                f"check the environment variables named by credentials "
                f"{', '.join(key for _, key in (*auth.fields, *auth.headers))}"
            )
        if response.status >= 300:
            raise ConnectorError(
                f"{self.source}: the token exchange at {auth.url} answered HTTP {response.status}"
            )
        try:
            token = walk(json.loads(response.body), auth.token_field)
        except (ValueError, RecursionError) as exc:
            raise ConnectorError(
                f"{self.source}: the token exchange at {auth.url} did not answer JSON"
            ) from exc
        if not isinstance(token, str) or not token or not token.isprintable():
            raise AuthRefused(f"{self.source}: the token exchange answer has no '{auth.token_field}'")
        return token
