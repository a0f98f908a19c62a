"""The web interface routes: ``/`` and ``/ui/...``, HTML in French by default (``?lang=en``).

Pages read the store through :mod:`hub.web.data`; the map, the SPARQL editor, the charts and the
operation buttons are small scripts under ``static/`` talking to the existing HTTP API.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.api.auth import is_operator
from hub.api.state import HubState, hub_state
from hub.meta.public import PRIVATE_GRAPH_PREFIX
from hub.rdf.io import serialize
from hub.rdf.resources import SPARQL_DIR
from hub.store.base import StoreError
from hub.views.entity import load_entity
from hub.views.listing import BadParameter, parse_bbox
from hub.vocab import COLLECTIONS, MLG, XSD
from hub.web import choropleth, data
from hub.web.i18n import STRINGS, language

log = logging.getLogger("maillage.web")
HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/static"
LIST_PARAMS = ("q", "tag", "theme", "territory", "source", "cursor")

router = APIRouter(include_in_schema=False)
templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def static_files() -> StaticFiles:
    """The package's CSS, scripts, outline and vendored libraries, to mount at ``STATIC_URL``."""
    return StaticFiles(directory=STATIC_DIR)


class Page:
    """Renders one template with the UI strings, the language and the link helpers."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.lang = language(request)
        self.explicit = request.query_params.get("lang") in STRINGS

    def url(self, path: str, **params: str | None) -> str:
        query = {k: v for k, v in params.items() if v}
        if self.explicit:
            query["lang"] = self.lang
        return f"{path}?{urlencode(query)}" if query else path

    def entity_url(self, iri: str) -> str:
        return self.url("/ui/entity", iri=iri)

    def switch_url(self) -> str:
        other = "en" if self.lang == "fr" else "fr"
        params = dict(self.request.query_params)
        params["lang"] = other
        return f"{self.request.url.path}?{urlencode(params)}"

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        strings = STRINGS[self.lang]
        body = templates.get_template(template).render(
            t=strings, lang=self.lang, url=self.url, entity_url=self.entity_url,
            switch_url=self.switch_url(), static=STATIC_URL, path=self.request.url.path,
            collections=list(COLLECTIONS), **context,
        )
        return HTMLResponse(body, status_code=status_code, headers={"Content-Language": self.lang})

    def error(self, status: int, detail: str | None = None) -> HTMLResponse:
        strings = STRINGS[self.lang]
        title = strings["not_found"] if status == 404 else strings["bad_request"] if status < 500 else (
            strings["error"])
        return self.render("error.html", status, title=title, detail=detail, status=status)


def _guarded(page: Page, build: Callable[[], HTMLResponse]) -> HTMLResponse:
    """A friendly page instead of a traceback when the store refuses or fails."""
    try:
        return build()
    except BadParameter as exc:
        return page.error(400, str(exc))
    except StoreError as exc:
        return page.error(400, str(exc))
    except Exception:
        log.exception("web page %s failed", page.request.url.path)
        return page.error(500)


@router.get("/")
def home(request: Request, state: HubState = Depends(hub_state)) -> HTMLResponse:
    page = Page(request)
    return _guarded(page, lambda: page.render("home.html", **data.home(state.store, state.config)))


@router.get("/ui")
def ui_home(request: Request, state: HubState = Depends(hub_state)) -> HTMLResponse:
    return home(request, state)


def _valid_iri(iri: str) -> bool:
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return ":" in iri


@router.get("/ui/entity")
def entity(request: Request, state: HubState = Depends(hub_state)) -> HTMLResponse:
    page = Page(request)
    iri = request.query_params.get("iri", "")
    if not _valid_iri(iri):
        return page.error(404, iri or None)

    def build() -> HTMLResponse:
        view = data.entity_view(state.store, state.config.base_iri, iri, page.lang)
        if view is None:
            return page.error(404, iri)
        return page.render("entity.html", e=view)

    return _guarded(page, build)


@router.get("/ui/entity/download")
def download(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """The entity as JSON-LD (hub context) or Turtle, as a file."""
    page = Page(request)
    iri = request.query_params.get("iri", "")
    wanted = request.query_params.get("format", "jsonld")
    found = load_entity(state.store, state.config.base_iri, iri) if _valid_iri(iri) else None
    if found is None or wanted not in ("jsonld", "turtle"):
        return page.error(404, iri or None)
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", iri.rstrip("/").rsplit("/", 1)[-1])[:60] or "entity"
    if wanted == "turtle":
        body = serialize(found.triples, ox.RdfFormat.TURTLE, {"mlg": MLG, "xsd": XSD})
        media, ext = "text/turtle", "ttl"
    else:
        body = data.script_json(data.jsonld_document(found)).encode()
        media, ext = "application/ld+json", "jsonld"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}.{ext}"'})


@router.get("/ui/map")
def map_page(request: Request, state: HubState = Depends(hub_state)) -> HTMLResponse:
    page = Page(request)
    allowed = state.config.api.tile_servers  # no tiles by default: the shipped outline only
    asked = request.query_params.get("tiles")
    if asked and asked not in allowed:  # a page of the hub must not load images from anywhere
        return page.error(400, "tiles= must be one of the tile servers of [api] tile_servers: "
                          + (", ".join(allowed) or "none configured"))
    tiles = asked or (allowed[0] if allowed else None)

    def build() -> HTMLResponse:
        box = request.query_params.get("bbox")
        bbox = parse_bbox(box) if box else None  # a malformed one: 400 (BadParameter)
        points = data.map_points(state.store, page.lang, bbox, grid=state.grid_ready)
        counts = state.observatory.ready() if state.observatory is not None else None
        for point in points:
            point["href"] = page.entity_url(point["iri"])
        return page.render("map.html", points=data.script_json(points), count=len(points),
                           tiles=data.script_json(tiles),
                           shaded=data.script_json(choropleth.figures(state.store, counts)))

    return _guarded(page, build)


def examples() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SPARQL_DIR.glob("*.rq"))}


def operator_example(query: str) -> bool:
    """Whether an example reads a private graph: anonymous readers get no rows from it."""
    return PRIVATE_GRAPH_PREFIX in query


@router.get("/ui/sparql")
def sparql_page(request: Request) -> HTMLResponse:
    """Examples that read the bookkeeping graph are marked for operators, who give the token in
    the page (sparql.js sends it); the default example is one anyone can run."""
    page = Page(request)
    found = examples()
    public = [q for q in found.values() if not operator_example(q)]
    first = public[0] if public else "SELECT * WHERE { ?s ?p ?o } LIMIT 10"
    names = [(name, operator_example(q)) for name, q in found.items()]
    return page.render("sparql.html", examples=data.script_json(found), names=names,
                       query=request.query_params.get("query") or first)


@router.get("/ui/observatory")
def observatory_page(request: Request, state: HubState = Depends(hub_state)) -> HTMLResponse:
    page = Page(request)

    def build() -> HTMLResponse:
        counts = state.observatory.ready() if state.observatory is not None else None
        series = data.observatory(state.store, counts)
        tables = {level: data.territory_table(state.store, level, counts)
                  for level in ("region", "department")}
        return page.render("observatory.html", series=series, series_json=data.script_json(series),
                           tables=tables)

    return _guarded(page, build)


@router.get("/ui/operations")
def operations_page(request: Request, state: HubState = Depends(hub_state)) -> HTMLResponse:
    """Anonymous visitors get counts; operations.js asks again with the token (a browser does not
    send it when it navigates) and shows the operator's view in place."""
    page = Page(request)
    operator = is_operator(request, state)
    response = _guarded(page, lambda: page.render(
        "operations.html", **data.operations(state.store, state.config, operator)))
    response.headers["Cache-Control"] = "no-store"  # the operator's view must not be kept anywhere
    return response


@router.get("/ui/{collection}")
def collection_page(collection: str, request: Request, state: HubState = Depends(hub_state)) -> HTMLResponse:
    page = Page(request)
    if collection not in COLLECTIONS:
        return page.error(404)
    params = {k: request.query_params.get(k, "").strip() for k in LIST_PARAMS}

    def build() -> HTMLResponse:
        listing = data.listing(state.store, collection, params, page.lang)
        return page.render("list.html", collection=collection, listing=listing, params=params)

    return _guarded(page, build)


@router.get("/ui/{rest:path}")
def not_found(request: Request) -> HTMLResponse:
    return Page(request).error(404)
