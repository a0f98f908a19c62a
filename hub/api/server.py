"""Run the API with uvicorn (``maillage serve``)."""

from __future__ import annotations

import logging

import uvicorn

from hub.api.app import create_app
from hub.config import Config


def run(config: Config, host: str, port: int) -> None:
    logging.basicConfig(
        level=logging.INFO, format='{"time":"%(asctime)s","level":"%(levelname)s",'
        '"logger":"%(name)s","message":"%(message)s"}'
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="info", access_log=True)
