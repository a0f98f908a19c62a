"""An Aides-territoires emulator for the connector tests - a TEST DOUBLE, not Aides-territoires.

Usage::

    with running_aides_territoires() as at:
        key = at.add_user("agent@collectivite.fr")          # the X-AUTH-TOKEN of an account
        backer = at.add_backer("Région Auvergne-Rhône-Alpes")
        aid = at.add_aid("Fonds tiers-lieux", financers=[backer], perimeter=("Auvergne-Rhône-Alpes", 15))
        at.update_aid(aid, name="Fonds tiers-lieux 2027"); at.clear_cache()
        at.fail_next("5xx", when=lambda path, query: query.get("page") == "2")

FACTS it follows (MTES-MCT/aides-territoires-symfony, commit e32e8506, March 2025):

- ``src/ApiResource/Security/SecurityResource.php``, ``src/Security/TokenAuthenticator.php``,
  ``config/packages/security.yaml``, ``config/packages/lexik_jwt_authentication.yaml``: the
  ``api`` firewall (``^/api/``, stateless) runs TokenAuthenticator on any request carrying
  ``X-AUTH-TOKEN``: an unknown token answers 401 ``{"message": "User not found"}``; a known one
  answers lexik's success response ``{"token": "<JWT>"}`` (200), valid 86400 s (``token_ttl``),
  *whatever the path* (``onAuthenticationSuccess`` returns that response instead of going on). The
  documented exchange is ``POST /api/connexion/`` (PUBLIC_ACCESS). Everything else under ``/api/``
  is ``IS_AUTHENTICATED_FULLY`` through the JWT authenticator (``Authorization: Bearer <JWT>``):
  lexik's 401 answers ``{"code": 401, "message": "JWT Token not found" | "Invalid JWT Token" |
  "Expired JWT Token"}``.
- ``src/Controller/Api/Aid/AidController.php`` (``/api/aids/``) and ``src/Controller/Api/ApiController.php``:
  envelope ``{"count", "previous", "next", "results"}``; ``page`` (default 1) and ``itemsPerPage``
  (default 50) or the older ``size``, both capped at 100 (MAX_ITEMS_PER_PAGE); ``next`` = the
  home URL without its last "/" + path + "?" + ``http_build_query`` of the query with ``page`` + 1
  (2 when absent), null on the last page; ``previous`` = the request URI with ``page=N`` replaced
  by ``page=N-1``, null on page 1. The answer (count and page) is cached per query, page and
  *day*: a change shows the next day, or after the cache is cleared (``clear_cache``, the
  ``at:cron:site:search_cache_reset`` cron). JSON with ``JSON_UNESCAPED_SLASHES``.
- ``AidController::getResultsSpe``: every field of a result, in order (id, slug, url as an
  absolute *path* ``/aides/<slug>/`` (route ``app_aid_aid_details``), name, name_initial,
  short_title, financers (names), financers_full ({id, name, logo}), instructors(_full),
  programs, description, eligibility, perimeter (the perimeter's name), perimeter_scale
  (``Perimeter::SCALES_FOR_SEARCH`` name: "commune", "epci", "Département", "Région", "Pays",
  ...), mobilization_steps, origin_url, categories ("Theme / Category"), is_call_for_project,
  application_url, targeted_audiences, aid_types (names), aid_types_full ({id, name, group}),
  is_charged, destinations, start_date / predeposit_date / submission_deadline ("Y-m-d"),
  subvention_rate_lower_bound / upper_bound, subvention_comment, loan_amount,
  recoverable_advance_amount, contact, recurrence, project_examples, import_data_url,
  import_data_mention, import_share_licence, date_created / date_updated (ATOM), project_references,
  european_aid, is_live); a financer with no backer is skipped.
- ``src/Controller/Api/Backer/BackerController.php`` (``/api/backers/``): the same envelope and
  paging (not cached), active backers only (``BackerRepository::activeCriteria``), each as
  ``{"id": "<id>-<slug>", "slug", "text": name, "perimeter", "logo", "group": {id, name} | null}``.
- ``src/Repository/Aid/AidRepository.php`` ``showInSearchCriteria``: only ``status = published``
  aids whose ``submission deadline`` is today or later (or unset) are listed: an aid unpublished,
  deleted or past its deadline leaves ``/api/aids/``. ``Aid::isLive`` for ``is_live``.

GUESSES: the default order of ``/api/aids/`` (publication time then id, newest first) and of
``/api/backers/`` (id); a
``POST /api/connexion/`` without ``X-AUTH-TOKEN`` answers lexik's "JWT Token not found"; other
paths under ``/api/`` answer API Platform's RFC 7807 404. The emulator's JWTs are opaque strings.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from tests.servers.api_emulator import Clock, Faults, Predicate, app_for
from tests.servers.common import serving

MAX_ITEMS_PER_PAGE = 100
JWT_TTL = 86400
SCALES = {1: "commune", 5: "epci", 8: "Bassin hydrographique", 10: "Département", 15: "Région",
          16: "Outre-mer", 17: "Métropole", 18: "Ad-hoc", 20: "Pays", 25: "Continent"}
PUBLISHED = "published"


def slugify(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


@dataclass
class Aid:
    """One aid as the platform stores it (the entity's fields the API reads)."""

    id: int
    name: str
    slug: str
    created: datetime
    updated: datetime | None = None
    published: datetime | None = None
    status: str = PUBLISHED
    financers: list[int] = field(default_factory=list)
    instructors: list[int] = field(default_factory=list)
    perimeter: tuple[str, int] | None = None
    """(name, scale) of the aid's perimeter."""
    aid_types: list[tuple[int, str, int, str]] = field(default_factory=list)
    """(id, name, group id, group name)."""
    values: dict[str, Any] = field(default_factory=dict)
    """Every other field, by its API name (description, submission_deadline as a date, ...)."""


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(eq=False)
class AidesTerritoires:
    """A running emulated Aides-territoires: its base URL and the handles tests drive it with."""

    url: str = ""
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=lambda: Faults(malformed_body=b'{"count":12,"previous":null,"next":"ht'))
    aids: dict[int, Aid] = field(default_factory=dict)
    backers: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    inactive: set[int] = field(default_factory=set)
    users: dict[str, str] = field(default_factory=dict)
    """X-AUTH-TOKEN → e-mail of the account."""
    jwts: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    expire_on: Predicate | None = None
    """``when(path, query)``: every bearer token expires just before such a request (a harvest
    that outlives its token)."""
    _cache: dict[tuple[str, int, int, date], tuple[int, list[dict[str, Any]]]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(101))

    @property
    def requests(self) -> list[Any]:
        return self.faults.requests

    def fail_next(self, *args: Any, **kwargs: Any) -> None:
        self.faults.fail_next(*args, **kwargs)

    # ------------------------------------------------------------ test API

    def add_user(self, email: str) -> str:
        """An account with an API token (``/comptes/api-token``); returns the token."""
        token = secrets.token_hex(20)
        self.users[token] = email
        return token

    def revoke(self, token: str) -> None:
        """The account's API token is revoked (a new one asked for): the old one is unknown."""
        self.users.pop(token, None)

    def expire_jwts(self) -> None:
        """Every bearer token handed out so far is past its 24 h lifetime."""
        with self.faults.lock:
            past = self.clock.now - timedelta(seconds=1)
            self.jwts = {t: (who, past) for t, (who, _until) in self.jwts.items()}

    def add_backer(self, name: str, logo: str | None = None) -> int:
        backer = next(self._ids)
        self.backers[backer] = (name, logo)
        return backer

    def add_aid(self, name: str, *, financers: list[int] | None = None, instructors: list[int] | None = None,
                perimeter: tuple[str, int] | None = None, aid_types: list[tuple[int, str, int, str]] | None = None,
                status: str = PUBLISHED, **values: Any) -> int:
        """A published aid; ``values`` are other fields by their API name (dates as ``date``)."""
        with self.faults.lock:
            aid = Aid(next(self._ids), name, self._slug(name), self.clock.now, None,
                      self.clock.now if status == PUBLISHED else None, status, list(financers or []),
                      list(instructors or []), perimeter, list(aid_types or []), dict(values))
            self.aids[aid.id] = aid
            return aid.id

    def update_aid(self, aid_id: int, **changes: Any) -> None:
        """An edit in the back office: fields by their API name (or status, perimeter, financers)."""
        with self.faults.lock:
            aid = self.aids[aid_id]
            for key, value in changes.items():
                if hasattr(aid, key) and key not in ("values", "id"):
                    setattr(aid, key, value)
                else:
                    aid.values[key] = value
            if aid.status == PUBLISHED and aid.published is None:
                aid.published = self.clock.now
            aid.updated = self.clock.now

    def clear_cache(self) -> None:
        """The search-cache cron ran: the next listing reads the aids again."""
        with self.faults.lock:
            self._cache.clear()

    # ------------------------------------------------------------ serialisation

    def _slug(self, name: str) -> str:
        base, taken = slugify(name) or "aide", {a.slug for a in self.aids.values()}
        return next(s for s in itertools.chain([base], (f"{base}-{i}" for i in itertools.count(1))) if s not in taken)

    def _backer(self, backer: int) -> dict[str, Any]:
        name, logo = self.backers[backer]
        return {"id": backer, "name": name, "logo": logo}

    def _listed(self, today: date) -> list[Aid]:
        def deadline(aid: Aid) -> date | None:
            value = aid.values.get("submission_deadline")
            return value if isinstance(value, date) else None

        shown = [a for a in self.aids.values()
                 if a.status == PUBLISHED and ((d := deadline(a)) is None or d >= today)]
        return sorted(shown, key=lambda a: (a.published or a.created, a.id), reverse=True)

    def result(self, aid: Aid, today: date) -> dict[str, Any]:
        """One aid as ``getResultsSpe`` writes it."""
        v = aid.values
        start, deadline = v.get("start_date"), v.get("submission_deadline")
        live = aid.status == PUBLISHED and (start is None or start <= today) and (deadline is None or deadline >= today)
        financers = [self._backer(b) for b in aid.financers if b in self.backers]
        instructors = [self._backer(b) for b in aid.instructors if b in self.backers]
        return {
            "id": aid.id, "slug": aid.slug, "url": f"/aides/{aid.slug}/", "name": aid.name,
            "name_initial": v.get("name_initial"), "short_title": v.get("short_title"),
            "financers": [f["name"] for f in financers], "financers_full": financers,
            "instructors": [i["name"] for i in instructors], "instructors_full": instructors,
            "programs": v.get("programs", []), "description": v.get("description"),
            "eligibility": v.get("eligibility"),
            "perimeter": aid.perimeter[0] if aid.perimeter else None,
            "perimeter_scale": SCALES.get(aid.perimeter[1]) if aid.perimeter else None,
            "mobilization_steps": v.get("mobilization_steps", []), "origin_url": v.get("origin_url"),
            "categories": v.get("categories", []), "is_call_for_project": v.get("is_call_for_project", False),
            "application_url": v.get("application_url"), "targeted_audiences": v.get("targeted_audiences", []),
            "aid_types": [t[1] for t in aid.aid_types],
            "aid_types_full": [{"id": t[0], "name": t[1], "group": {"id": t[2], "name": t[3]}} for t in aid.aid_types],
            "is_charged": v.get("is_charged", False), "destinations": v.get("destinations", []),
            "start_date": _day(start), "predeposit_date": _day(v.get("predeposit_date")),
            "submission_deadline": _day(deadline),
            "subvention_rate_lower_bound": v.get("subvention_rate_lower_bound"),
            "subvention_rate_upper_bound": v.get("subvention_rate_upper_bound"),
            "subvention_comment": v.get("subvention_comment"), "loan_amount": v.get("loan_amount"),
            "recoverable_advance_amount": v.get("recoverable_advance_amount"), "contact": v.get("contact"),
            "recurrence": v.get("recurrence"), "project_examples": v.get("project_examples"),
            "import_data_url": v.get("import_data_url"), "import_data_mention": v.get("import_data_mention"),
            "import_share_licence": v.get("import_share_licence"),
            "date_created": aid.created.isoformat(),
            "date_updated": aid.updated.isoformat() if aid.updated else None,
            "project_references": v.get("project_references", []), "european_aid": v.get("european_aid"),
            "is_live": live,
        }  # fmt: skip

    # ------------------------------------------------------------ HTTP

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        if not path.startswith("/api/"):
            return Response("<!DOCTYPE html><title>Aides-territoires</title>", media_type="text/html")
        key = request.headers.get("x-auth-token")
        if key is not None:  # TokenAuthenticator::supports, on every path of the api firewall
            if key not in self.users:
                return _json({"message": "User not found"}, 401)
            token = secrets.token_urlsafe(32)
            with self.faults.lock:
                self.jwts[token] = (self.users[key], self.clock.now + timedelta(seconds=JWT_TTL))
            return _json({"token": token})
        if path == "/api/connexion/":
            return _json({"code": 401, "message": "JWT Token not found"}, 401)
        if self.expire_on is not None and self.expire_on(path, dict(request.query_params)):
            self.expire_on = None
            self.expire_jwts()
        refused = self._bearer(request.headers.get("authorization"))
        if refused is not None:
            return refused
        if path == "/api/aids/":
            return self._aids(request)
        if path == "/api/backers/":
            return self._backers(request)
        return _json({"type": "https://tools.ietf.org/html/rfc2616#section-10", "title": "An error occurred",
                      "status": 404, "detail": "Not Found"}, 404, "application/problem+json")

    def _bearer(self, header: str | None) -> Response | None:
        if not header or not header.startswith("Bearer "):
            return _json({"code": 401, "message": "JWT Token not found"}, 401)
        found = self.jwts.get(header.removeprefix("Bearer ").strip())
        if found is None:
            return _json({"code": 401, "message": "Invalid JWT Token"}, 401)
        if found[1] <= self.clock.now:
            return _json({"code": 401, "message": "Expired JWT Token"}, 401)
        return None

    def _backers(self, request: Request) -> Response:
        query = dict(request.query_params)
        page, per_page = _paging(query)
        with self.faults.lock:
            active = sorted(b for b in self.backers if b not in self.inactive)
            results = [{"id": f"{b}-{slugify(self.backers[b][0])}", "slug": slugify(self.backers[b][0]),
                        "text": self.backers[b][0], "perimeter": None, "logo": self.backers[b][1], "group": None}
                       for b in active[(page - 1) * per_page: page * per_page]]
        return _json(_envelope(request, query, page, per_page, len(active), results))

    def _aids(self, request: Request) -> Response:
        query = dict(request.query_params)
        page, per_page = _paging(query)
        today = self.clock.now.date()
        filters = "&".join(f"{k}={v}" for k, v in sorted(query.items()) if k not in ("page", "size", "itemsPerPage"))
        with self.faults.lock:
            cached = self._cache.get((filters, page, per_page, today))
            if cached is None:
                listed = self._listed(today)
                shown = listed[(page - 1) * per_page: page * per_page]
                cached = (len(listed), [self.result(a, today) for a in shown])
                self._cache[(filters, page, per_page, today)] = cached
        count, results = cached
        return _json(_envelope(request, query, page, per_page, count, results))


def _paging(query: dict[str, str]) -> tuple[int, int]:
    """``ApiController::getPage`` and ``getItemsPerPage`` (``size`` first, then ``itemsPerPage``)."""
    size = query.get("size") or query.get("itemsPerPage") or 50
    return int(query.get("page", 1)), min(int(size), MAX_ITEMS_PER_PAGE)


def _envelope(request: Request, query: dict[str, str], page: int, per_page: int, count: int,
              results: list[dict[str, Any]]) -> dict[str, Any]:
    """``{count, previous, next, results}`` with ``ApiController::getPrevious`` and ``getNext``."""
    home = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    pages = max(1, -(-count // per_page))
    next_url = None
    if page < pages:
        next_url = f"{home}{request.url.path}?{urlencode({**query, 'page': page + 1})}"
    previous = None
    if page > 1:
        uri = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        previous = home + uri.replace(f"page={page}", f"page={page - 1}")
    return {"count": count, "previous": previous, "next": next_url, "results": results}


def _json(data: Any, status: int = 200, media_type: str = "application/json") -> Response:
    # JsonResponse::setEncodingOptions(JSON_UNESCAPED_SLASHES): "/" as is, non-ASCII as \uXXXX
    body = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return Response(body.encode(), status, media_type=media_type)


@contextmanager
def running_aides_territoires() -> Iterator[AidesTerritoires]:
    """A fresh emulated Aides-territoires on a free loopback port, stopped afterwards."""
    at = AidesTerritoires()
    with serving(app_for(at.faults, at.handle), "aides-territoires") as url:
        at.url = url
        yield at
