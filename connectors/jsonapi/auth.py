"""How a JSON API is told who is asking: nothing, a bearer token, an API-key header, or a token
obtained by POSTing credentials (Aides-territoires' ``/api/connexion/``).

Secrets come from environment variables the source's ``credentials`` name (never from the
mapping, which is shared). An exchanged token is asked for once and again only when the API
refuses it (401): tokens expire, and a harvest can outlive one.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from connectors.base import ConnectorError
from connectors.jsonapi.mapping import Auth
from connectors.jsonapi.paths import walk

Secret = Callable[[str], str | None]
"""``credentials`` key → the environment variable's value (None when the key is not set)."""


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

    def headers(self, http: httpx.Client) -> dict[str, str]:
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

    def _exchange(self, http: httpx.Client) -> str:
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
        except httpx.TransportError as exc:
            raise ConnectorError(f"{self.source}: the token exchange at {auth.url} failed: {exc}") from exc
        if response.status_code in (400, 401, 403):
            raise AuthRefused(
                f"{self.source}: the API refused the credentials at {auth.url} "
                f"(HTTP {response.status_code}); "
                f"check the environment variables named by credentials "
                f"{', '.join(key for _, key in (*auth.fields, *auth.headers))}"
            )
        if response.status_code >= 300:
            raise ConnectorError(
                f"{self.source}: the token exchange at {auth.url} answered HTTP {response.status_code}"
            )
        try:
            token = walk(response.json(), auth.token_field)
        except ValueError as exc:
            raise ConnectorError(
                f"{self.source}: the token exchange at {auth.url} did not answer JSON"
            ) from exc
        if not isinstance(token, str) or not token:
            raise AuthRefused(f"{self.source}: the token exchange answer has no '{auth.token_field}'")
        return token
