"""The bookkeeping graph ``urn:maillage:meta`` (``hub.vocab.META_GRAPH``): the hub's own state.

Everything the hub knows about its records, as opposed to what the records say, lives in one
named graph, and every kind of subject in it has one module here with a frozen dataclass, a
writer that returns a :data:`hub.records.MetaUpdate` ``(subject, statements)`` for the batch's
single commit (:mod:`hub.store.transaction`), and typed readers. Other modules call these
instead of spelling the predicates, so a renamed predicate is a change here (the exceptions
left, read queries that join record graphs with their provenance, are listed in
docs/architecture.md). ``mlg:`` is the hub ontology
(``hub.vocab.term``), ``prov:`` is PROV-O.

Kinds of subject, their subjects, their predicates (``mlg:`` unless marked), and the module:

=====================  =================================  =============================================
kind (``rdf:type``)    subject                            predicates
=====================  =================================  =============================================
Record, prov:Entity    the record graph                   source sourceId connector contentHash
(``provenance``)       ``{base}graph/{src}/{id}``         retrievedAt revision? entity?
                                                          prov:generatedAtTime prov:hadPrimarySource?
                                                          originHub originSource originSourceId (peers)
Change                 ``{base}change/{sequence}``        sequence operation entity graph source
(``changelog``)                                           writtenBy? prov:atTime
ChangeLog              ``urn:maillage:changelog``         lastSequence (latest-wins)
(``changelog``)
Cursor                 ``{base}cursor/{key}``             source (the cursor key) cursorValue
(``cursors``)                                             prov:generatedAtTime (latest-wins)
(a version of a        ``urn:maillage:version:{hash}:n``  versionOf (the subject) versionOrder (n),
latest-wins subject)                                      then the subject's own predicates
(``latest``)
QuarantinedRecord      ``{base}quarantine/{src}/{id}``    source sourceId connector revision? payload
(``quarantine``)                                          report reason quarantinedAt
SyncState              ``urn:maillage:sync:{hash}``       source entity sourceId pushed (JSON) and its
(``syncstate``)        (hash of source and entity)        typed fields, prov:generatedAtTime
Conflict               ``urn:maillage:conflict:{id}``     source entity parameter hubValue sourceValue
(``conflicts``)        (24 hex digits)                    reason hubProperty? prov:generatedAtTime
MatchCandidate         ``urn:maillage:match:{id}``        source sourceId entity sameAsCandidate
(``candidates``)       (24 hex digits)                    confidence reason prov:generatedAtTime
PlacementCandidate     ``urn:maillage:placement:{id}``    source sourceId entity graph locality reason
(``placements``)       (24 hex digits)                    (the name key) inseeCode+ ("NNN code", by
                                                          population) prov:generatedAtTime
PlacementChoice        ``urn:maillage:placement-choice:`` source sourceId reason (the name key)
(``placements``)       ``{id}`` (hash of src, id, name)   inseeCode prov:generatedAtTime
SourceStatus           ``urn:maillage:source:{name}``     source summary lastError?
(``status``)                                              prov:startedAtTime prov:endedAtTime
Erasure                ``urn:maillage:erasure:{uuid}``    prov:atTime recordsRemoved quarantineRemoved
(``erasure``)                                             statesScrubbed firstTombstone? (never whom)
=====================  =================================  =============================================

What anonymous readers may see of it is decided in :mod:`hub.meta.public`. The graph is never
written by SPARQL Update or the Graph Store from outside (both refuse it), only by the hub's
own commits, so its layout is the one above and nothing else.

Dependency rule: this package imports only ``hub.records``, ``hub.iris``, ``hub.vocab``,
``hub.clipping``, ``hub.store`` and its own modules; the pipeline, the sync engine, the API and
the CLI import it, never the other way round.
"""
