"""A Communecter instance emulator for the connector tests - a TEST DOUBLE, not Communecter.

Starlette app served by uvicorn in a thread on 127.0.0.1, over an in-memory store of raw
Mongo-like documents (``organizations``, ``projects``, ``events``, ``poi``, ``ressources``,
``citoyens``). Helpers: ``communecter_endpoints.py``, ``communecter_model.py``, ``communecter_php.py``.

Usage::

    with running_communecter() as cm:
        uid = cm.add_user("a@b.org", "pw", "alice")
        oid = cm.add_element("organizations", {"name": "Asso", "type": "NGO", "source": {"key": "k"}})
        cm.clock.advance(60); cm.update_element("organizations", oid, {"description": "edited"})
        cm.fail_next("5xx", when=lambda method, path, params: path.startswith("/api/"))
        httpx.get(f"{cm.url}/api/organization/get/key/k")

Faults (``fail_next``; a faulted request is still recorded in ``requests``): "5xx" = HTTP 503 HTML
page; "timeout" = wait ``delay`` s (default 10) then answer normally; "slow" = wait 0.5 s then answer;
"lost" = do the work, then wait ``delay`` s before answering (a save the client gives up on);
"malformed" = HTTP 200 application/json with a truncated body; "html" = HTTP 200 text/html page;
"expired" = the request is treated as anonymous (only consumed by element/get and element/save).

FACTS it follows (the research brief research/communecter.md, CTK 2018 ``Api.php``, ``Translate*.php``,
``Person::login``): Yii path params (``/id/X/limit/50``) and query params both bind; the PHP request
model (``$_POST`` = form bodies only, ``a[b][]`` nesting); ``json_encode`` output (empty arrays as
``[]``, so an empty ``entities``/``results`` is a list, ``\\/`` escapes); ``/api/<ctrl>/get``:
limit 1..500 (default 50, <1 -> 50), index >= 0, ``key`` -> ``source.key``, ``tags`` -> ``$in``
(``multiTags=true`` -> exact list), ``insee`` -> ``address.codeInsee``, ``meta.limit`` = the
clamped limit (CTK source; the brief's "count returned" is not what Api.php does), ``next`` always
present and carrying only format/tags/namecity (NOT key/insee), ``previous`` unless index 0,
``{"limit":1}`` with ``id``, ``entities`` an object keyed by id, translated shape (PHP-empty values
left out; link items ``{"type": "Organization"|"Person"|"Project"|"Event", "name", "url":
{communecter, api}}`` with ``@type`` instead of ``type`` for followers/attendees/contributors, the
linked id looked up in a collection fixed per link type); no /api route for ressources. Login
``email`` (or username) / ``pwd``, its messages, ``isCommunected = isset(cp)``, ``account`` without
``pwd``, password hash sha256(id+pwd). element/get needs login ("Please login first").
globalautocomplete: ``searchType[]`` (org types restrict organizations), ``indexMin`` / ``indexStep``
(30), ``lastTimes`` -> ``updated > t``, ``sourceKey`` -> ``source.keys $in`` (NOT ``source.key``),
excludes state uncomplete/deleted, ``preferences.private``, disabled orgs; sorted updated desc;
``count``. element/save: login ("Login First" 401), ``collection`` (400), control fields dropped,
empty strings dropped, dataBinding check ("Contenu Invalide <field>"), org types, geo strings, source
keys, event dates -> MongoDate, ``$set`` update / upsert with a given id, ``updated`` int +
``modified`` MongoDate + ``created``/``creator``, slug for orgs/projects/events, creator admin member.

GUESSES (the brief is silent or marks them): token auth (``authenticatetoken`` answer, headers
``X-Auth-Token`` + ``X-User-Id`` checked against ``loginTokens[].hashedToken``, ``X-Auth-Name`` only
checked when sent, no cookie set by authenticatetoken); every JSON answer is HTTP 200; Yii's 404 HTML
page; "Place" for poi; ISO 8601 UTC event dates in /api output; ``image`` = ``profilImageUrl``;
``url.communecter`` = ``HOST/#@slug``; events' ``organizer`` link list; /api skips state "deleted"
and uses insertion order; element/get's ghost ``{"name":"Unknown","type":<collection>,"ghost":true}``
and ``counts``; search projection, ``typeEvent``/``typePoi``/... keys, several searchTypes -> a list
re-sorted by updated (one searchType -> object), locality matching, ``tpl`` -> HTML; save error
messages other than "Contenu Invalide <field>", required name / event dates, same-name orgs
refused, geoPosition derived from geo, "true"/"false" -> booleans in preferences/allDay, update
rights not checked; camelCase slugs; costum ``reference`` is not emulated at all. Not emulated:
notValidatedEmail/betaTestNotOpen, /api person "identity", other formats (answered as communecter).
Answers' absolute URLs use the request's Host header (PHP ``HTTP_HOST``) so they resolve here;
``host_name`` is only the instance's nominal name (HTML page titles). The clock is frozen: time
moves only with ``clock.advance()``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.servers import communecter_model as model
from tests.servers.common import free_port, serving
from tests.servers.communecter_endpoints import COLLECTIONS, HANDLERS, PAGE, Ctx, set_path, token_hash
from tests.servers.communecter_php import (
    form_pairs,
    mongo_date,
    object_id,
    php_params,
    slugify,
    to_mongo_date,
)

FaultKind = Literal["5xx", "timeout", "slow", "malformed", "html", "expired", "lost"]
FAULT_KINDS = ("5xx", "timeout", "slow", "malformed", "html", "expired", "lost")
#: ``when(method, path, params)``; params = query + Yii path params + form body, PHP-parsed.
Predicate = Callable[[str, str, dict[str, Any]], bool]
ROUTES = [
    ("api_get", re.compile(r"/api/(organization|project|event|poi|person)/get(?P<rest>/.*)?")),
    ("authenticate", re.compile(r"/(?:co2|api)/person/authenticate(?P<rest>/.*)?")),
    ("token", re.compile(r"/co2/person/authenticatetoken(?P<rest>/.*)?")),
    ("element_get", re.compile(r"/co2/element/get(?P<rest>/.*)?")),
    ("search", re.compile(r"/co2/search/globalautocomplete(?P<rest>/.*)?")),
    ("save", re.compile(r"/co2/element/save(?P<rest>/.*)?")),
]
NEEDS_LOGIN = ("element_get", "save")


class Seen(NamedTuple):
    """One request the emulator received."""

    method: str
    path: str
    params: dict[str, Any]


@dataclass
class Clock:
    """The server's "now" (unix seconds), frozen between ``advance()`` calls."""

    now: int = field(default_factory=lambda: int(time.time()))

    def advance(self, seconds: int) -> int:
        self.now += int(seconds)
        return self.now


@dataclass
class _Fault:
    kind: str
    remaining: int
    when: Predicate | None
    delay: float


@dataclass(eq=False)
class Communecter:
    """A running emulated Communecter: its base URL and the handles tests use to drive it."""

    url: str
    host_name: str
    clock: Clock = field(default_factory=Clock)
    requests: list[Seen] = field(default_factory=list)
    _db: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {c: {} for c in COLLECTIONS})
    _sessions: dict[str, str] = field(default_factory=dict)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _ids: Iterator[int] = field(default_factory=itertools.count)

    # ------------------------------------------------------------ test API

    def add_user(self, email: str, password: str, username: str, *, name: str | None = None) -> str:
        """A validated account (``citoyens``); returns its id."""
        with self._lock:
            uid = object_id(self.clock.now, next(self._ids))
            pwd = hashlib.sha256((uid + password).encode()).hexdigest()
            self._db["citoyens"][uid] = {
                "_id": {"$id": uid}, "name": name or username, "username": username, "email": email,
                "pwd": pwd, "slug": self._unique_slug(username), "roles": {}, "created": self.clock.now,
                "updated": self.clock.now, "modified": mongo_date(self.clock.now),
            }  # fmt: skip
            return uid

    def add_element(self, collection: str, doc: dict[str, Any], *, id: str | None = None) -> str:
        """Store a raw document as is, plus ``_id``, ``created``/``updated``/``modified`` (kept if
        given), a slug from the name, and dates turned into MongoDates. Returns the id."""
        with self._lock:
            self._collection(collection)
            oid = id or object_id(self.clock.now, next(self._ids))
            if not model.is_object_id(oid):
                raise ValueError(f"not a 24-hex id: {oid!r}")
            raw = {"_id": {"$id": oid}, **copy.deepcopy(doc)}
            raw.setdefault("created", self.clock.now)
            raw.setdefault("updated", self.clock.now)
            raw.setdefault("modified", mongo_date(raw["updated"]))
            for key in ("startDate", "endDate"):
                if key in raw:
                    raw[key] = self._date(raw[key])
            if raw.get("name") and not raw.get("slug"):
                raw["slug"] = self._unique_slug(str(raw.get("name") or "element"))
            self._db[collection][oid] = raw
            return oid

    def update_element(self, collection: str, id: str, changes: dict[str, Any]) -> None:
        """A human edit: ``$set`` of ``changes`` (dotted keys allowed), bumps updated/modified."""
        with self._lock:
            doc = self._db[self._collection(collection)][id]
            for key, value in changes.items():
                set_path(doc, key, self._date(value) if key in ("startDate", "endDate") else value)
            self._stamp(doc)

    def add_member(self, organization: str, person: str) -> None:
        """A person joins an organisation (Link::connect): a link on each side, both ``updated``
        bumped, as the platform does when someone joins from the web interface."""
        with self._lock:
            org, user = self._db["organizations"][organization], self._db["citoyens"][person]
            set_path(org, f"links.members.{person}", {"type": "citoyens"})
            set_path(user, f"links.memberOf.{organization}", {"type": "organizations"})
            self._stamp(org)
            self._stamp(user)

    def delete_element(self, collection: str, id: str) -> None:
        """``state: "deleted"`` (+ updated bump): gone from search and from /api/*/get."""
        self.update_element(collection, id, {"state": "deleted"})

    def element(self, collection: str, id: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._db[self._collection(collection)][id])

    def elements(self, collection: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._db[self._collection(collection)].values()))

    def fail_next(self, kind: FaultKind, count: int = 1, when: Predicate | None = None, delay: float = 10.0) -> None:
        """Answer the next ``count`` matching requests with a fault (see module docstring)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            self._faults.append(_Fault(kind, count, when, delay))

    def expire_sessions(self) -> None:
        """Forget every session cookie and API token."""
        with self._lock:
            self._sessions.clear()
            for user in self._db["citoyens"].values():
                user.pop("loginTokens", None)

    # ------------------------------------------------------------ internals

    def _collection(self, name: str) -> str:
        if name not in COLLECTIONS:
            raise ValueError(f"unknown collection {name!r}; expected one of {COLLECTIONS}")
        return name

    def _date(self, value: Any) -> dict[str, int]:
        date = to_mongo_date(value)
        if date is None:
            raise ValueError(f"unreadable date {value!r}")
        return date

    def _stamp(self, doc: dict[str, Any]) -> None:
        doc["updated"], doc["modified"] = self.clock.now, mongo_date(self.clock.now)

    def _unique_slug(self, text: str) -> str:
        base = slugify(text)
        taken = {d.get("slug") for docs in self._db.values() for d in docs.values()}
        return next(s for s in itertools.chain([base], (f"{base}{i}" for i in itertools.count(1))) if s not in taken)

    def _lookup(self, collection: str, oid: str) -> dict[str, Any] | None:
        return self._db.get(collection, {}).get(oid)

    def _take_fault(self, method: str, path: str, params: dict[str, Any], login_route: bool) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.kind == "expired" and not login_route:
                    continue
                if fault.when is None or fault.when(method, path, params):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _user(self, request: Request) -> str | None:
        uid = self._sessions.get(request.cookies.get("PHPSESSID", ""))
        if uid:
            return uid
        token, uid = request.headers.get("x-auth-token"), request.headers.get("x-user-id")
        user = self._db["citoyens"].get(uid or "")
        if not token or not uid or user is None:
            return None
        wanted, name = token_hash(uid, token), request.headers.get("x-auth-name")
        for entry in user.get("loginTokens", []):
            if hmac.compare_digest(entry["hashedToken"], wanted) and name in (None, entry["name"]):
                return uid
        return None


def _route(path: str) -> tuple[str | None, str, dict[str, str]]:
    """(handler name, first group, Yii path params) of a path; the old ``/ph`` prefix is accepted."""
    path = path[3:] if path.startswith("/ph/") else path
    for name, pattern in ROUTES:
        match = pattern.fullmatch(path)
        if match:
            parts = [s for s in (match.group("rest") or "").split("/") if s]
            arg = match.group(1) if pattern.groups > 1 else ""
            return name, arg, dict(zip(parts[::2], parts[1::2], strict=False))
    return None, "", {}


def build_app(cm: Communecter) -> Starlette:
    async def endpoint(request: Request) -> Response:
        path, body = request.url.path, await request.body()
        name, arg, path_params = _route(path)
        get = {**php_params(parse_qsl(request.url.query, keep_blank_values=True)), **path_params}
        post = php_params(form_pairs(request.headers.get("content-type", ""), body))
        params = {**get, **post}
        with cm._lock:
            cm.requests.append(Seen(request.method, path, copy.deepcopy(params)))
        fault = cm._take_fault(request.method, path, params, name in NEEDS_LOGIN)
        kind = fault.kind if fault else None
        if kind == "5xx":
            text = "The server is temporarily unable to service your request."
            return HTMLResponse(PAGE.format(title="503 Service Unavailable", text=text), 503)
        if kind == "html":
            return HTMLResponse(PAGE.format(title=cm.host_name, text="Maintenance en cours, revenez plus tard."))
        if kind == "malformed":
            return Response(b'{"result":true,"map":{"_id":{"$id":"5b1f', media_type="application/json")
        if fault is not None and kind in ("slow", "timeout"):
            await asyncio.sleep(0.5 if kind == "slow" else fault.delay)
        if name is None:
            text = f'Unable to resolve the request "{path.strip("/")}".'
            return HTMLResponse(PAGE.format(title="Error 404", text=text), 404)
        with cm._lock:
            user = None if kind == "expired" else cm._user(request)
            host = request.headers.get("host") or cm.url.removeprefix("http://")
            answer = HANDLERS[name](Ctx(cm, get, post, host, user, arg))
        if fault is not None and kind == "lost":
            await asyncio.sleep(fault.delay)
        return answer

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])


@contextmanager
def running_communecter(host_name: str = "communecter.test") -> Iterator[Communecter]:
    """A fresh emulated Communecter on a free loopback port, stopped afterwards."""
    port = free_port()
    cm = Communecter(url=f"http://127.0.0.1:{port}", host_name=host_name)
    with serving(build_app(cm), "Communecter emulator", port):
        yield cm
