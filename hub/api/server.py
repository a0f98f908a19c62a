"""Run the API with uvicorn (``maillage serve``)."""

from __future__ import annotations

import logging

import uvicorn

from hub.api.app import create_app
from hub.api.slow_clients import guarded_protocol
from hub.config import Config


def run(config: Config, host: str, port: int) -> None:
    logging.basicConfig(
        level=logging.INFO, format='{"time":"%(asctime)s","level":"%(levelname)s",'
        '"logger":"%(name)s","message":"%(message)s"}'
    )
    app = create_app(config)
    uvicorn.run(
        app, host=host, port=port, log_level="info", access_log=True,
        # slow clients: a deadline per request (headers and body), idle keep-alive closed after
        # 5 s, headers over 16 KiB refused, and a cap on open connections (then 503)
        http=guarded_protocol(config.api.client_timeout),
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
        limit_concurrency=config.api.max_connections,
    )
