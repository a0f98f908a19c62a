"""Helpers shared by the fixtures that start real servers."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``check`` until it is true; fail with ``what`` in the message otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{what} did not start within {timeout:.0f} s")


def unavailable(reason: str) -> None:
    """Skip on a developer machine, fail in CI: CI must never pass by skipping a real server."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"required test server unavailable in CI: {reason}")
    pytest.skip(reason)


def stop(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Ask a server process to stop, and kill it if it has not within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serving(app: Any, what: str, port: int | None = None) -> Iterator[str]:
    """Serve the ASGI ``app`` on a loopback port (``port``, or a free one) in a thread; yields its
    base URL and stops it afterwards. An emulator that must know its own URL before its app is
    built picks the port first with :func:`free_port`."""
    port = free_port() if port is None else port
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=1)  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"{what}-{port}", daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 10, what)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
