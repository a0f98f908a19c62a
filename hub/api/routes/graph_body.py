"""The body of a Graph Store PUT or POST: one graph, as Turtle, N-Triples, RDF/XML or JSON-LD,
or several of those as the parts of a ``multipart/form-data`` request (one file per part, each
with its own ``Content-Type``), which the protocol lets a client send to merge files in one write.

JSON-LD is read the way the REST API reads it: a document without ``@context``, or with the hub's
own context by URL, gets the hub context inline (the hub never fetches a remote context). Named
graphs inside a JSON-LD body are refused unless they name the target graph, since a request
writes exactly one graph.
"""

from __future__ import annotations

import io
import json
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import pyoxigraph as ox
from fastapi import HTTPException

from hub.rdf.io import RdfInputError, parse_quads
from hub.views.jsonld import hub_context

JSON_LD = "application/ld+json"
ACCEPTED = ("text/turtle", "application/n-triples", "application/rdf+xml", JSON_LD)
CONTEXT_PATH = "/api/context.jsonld"
MULTIPART = "multipart/form-data"
MAX_PARTS = 100


def _with_hub_context(body: bytes) -> bytes:
    """The body with the hub context inlined where it is missing or named by URL."""
    try:
        data: Any = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise HTTPException(400, "the body nests too deeply") from exc
    if not isinstance(data, dict):
        return body
    context = data.get("@context")
    if context is None or (isinstance(context, str) and context.endswith(CONTEXT_PATH)):
        data = {**data, "@context": hub_context().inline}
        return json.dumps(data).encode()
    return body


def graph_triples(body: bytes, content_type: str, graph: str) -> list[ox.Triple]:
    """The triples a body says are in ``graph``, or a 4xx that tells the client what to fix."""
    media = content_type.split(";")[0].strip().lower() or "text/turtle"
    if media == "application/json":
        media = JSON_LD
    fmt = ox.RdfFormat.from_media_type(media)
    if fmt is None or (fmt.supports_datasets and fmt != ox.RdfFormat.JSON_LD):
        raise HTTPException(415, f"send the graph as one of: {', '.join(ACCEPTED)}")
    if fmt == ox.RdfFormat.JSON_LD:
        body = _with_hub_context(body)
    try:
        quads = parse_quads(io.BytesIO(body), fmt, graph, "request body")
    except RdfInputError as exc:
        message = str(exc)
        if "remote context" in message:
            message = (
                "request body: remote @context documents are not fetched; inline the context, "
                "or leave it out to use the hub context"
            )
        raise HTTPException(400, message) from exc
    target = ox.NamedNode(graph)
    others = {
        str(q.graph_name) for q in quads
        if not isinstance(q.graph_name, ox.DefaultGraph) and q.graph_name != target
    }
    if others:
        raise HTTPException(
            400,
            f"the body names other graphs ({', '.join(sorted(others)[:3])}); a Graph Store "
            "request writes one graph, the one named by ?graph=",
        )
    return [q.triple for q in quads]


def _parts(body: bytes, content_type: str) -> list[Message]:
    """The parts of a ``multipart/form-data`` body (the standard library's MIME parser)."""
    if "boundary=" not in content_type:
        raise HTTPException(400, "multipart/form-data needs a boundary parameter")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    parts = message.get_payload() if message.is_multipart() else None
    if not isinstance(parts, list) or not parts:
        raise HTTPException(400, "the multipart/form-data body has no parts")
    if len(parts) > MAX_PARTS:
        raise HTTPException(400, f"send at most {MAX_PARTS} parts in one request")
    return [part for part in parts if isinstance(part, Message)]


def body_triples(body: bytes, content_type: str, graph: str) -> list[ox.Triple]:
    """The triples of a request body, single document or ``multipart/form-data`` files."""
    if content_type.split(";")[0].strip().lower() != MULTIPART:
        return graph_triples(body, content_type, graph)
    triples: list[ox.Triple] = []
    for index, part in enumerate(_parts(body, content_type), 1):
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            raise HTTPException(400, f"part {index} of the multipart body is not a file")
        name = part.get_filename() or part.get_param("name", header="content-disposition")
        try:
            triples += graph_triples(payload, part.get("content-type", ""), graph)
        except HTTPException as exc:
            raise HTTPException(exc.status_code, f"part {index} ({name}): {exc.detail}") from exc
    return triples
