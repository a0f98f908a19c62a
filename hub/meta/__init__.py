"""The bookkeeping graph ``urn:maillage:meta`` (``hub.vocab.META_GRAPH``): the hub's own state.

Everything the hub knows about its records, as opposed to what the records say, lives in one
named graph, and every kind of subject in it has one module here with a frozen dataclass, a
writer that returns a :data:`hub.records.MetaUpdate` ``(subject, statements)`` for the batch's
single commit (:mod:`hub.store.transaction`), and typed readers. No other module spells these
predicates; a renamed predicate is a change in one file. ``mlg:`` is the hub ontology
(``hub.vocab.term``), ``prov:`` is PROV-O.

============================  ==========================================  ===================================================  ===========
kind (``rdf:type``)           subject                                     predicates                                           module
============================  ==========================================  ===================================================  ===========
``mlg:Record, prov:Entity``   the record graph ``{base}graph/{src}/{id}``  ``mlg:source sourceId connector contentHash          provenance
                                                                          retrievedAt revision? entity?``, ``prov:generated
                                                                          AtTime hadPrimarySource?``, ``mlg:originHub
                                                                          originSource originSourceId`` (peer-hub records)
``mlg:Change``                ``{base}change/{sequence}``                 ``mlg:sequence operation entity graph source         changelog
                                                                          writtenBy?``, ``prov:atTime``
``mlg:Cursor``                ``{base}cursor/{key}``                      ``mlg:source`` (the cursor key) ``cursorValue``,     cursors
                                                                          ``prov:generatedAtTime``
``mlg:QuarantinedRecord``     ``{base}quarantine/{src}/{id}``             ``mlg:source sourceId connector revision? payload    quarantine
                                                                          report reason quarantinedAt``
``mlg:SyncState``             ``urn:maillage:sync:{sha256(src, entity)}``  ``mlg:source entity sourceId pushed`` (JSON)        syncstate
                                                                          and its typed fields, ``prov:generatedAtTime``
``mlg:Conflict``              ``urn:maillage:conflict:{24 hex}``          ``mlg:source entity parameter hubValue sourceValue   conflicts
                                                                          reason hubProperty?``, ``prov:generatedAtTime``
``mlg:MatchCandidate``        ``urn:maillage:match:{24 hex}``             ``mlg:source sourceId entity sameAsCandidate         candidates
                                                                          confidence reason``, ``prov:generatedAtTime``
``mlg:SourceStatus``          ``urn:maillage:source:{name}``              ``mlg:source summary lastError?``,                   status
                                                                          ``prov:startedAtTime endedAtTime``
============================  ==========================================  ===================================================  ===========

What anonymous readers may see of it is decided in :mod:`hub.meta.public`. The graph is never
written by SPARQL Update or the Graph Store from outside (both refuse it), only by the hub's
own commits, so its layout is the one above and nothing else.

Dependency rule: this package imports only ``hub.records``, ``hub.iris``, ``hub.vocab``,
``hub.clipping``, ``hub.store`` and its own modules; the pipeline, the sync engine, the API and
the CLI import it, never the other way round.
"""
