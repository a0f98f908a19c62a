"""``python -m hub`` is the ``maillage`` command."""

from hub.cli import app

app()
