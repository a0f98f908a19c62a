"""Helpers shared by the fixtures that start real servers."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable

import pytest


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
