"""The HTTP routers, one module per endpoint family (SPARQL, update, Graph Store, REST, changes,
VoID, ops, review, docs) and their request/response helpers. ``hub.api.app`` mounts them.

A route parses and checks the request, calls the pipeline, the query pool or a read model in
``hub.views``, and maps the outcome to a status; the logic it calls lives elsewhere.
"""
