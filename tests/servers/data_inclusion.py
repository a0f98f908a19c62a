"""A data·inclusion API emulator for the jsonapi connector tests - a TEST DOUBLE, not data·inclusion.

Starlette app served by uvicorn in a thread on 127.0.0.1, over in-memory structures and services.

Usage::

    with running_data_inclusion() as di:
        sid = di.add_structure(nom="Centre social Le Tournesol")
        di.add_service(structure_id=sid, nom="Atelier numérique")
        di.fail_next("5xx", when=lambda path, params: params.get("page") == "2")
        httpx.get(f"{di.url}/api/v1/structures", headers={"Authorization": f"Bearer {di.token}"})

FACTS it follows, from gip-inclusion/data-inclusion (api/, commit d4969e3, June 2026):

- ``api/src/data_inclusion/api/app.py``: routes under ``/api/v1``;
  ``inclusion_data/routes.py``: ``GET /structures``, ``/structures/{id}``, ``/services``,
  ``/services/{id}``, ``/sources``, each behind ``auth.authenticated(required_scopes=["api"])``;
  a missing id is ``404 {"detail": "Not Found"}``.
- ``auth/dependencies.py`` with FastAPI 0.136 (``api/uv.lock``): no ``Authorization`` header →
  ``HTTPBearer`` answers ``401 {"detail": "Not authenticated"}`` with ``WWW-Authenticate: Bearer``;
  a token that does not verify → ``401 {"detail": "Unauthorized"}``; a token without the ``api``
  scope (a widget token) → ``403 {"detail": "Forbidden"}`` (``tests/e2e/api/test_auth.py``).
- ``utils/pagination.py``: ``page`` ≥ 1 (default 1), ``size`` 1..``MAX_PAGE_SIZE`` (10,000;
  default ``DEFAULT_PAGE_SIZE`` 5,000, ``config.py``), out of range → FastAPI's 422
  ``{"detail": [{"type", "loc", "msg", "input", "ctx"}]}``; envelope ``{"items", "total",
  "page", "size", "pages"}`` where ``size`` is the number of items *on this page* and
  ``pages = ceil(total / size requested)``; a page past the end has ``items: []``.
- ``inclusion_data/services.py``: lists ordered by ``id``; ``sources`` filters by producer.
- Record format: ``inclusion_data/schemas.py`` (``ListedStructure`` = schema ``Structure`` +
  ``adresse_certifiee``, ``score_qualite``, ``doublons`` as ``[{source, id}]``; ``Service`` = schema
  ``Service`` + ``adresse_certifiee``, ``score_qualite``, ``extra`` hidden unless ``extra=true``),
  every field present, ``null`` when empty (``tests/e2e/api/__snapshots__/test_inclusion_data.ambr``);
  field names and enums from gip-inclusion/data-inclusion-schema ``src/data_inclusion/schema/v1/``
  (``structures.py``, ``services.py``, ``thematiques.py``, ``publics.py``, ``frais.py``).

GUESSES and deviations: tokens are opaque strings here (JWTs there); the real API validates its
answers against the models above, so a record its model refuses (a malformed ``courriel``) would
make the whole page a 500; this emulator serves what a test stores, so tests can hand the hub
such a record (as a producer's data would look before data·inclusion's checks); the filters other
than ``sources`` are ignored; no analytics, no ``/search``, no Soliguide rules.

Faults (``fail_next``, counted per matching request): "5xx" = 503 HTML page (a proxy's),
"429" = 429 with ``Retry-After: 1``, "timeout" = wait ``delay`` s then answer, "html" = 200
text/html maintenance page, "malformed" = 200 application/json with a truncated body.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from tests.servers.common import free_port, serving

MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 10_000, 5_000
FAULTS = ("5xx", "429", "timeout", "html", "malformed")
Predicate = Callable[[str, dict[str, str]], bool]

STRUCTURE_FIELDS = (
    "source", "id", "nom", "date_maj", "description", "lien_source", "siret", "commune", "code_postal",
    "code_insee", "adresse", "complement_adresse", "longitude", "latitude", "telephone", "courriel",
    "site_web", "horaires_accueil", "accessibilite_lieu", "reseaux_porteurs", "adresse_certifiee",
    "score_qualite", "doublons",
)
SERVICE_FIELDS = (
    "source", "structure_id", "id", "nom", "description", "lien_source", "date_maj", "type", "thematiques",
    "frais", "frais_precisions", "publics", "publics_precisions", "conditions_acces", "commune",
    "code_postal", "code_insee", "adresse", "complement_adresse", "longitude", "latitude", "telephone",
    "courriel", "modes_accueil", "zone_eligibilite", "contact_nom_prenom", "lien_mobilisation",
    "modes_mobilisation", "mobilisable_par", "mobilisation_precisions", "volume_horaire_hebdomadaire",
    "nombre_semaines", "horaires_accueil", "adresse_certifiee", "score_qualite",
)
PAGE_HTML = "<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"


@dataclass
class _Fault:
    kind: str
    count: int
    when: Predicate | None
    delay: float


@dataclass
class DataInclusion:
    url: str
    token: str = "jeton-api-maillage"
    widget_token: str = "jeton-widget"
    today: date = date(2026, 11, 30)
    structures: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 10**9)))
    on_request: Callable[[str, dict[str, str]], None] | None = None
    """Called with (path, query) as each request arrives: a test's producer acting mid-harvest."""

    # -- a producer's data, as data·inclusion publishes it ----------------------------------
    def add_structure(self, **values: Any) -> str:
        number = next(self._numbers)
        record = {name: None for name in STRUCTURE_FIELDS}
        record.update({
            "source": "dora", "id": f"dora--structure-{number:05d}", "nom": f"Structure {number}",
            "date_maj": self.today.isoformat(), "siret": f"{13003013300000 + number:014d}",
            "commune": "Lyon", "code_postal": "69001", "code_insee": "69381",
            "adresse": f"{number} rue de la République", "longitude": 4.8357, "latitude": 45.764,
            "telephone": "+33478000000", "courriel": f"accueil{number}@structure.example.org",
            "site_web": f"https://structure{number}.example.org/", "reseaux_porteurs": [],
            "adresse_certifiee": True, "score_qualite": 0.7, "doublons": [],
        })
        record.update(values)
        with self._lock:
            self.structures[record["id"]] = record
        return str(record["id"])

    def add_service(self, structure_id: str, **values: Any) -> str:
        number = next(self._numbers)
        record = {name: None for name in SERVICE_FIELDS}
        record.update({
            "source": "dora", "structure_id": structure_id, "id": f"dora--service-{number:05d}",
            "nom": f"Service {number}", "description": "Accompagnement individuel aux démarches en ligne.",
            "date_maj": self.today.isoformat(), "type": "accompagnement",
            "thematiques": ["numerique--acceder-a-des-services-en-ligne"],
            "frais": "gratuit", "publics": ["tous-publics"], "commune": "Lyon", "code_postal": "69001",
            "code_insee": "69381", "modes_accueil": ["en-presentiel"], "zone_eligibilite": ["69"],
            "contact_nom_prenom": "Camille Martin", "adresse_certifiee": True, "score_qualite": 0.5,
        })
        record.update(values)
        with self._lock:
            self.services[record["id"]] = record
        return str(record["id"])

    def update(self, key: str, **values: Any) -> None:
        """A producer's edit: the record changes and its ``date_maj`` becomes today."""
        with self._lock:
            table = self.structures if key in self.structures else self.services
            table[key].update({"date_maj": self.today.isoformat(), **values})

    def delete(self, key: str) -> None:
        with self._lock:
            self.structures.pop(key, None)
            self.services.pop(key, None)

    def fail_next(self, kind: str, count: int = 1, when: Predicate | None = None, delay: float = 10.0) -> None:
        """Answer the next ``count`` matching requests with a fault (see the module docstring)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; expected one of {FAULTS}")
        with self._lock:
            self._faults.append(_Fault(kind, count, when, delay))

    def _take_fault(self, path: str, params: dict[str, str]) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.count > 0 and (fault.when is None or fault.when(path, params)):
                    fault.count -= 1
                    return fault
        return None


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, headers, media_type="application/json")


def _too_small(name: str, value: str, bound: int, kind: str = "greater_than_equal") -> Response:
    msg = (f"Input should be greater than or equal to {bound}" if kind == "greater_than_equal"
           else f"Input should be less than or equal to {bound}")
    key = "ge" if kind == "greater_than_equal" else "le"
    return _json({"detail": [{"type": kind, "loc": ["query", name], "msg": msg, "input": value,
                              "ctx": {key: bound}}]}, 422)


def _integer(name: str, raw: str | None, default: int, low: int, high: int | None) -> int | Response:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return _json({"detail": [{"type": "int_parsing", "loc": ["query", name],
                                  "msg": "Input should be a valid integer, unable to parse string as an integer",
                                  "input": raw}]}, 422)
    if value < low:
        return _too_small(name, raw, low)
    if high is not None and value > high:
        return _too_small(name, raw, high, "less_than_equal")
    return value


def build_app(di: DataInclusion) -> Starlette:
    def authorise(request: Request) -> Response | None:
        header = request.headers.get("authorization")
        if not header or not header.lower().startswith("bearer ") or not header[7:].strip():
            return _json({"detail": "Not authenticated"}, 401, {"WWW-Authenticate": "Bearer"})
        token = header[7:].strip()
        if token == di.widget_token:
            return _json({"detail": "Forbidden"}, 403)
        if token != di.token:
            return _json({"detail": "Unauthorized"}, 401)
        return None

    def seen(request: Request) -> None:
        with di._lock:
            di.requests.append((request.url.path, dict(request.query_params)))
        if di.on_request is not None:
            di.on_request(request.url.path, dict(request.query_params))

    async def faulted(request: Request) -> Response | None:
        params = dict(request.query_params)
        fault = di._take_fault(request.url.path, params)
        if fault is None:
            return None
        if fault.kind == "5xx":
            return HTMLResponse(PAGE_HTML.format(title="503 Service Temporarily Unavailable"), 503)
        if fault.kind == "429":
            return _json({"detail": "Too Many Requests"}, 429, {"Retry-After": "1"})
        if fault.kind == "html":
            return HTMLResponse(PAGE_HTML.format(title="data·inclusion - maintenance en cours"), 200)
        if fault.kind == "malformed":
            return Response('{"items": [{"id": "dora--tronq', 200, media_type="application/json")
        await asyncio.sleep(fault.delay)  # timeout: then answer normally
        return None

    async def listing(request: Request) -> Response:
        seen(request)
        refused = authorise(request) or await faulted(request)
        if refused is not None:
            return refused
        page = _integer("page", request.query_params.get("page"), 1, 1, None)
        size = _integer("size", request.query_params.get("size"), DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        if isinstance(page, Response):
            return page
        if isinstance(size, Response):
            return size
        kind = request.path_params["kind"]
        if kind not in ("structures", "services"):
            return _json({"detail": "Not Found"}, 404)
        with di._lock:
            table = di.structures if kind == "structures" else di.services
            rows = [table[key] for key in sorted(table)]
        sources = request.query_params.getlist("sources")
        if sources:
            rows = [r for r in rows if r["source"] in sources]
        if kind == "structures":
            rows = [{**r, "doublons": [{"source": d["source"], "id": d["id"]} for d in r["doublons"] or []]}
                    for r in rows]
        items = rows[size * (page - 1) : size * page]
        return _json({"items": items, "total": len(rows), "page": page, "size": len(items),
                      "pages": math.ceil(len(rows) / size)})

    async def detail(request: Request) -> Response:
        seen(request)
        refused = authorise(request) or await faulted(request)
        if refused is not None:
            return refused
        kind, key = request.path_params["kind"], request.path_params["key"]
        with di._lock:
            found = (di.structures if kind == "structures" else di.services).get(key)
        return _json(found) if found is not None else _json({"detail": "Not Found"}, 404)

    async def sources(request: Request) -> Response:
        refused = authorise(request)
        if refused is not None:
            return refused
        with di._lock:
            slugs = sorted({r["source"] for r in [*di.structures.values(), *di.services.values()]})
        return _json([{"slug": s, "nom": s, "description": None} for s in slugs])

    async def not_found(request: Request) -> Response:
        return JSONResponse({"detail": "Not Found"}, 404)

    return Starlette(routes=[
        Route("/api/v1/sources", sources),
        Route("/api/v1/{kind:str}", listing),
        Route("/api/v1/{kind:str}/{key:str}", detail),
        Route("/{rest:path}", not_found),
    ])


@contextmanager
def running_data_inclusion() -> Iterator[DataInclusion]:
    """A fresh emulated data·inclusion API on a free loopback port, stopped afterwards."""
    port = free_port()
    di = DataInclusion(url=f"http://127.0.0.1:{port}")
    with serving(build_app(di), "data·inclusion emulator", port):
        yield di


COMMUNES = [("69381", "69001", "Lyon", 45.7676, 4.8344), ("75056", "75011", "Paris", 48.8589, 2.3797),
            ("13055", "13001", "Marseille", 43.2965, 5.3698), ("33063", "33000", "Bordeaux", 44.8378, -0.5792),
            ("59350", "59000", "Lille", 50.6292, 3.0573), ("35238", "35000", "Rennes", 48.1173, -1.6778)]
THEMES = ["numerique--acceder-a-des-services-en-ligne", "famille--garde-denfants", "se-former",
          "trouver-un-emploi", "logement-hebergement", "difficultes-financieres"]
PUBLICS = ["tous-publics", "jeunes", "seniors", "femmes", "demandeurs-emploi", "familles"]


def fill_dump(di: DataInclusion, structures: int, services: int) -> None:
    """A dump the size of a region's: ``structures`` structures and ``services`` services spread
    over them, with the variety of real records (six towns, themes, audiences, fees, zones)."""
    keys = []
    for i in range(structures):
        insee, postal, town, lat, lon = COMMUNES[i % len(COMMUNES)]
        keys.append(di.add_structure(nom=f"Structure d'accueil {i:05d}", code_insee=insee, code_postal=postal,
                                     commune=town, latitude=round(lat + i % 97 / 10_000, 6),
                                     longitude=round(lon + i % 89 / 10_000, 6),
                                     description=f"Accueil, information et orientation des habitants de {town}."))
    for i in range(services):
        di.add_service(keys[i % len(keys)], nom=f"Permanence d'accès aux droits {i:05d}",
                       thematiques=[THEMES[i % 6], THEMES[(i + 2) % 6]], publics=[PUBLICS[i % 6]],
                       frais="gratuit" if i % 3 else "payant", zone_eligibilite=[COMMUNES[i % 6][0][:2]],
                       code_insee=COMMUNES[i % 6][0], code_postal=COMMUNES[i % 6][1], commune=COMMUNES[i % 6][2])


def main() -> None:
    """``python -m tests.servers.data_inclusion --port P --structures N --services M``: serve a
    dump in its own process (the benchmark keeps the hub's work and the API's apart)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--structures", type=int, default=5_000)
    parser.add_argument("--services", type=int, default=5_000)
    args = parser.parse_args()
    di = DataInclusion(url=f"http://127.0.0.1:{args.port}")
    fill_dump(di, args.structures, args.services)
    uvicorn.run(build_app(di), host="127.0.0.1", port=args.port, log_level="warning", access_log=False,
                lifespan="off")


if __name__ == "__main__":
    main()
