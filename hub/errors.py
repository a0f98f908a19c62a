"""The one root of the failures a person can act on, so each front end maps them in one place.

Every error the hub raises for a *person* (whoever runs ``maillage``, or an HTTP client) derives
from :class:`HubError`, and its message is written for that person: it names the key, the file,
the id or the source, and says what to change. The CLI turns any ``HubError`` into one red line
and exit code 1 (``hub.cli._common.user_errors``); the API turns any ``HubError`` that a route
did not map itself into a 4xx JSON answer (the table in ``hub.api.app``), never a 500. Anything
else that escapes is a bug and keeps its traceback.

Each class lives next to the code that raises it; the intermediate classes live here::

    HubError                        hub/errors.py
    ├── ConfigError                 hub/config.py                  configuration unreadable or inconsistent
    ├── UsageError                  hub/errors.py                  the command asks for what cannot be done
    │   ├── PlacingError            hub/pipeline/place_again.py    a placing choice naming no candidate
    │   └── NotFound                hub/errors.py                  an id or file the hub does not have
    ├── InputError                  hub/errors.py                  data handed to the hub is refused
    │   ├── RdfInputError           hub/rdf/io.py                  unparseable RDF, unknown format, DTD
    │   ├── UpdateRefused           hub/pipeline/sparql_update.py  a SPARQL Update that cannot apply
    │   ├── DatasetRefused          hub/pipeline/update_dataset.py  its WHERE reads too much
    │   ├── InvalidEntity           hub/api/routes/rest_write.py   the pipeline refused a REST write
    │   ├── BodyError               hub/api/routes/rest_body.py    a REST body that is not one entity
    │   ├── BadParameter            hub/views/listing.py           a malformed query parameter
    │   ├── ForbiddenService        hub/api/query/safety.py        SERVICE outside the allow-list
    │   ├── FieldError              connectors/communecter/elements.py   a field that is not RDF
    │   ├── WikitextError           connectors/mediawiki/wikitext.py     a page unsafe to read
    │   ├── MappingError            connectors/mediawiki/pagemap.py      a value the mapping refuses
    │   ├── PageError               connectors/website/fetch.py          a web page that cannot be read
    │   └── RuleError               connectors/jsonapi/rules.py          a JSON value a rule refuses
    ├── StoreError                  hub/store/base.py              store unreachable or refusing
    ├── ConflictError               hub/sync/resolve.py            no such conflict, or not resolvable so
    ├── ConnectorError              connectors/base/__init__.py    a source unusable as configured
    │   ├── WikiError               connectors/mediawiki/client.py
    │   ├── CommunecterError        connectors/communecter/client.py
    │   ├── PeerError               connectors/peerhub/__init__.py
    │   ├── WebsiteError            connectors/website/fetch.py
    │   ├── Refused                 connectors/base/http.py        a host, address, size or time refused
    │   ├── ApiError                connectors/jsonapi/client.py   a JSON API that did not answer usably
    │   └── AuthRefused             connectors/jsonapi/auth.py     a JSON API that refused the credentials
    ├── QueryError                  hub/errors.py                  the query pool could not answer
    │   ├── QueryFailed             hub/api/query/runner.py        invalid query (400)
    │   │   └── QueryTooComplex     hub/api/query/runner.py
    │   ├── QueryTooLarge           hub/api/query/runner.py        result over the byte cap (413)
    │   ├── QueryTimeout            hub/api/query/runner.py        stopped at the time limit (503)
    │   ├── QueryUnavailable        hub/api/query/admission.py     not now: retry after (503)
    │   │   ├── QueryRejected       hub/api/query/admission.py     queue full, or waited too long
    │   │   ├── QueryOutOfMemory    hub/api/query/runner.py        over a worker's memory cap
    │   │   └── QueryInterrupted    hub/api/query/runner.py        its worker was stopped from outside
    │   ├── NoFreeSlot              hub/api/query/admission.py     no slot now (the pool tries its other lane)
    │   ├── Preempted               hub/api/query/lanes.py         past the fast lane's time (moved)
    │   └── UpdateTimeout           hub/api/query/update_runner.py an update stopped at the limit (503)
    └── NotAcceptable               hub/api/negotiation.py         no media type the client accepts

Not in the tree, on purpose (``tests/test_errors.py`` holds the same list):

- signals that never leave the code that raises them: ``Retryable`` (Communecter and JSON API clients),
  ``EditConflict`` (MediaWiki client), ``_Died`` (query pool), and the writer protocol's
  ``StaleRevision``, ``WriteRefused`` and ``AlreadyExists`` (``connectors/base/protocol.py``),
  which the hub's outbound sync turns into a retry or a conflict record;
- ``UnsupportedShapes`` (``hub/shacl/model.py``): the SHACL engine imports only rdflib and
  pyoxigraph; ``hub.pipeline.validate`` catches it and falls back to pyshacl, so it never
  reaches a person.
"""

from __future__ import annotations

__all__ = ["HubError", "InputError", "NotFound", "QueryError", "UsageError"]


class HubError(Exception):
    """A failure the person running the hub or calling it can act on; the message says how."""


class UsageError(HubError):
    """The command line asks for something that cannot be done (a bad option, no sources)."""


class NotFound(UsageError):
    """The command names an id or a file the hub does not have (a missing file, an unknown match
    candidate); the API answers 404."""


class InputError(HubError):
    """Data handed to the hub (a file, a body, a page, an element) is refused; says where and why."""


class QueryError(HubError):
    """The query pool could not answer: the query's fault (4xx) or the hub's state (503)."""
