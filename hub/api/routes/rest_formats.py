"""The formats of ``/api/{collection}``: ``format=`` short names, and a listing page as a response.

``format=`` exists for the tools that cannot set ``Accept`` (a spreadsheet's "import from URL",
a map's layer URL, a browser address bar); its short names are REST's own, not the SPARQL
endpoint's (there ``json`` means SPARQL results).
"""

from __future__ import annotations

import json

import pyoxigraph as ox
from fastapi.responses import Response

from hub.rdf.io import serialize
from hub.views import collection as hydra
from hub.views import flat
from hub.views.listing import BadParameter
from hub.vocab import MLG, XSD

SHORT_NAMES = {
    "json": "application/json",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "geojson": "application/geo+json",
    "csv": "text/csv",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "rdf": "application/rdf+xml",
    "rdfxml": "application/rdf+xml",
    "xml": "application/rdf+xml",
    "html": "text/html",
}
RDF_WRITERS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}
PREFIXES = {
    "hydra": hydra.HYDRA, "mlg": MLG, "rdfs": hydra.RDFS, "xsd": XSD, "schema": "https://schema.org/",
}


def requested(format_param: str | None) -> str | None:
    """The media type ``format=`` asks for (None when absent); BadParameter when it names
    neither a short name nor a media type."""
    if format_param is None:
        return None
    name = format_param.strip().lower()
    if name in SHORT_NAMES:
        return SHORT_NAMES[name]
    if "/" in name and "," not in name:
        return name
    raise BadParameter(
        f"unknown format {format_param!r}: use one of {', '.join(sorted(SHORT_NAMES))} "
        "or a media type"
    )


def list_response(page: hydra.Page, media: str, context_url: str) -> Response:
    """One listing page in ``media``, with ``Link`` headers to the first and next pages."""
    headers = {"Vary": "Accept", "Link": hydra.link_header(page, media)}
    if media == "application/geo+json":
        body = json.dumps(flat.geojson(page), ensure_ascii=False)
        return Response(body, headers=headers, media_type="application/geo+json")
    if media == "text/csv":
        return Response(
            flat.csv_text(page), headers=headers, media_type="text/csv; charset=utf-8; header=present"
        )
    if media in RDF_WRITERS:
        body_bytes = serialize(hydra.page_triples(page), RDF_WRITERS[media], PREFIXES)
        return Response(body_bytes, headers=headers, media_type=media)
    body = json.dumps(hydra.hydra_page(page, context_url), ensure_ascii=False)
    return Response(body, headers=headers, media_type=media)
