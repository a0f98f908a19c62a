"""The HTTP API: SPARQL 1.1 Protocol, Graph Store, REST with JSON-LD, change feed, operations."""
