"""The two-way sync engine: the only code that turns hub state into connector calls.

The unit of correctness is one committed batch: the records read from (or just written to) a
source, the cursor that resumes after them and the sync state that says what the hub wrote
where all go into one transaction, so a kill at any point leaves either all of it or none, and
the next run neither loses a change nor writes a twin. Connectors only do their source's I/O,
behind ``connectors.base.protocol``; every policy is here:

- ``engine``: one run of a source (push, then read) and of all sources, with its report;
- ``inbound``: read → match → ingest, a batch at a time;
- ``outbound``: the per-entity algorithm that writes the hub's changes into a source (echo
  suppression, baseline, three-way merge, overrides, conflicts, retries, sync state);
- ``merge``: the pure three-way merge it decides with;
- ``view``: the read-only ``HubView`` connectors are given, and the store queries of outbound;
- ``resolve``: a person settling a conflict (touches the sync state);
- ``registry``, ``pool``, ``scheduler``: which connector serves a kind, kept open between runs,
  run on a schedule inside ``maillage serve``.
"""
