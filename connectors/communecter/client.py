"""A client for a Communecter instance: open-data reads, search, login, element saves.

Every request goes through the guarded client (``connectors.base.http``): only the host and port
of the source's url, redirects followed by hand within it (the session cookie, the login form and
the ``X-Auth-Token`` headers never reach another host), each answer bounded in time and size.

Communecter answers errors as JSON with HTTP 200 (``{"result": false, "msg": ...}``); an
expired session shows as "Please login first" / "Login First", after which the client logs in
again once. HTTP 5xx, timeouts, HTML pages and truncated JSON are retried with a doubling wait;
when retries run out the message says what the platform answered.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.base import ConnectorError
from connectors.base.http import Answer, GuardedHttp, Refused, host_of

log = logging.getLogger("maillage.communecter")
USER_AGENT = "Maillage/0.1 (linked-data hub for territorial commons; Communecter connector)"
NOT_LOGGED_IN = ("Please login first", "Login First")
Form = dict[str, str | list[str]]


class CommunecterError(ConnectorError):
    """The platform refused or could not answer; the message says which and why."""


class Retryable(Exception):
    """An answer worth asking again (5xx, timeout, HTML page, truncated JSON)."""


@dataclass(frozen=True)
class ClientSettings:
    user_agent: str = USER_AGENT
    timeout: float = 30.0
    """Seconds for a whole answer, from connecting to its last byte."""
    max_page_bytes: int = 20_000_000
    max_retries: int = 4
    retry_wait: float = 1.0
    auth: str = "session"  # "session" (cookie) or "token" (X-Auth-Token headers)
    token_name: str = "maillage"


class CommunecterClient:
    def __init__(
        self, base_url: str, email: str | None, password: str | None, settings: ClientSettings | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.settings = settings or ClientSettings()
        self.email = email
        self.password = password
        self.http = GuardedHttp(
            {host_of(self.base_url)}, self.settings.timeout, self.settings.max_page_bytes,
            headers={"User-Agent": self.settings.user_agent},
        )
        self.logged_in = False
        self._user_id = ""
        self._token = ""

    # -- transport -----------------------------------------------------------------------
    def _json(self, send: Callable[[], Answer], retries: int | None = None) -> dict[str, Any]:
        wait = self.settings.retry_wait
        retries = self.settings.max_retries if retries is None else retries
        for attempt in range(retries + 1):
            try:
                return _decode(send())
            except Refused as exc:  # another host, too big, too slow: asking again cannot help
                raise CommunecterError(f"{self.base_url}: {exc}") from exc
            except (Retryable, httpx.TransportError) as exc:
                if attempt == retries:
                    raise CommunecterError(
                        f"{self.base_url} did not answer usably after {attempt + 1} attempts: {exc}"
                    ) from exc
                log.warning("Communecter: %s; retrying in %.1f s", exc, wait)
                time.sleep(wait)
                wait *= 2
        raise CommunecterError("unreachable")

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._json(lambda: self.http.request("GET", self.base_url + path, params=params or None))

    def post(
        self, path: str, data: Form, *, auth: bool = False, retries: int | None = None
    ) -> dict[str, Any]:
        """POST a form; with ``auth``, log in first and once more if the session has expired.
        ``retries=0`` for a request that must not be sent twice blindly (a create)."""
        if auth and not self.logged_in:
            self.login()
        answer = self._json(lambda: self._post(path, data), retries)
        if auth and answer.get("result") is False and answer.get("msg") in NOT_LOGGED_IN:
            log.info("Communecter session expired: logging in again")
            self.login()
            answer = self._json(lambda: self._post(path, data), retries)
        return answer

    def _post(self, path: str, data: Form) -> Answer:
        return self.http.request("POST", self.base_url + path, data=data, headers=self._auth_headers())

    # -- authentication ------------------------------------------------------------------
    def login(self) -> None:
        if not self.email or not self.password:
            raise CommunecterError("writing needs credentials: set user_env and password_env for this source")
        form = {"email": self.email, "pwd": self.password}
        path = "/co2/person/authenticate"
        if self.settings.auth == "token":
            form["tokenName"] = self.settings.token_name
            path = "/co2/person/authenticatetoken"
        answer = self._json(lambda: self.http.request("POST", self.base_url + path, data=form))
        if not answer.get("result"):
            raise CommunecterError(f"the platform refused the login of {self.email!r}: {answer.get('msg')}")
        user = answer.get("id")
        self._user_id = str(user.get("$id") if isinstance(user, dict) else user)
        self._token = str(answer.get("token") or "")
        self.logged_in = True

    def account_id(self) -> str | None:
        """The element id of the hub's own account (logging in once to learn it), or None when
        the source has no credentials or the login fails: reading does not depend on it."""
        if not self.logged_in and self.email and self.password:
            try:
                self.login()
            except CommunecterError as exc:
                log.warning("Communecter: %s", exc)
        return self._user_id or None

    def _auth_headers(self) -> dict[str, str]:
        if self.settings.auth == "token" and self.logged_in and self._token:
            return {
                "X-Auth-Token": self._token,
                "X-User-Id": self._user_id,
                "X-Auth-Name": self.settings.token_name,
            }
        return {}

    def close(self) -> None:
        self.http.close()


def _decode(answer: Answer) -> dict[str, Any]:
    path = httpx.URL(answer.url).path
    if answer.status >= 500:
        raise Retryable(f"HTTP {answer.status}")
    if answer.status >= 400:
        raise CommunecterError(f"{path}: HTTP {answer.status}")
    kind = answer.headers.get("content-type", "")
    if "html" in kind:
        raise Retryable("an HTML page instead of JSON")
    try:
        decoded = json.loads(answer.body.decode("utf-8", "replace"))
    except RecursionError as exc:
        raise CommunecterError(f"{path}: JSON nested too deep to read") from exc
    except ValueError as exc:
        raise Retryable(f"malformed JSON ({exc.__class__.__name__}: {str(exc)[:80]})") from exc
    if not isinstance(decoded, dict):
        raise CommunecterError(f"{path}: expected a JSON object, got {type(decoded).__name__}")
    return decoded


def form_fields(values: dict[str, str | list[str]]) -> Form:
    """Dotted fields as PHP form names: ``address.postalCode`` → ``address[postalCode]``, lists
    as repeated ``tags[]``."""
    form: Form = {}
    for dotted, value in values.items():
        head, *rest = dotted.split(".")
        name = head + "".join(f"[{part}]" for part in rest)
        form[f"{name}[]" if isinstance(value, list) else name] = value
    return form
