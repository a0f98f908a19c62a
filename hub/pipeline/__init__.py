"""Inbound, in flow order: a batch of records becomes one atomic commit.

``match`` (identity across sources: is this record a thing the hub already knows?) →
``ingest`` (per-record checks → SHACL through ``validate`` → graph IRIs → one SPARQL Update with
provenance, change log, quarantine and cursor). ``sparql_update`` turns a SPARQL Update sent to
the API into records, so it goes through the same checks and the same commit.

The unit of correctness is the batch: everything it changes is in one request, or nothing is.
"""
