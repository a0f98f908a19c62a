"""``maillage serve``: the HTTP API and web pages over the configured store.

The server's modules load only when a command serves, so commands that never do (import, query,
sync...) do not pay for FastAPI at start-up.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli._common import user_errors
from hub.config import Config


def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Default from [api] host")] = None,
    port: Annotated[int | None, typer.Option(help="Default from [api] port")] = None,
) -> None:
    """Serve SPARQL, REST, the change feed and the dataset description over HTTP."""
    serve_hub(ctx.obj, host, port)


def serve_hub(config: Config, host: str | None, port: int | None) -> None:
    """Run the server until interrupted; also what ``maillage demo`` ends with."""
    from hub.api.server import run

    with user_errors():
        run(config, host or config.api.host, port or config.api.port)
