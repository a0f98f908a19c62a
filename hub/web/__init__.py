"""The web interface: server-rendered pages (Jinja2) over the hub, with small vanilla scripts.

Every asset ships in the package (``hub/web/static``), so the pages work offline; the third-party
libraries under ``static/vendor`` are copied there by ``npm run vendor`` in ``web/``.
"""
