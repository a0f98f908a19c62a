"""Read RDF files into source records, and name the formats the hub reads and writes.

A triple file is split into one record per subject (blank nodes travel with the subject that
points at them); in a quad file each named graph is one record. Parse errors carry the line and
column so that a user can fix the file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from hub.clipping import clip_message
from hub.errors import InputError
from hub.records import Record, skolemize

FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "json-ld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "rdf": ox.RdfFormat.RDF_XML,
    "xml": ox.RdfFormat.RDF_XML,
}


class RdfInputError(InputError):
    """The input is not valid RDF; the message says where."""


ENTITY_DECLARATION = b"<!ENTITY"
DTD_REFUSED = (
    "DTD entities are not accepted in RDF/XML (<!ENTITY declarations can expand a few bytes "
    "into gigabytes); write the values out or use another format"
)


class _EntityGuard:
    """A binary stream that fails on an XML entity declaration before the parser sees it.

    The XML parser expands internal entities without bound ("billion laughs": 600 bytes become
    100 M characters), so RDF/XML with ``<!ENTITY`` is refused whatever it declares. The parser
    reads UTF-8 only, so one byte pattern finds every declaration; the tail of each chunk is kept
    so that a declaration cut across two reads is still seen.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._tail = b""

    def _check(self, chunk: bytes) -> bytes:
        if ENTITY_DECLARATION in self._tail + chunk:
            raise RdfInputError(DTD_REFUSED)
        self._tail = (self._tail + chunk)[-(len(ENTITY_DECLARATION) - 1):]
        return chunk

    def read(self, size: int = -1) -> bytes:
        return self._check(self._raw.read(size))

    def readinto(self, buffer: bytearray) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def refuse_entities(data: bytes) -> None:
    """:class:`RdfInputError` if an RDF/XML document declares DTD entities."""
    if ENTITY_DECLARATION in data:
        raise RdfInputError(DTD_REFUSED)


@dataclass(frozen=True)
class ParseOptions:
    source: str
    base_iri: str | None = None
    namespace: str = ""
    connector: str = "import"


def guess_format(path: Path, name: str | None = None) -> ox.RdfFormat:
    """The format named by ``--format`` or by the file extension."""
    key = (name or path.suffix.lstrip(".")).lower()
    if key == "json":
        key = "jsonld"
    fmt = FORMATS.get(key)
    if fmt is None:
        known = ", ".join(sorted({"turtle", "ntriples", "nquads", "trig", "jsonld", "rdfxml"}))
        raise RdfInputError(f"cannot tell the RDF format of {path.name!r}; use --format ({known})")
    return fmt


class _CountingReader:
    """A binary file wrapper that reports how many bytes were read, for progress bars."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_read = on_read

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._on_read(len(chunk))
        return chunk

    def readinto(self, buffer: bytearray) -> int:
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self._on_read(n or 0)
        return int(n or 0)


def parse_quads(
    stream: IO[bytes], fmt: ox.RdfFormat, base_iri: str | None, label: str
) -> list[ox.Quad]:
    """Every quad of a stream, or an :class:`RdfInputError` with line and column (the message
    is clipped: parse errors may quote the input)."""
    if fmt == ox.RdfFormat.RDF_XML:
        stream = _EntityGuard(stream)  # type: ignore[assignment]
    try:
        return list(ox.parse(stream, fmt, base_iri=base_iri))
    except RdfInputError as exc:
        raise RdfInputError(f"{label}: {exc}") from exc
    except SyntaxError as exc:
        raise RdfInputError(clip_message(f"{label}: {exc.msg}")) from exc
    except (ValueError, OSError) as exc:
        raise RdfInputError(clip_message(f"{label}: {exc}")) from exc


def records_from_quads(quads: list[ox.Quad], options: ParseOptions) -> Iterator[Record]:
    """Group quads into records: named graphs as they are, default-graph triples by subject."""
    by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
    default: list[ox.Triple] = []
    default_graph = ox.DefaultGraph
    for quad in quads:  # a file's every quad: the loop is kept bare
        graph = quad.graph_name
        if isinstance(graph, default_graph):
            default.append(quad.triple)
        else:
            by_graph[graph.value].append(quad.triple)
    for name, triples in by_graph.items():
        yield _record(options, name, triples)
    groups, anonymous = _group_by_subject(default)
    for subject, triples in groups.items():
        yield _record(options, subject, triples, blank=subject in anonymous)


def _record(options: ParseOptions, source_id: str, triples: list[ox.Triple], blank: bool = True) -> Record:
    """``blank``: whether the triples may hold blank nodes (skolemized then)."""
    fixed = skolemize(triples, options.namespace, f"{options.source}|{source_id}") if blank else triples
    return Record(
        source=options.source,
        source_id=source_id,
        triples=tuple(fixed),
        connector=options.connector,
    )


def _group_by_subject(triples: list[ox.Triple]) -> tuple[dict[str, list[ox.Triple]], set[str]]:
    """Triples per IRI subject; a blank node's triples go with the subject that refers to it.
    Also the groups that hold a blank node (the others need no skolemizing)."""
    owner: dict[str, str] = {}
    pending = [t for t in triples if isinstance(t.object, ox.BlankNode)]
    changed = True
    while changed:  # propagate ownership along chains of blank nodes
        changed = False
        for t in pending:
            if not isinstance(t.subject, ox.NamedNode | ox.BlankNode):
                continue
            subject_owner = (
                t.subject.value
                if isinstance(t.subject, ox.NamedNode)
                else owner.get(t.subject.value)
            )
            target = t.object.value  # type: ignore[union-attr]  # a blank node, filtered above
            if subject_owner is not None and target not in owner:
                owner[target] = subject_owner
                changed = True
    groups: dict[str, list[ox.Triple]] = defaultdict(list)
    anonymous: set[str] = set()
    named = ox.NamedNode
    for t in triples:
        subject = t.subject
        if isinstance(subject, named):
            key = subject.value
        elif isinstance(subject, ox.BlankNode):
            key = owner.get(subject.value, "_:" + subject.value)
            anonymous.add(key)
        else:
            continue  # RDF-star quoted subjects are not supported
        groups[key].append(t)
    for t in pending:  # a named subject pointing at a blank node
        if isinstance(t.subject, named):
            anonymous.add(t.subject.value)
    return groups, anonymous


def read_records(
    path: Path,
    options: ParseOptions,
    fmt: ox.RdfFormat,
    on_read: Callable[[int], None] | None = None,
) -> list[Record]:
    """All records of an RDF file (parsed whole first: a syntax error stores nothing)."""
    with path.open("rb") as raw:
        stream: IO[bytes] = _CountingReader(raw, on_read) if on_read else raw  # type: ignore[assignment]
        quads = parse_quads(stream, fmt, options.base_iri, path.name)
    return list(records_from_quads(quads, options))


def serialize(triples: list[ox.Triple] | list[ox.Quad], fmt: ox.RdfFormat,
              prefixes: dict[str, str] | None = None) -> bytes:
    """Triples or quads in a format pyoxigraph writes."""
    return bytes(ox.serialize(triples, format=fmt, prefixes=prefixes) or b"")
