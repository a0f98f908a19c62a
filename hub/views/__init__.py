"""Read models shared by the HTTP API and the web pages: an entity with its provenance, a listing
page, JSON-LD framing, the HTML rendering of an entity.

No FastAPI here: ``hub.api.routes`` and ``hub.web`` both import these, so a page and an API
response built from the same store state say the same thing.
"""
