"""Bounded time to send a request, so that slow clients cannot hold connections forever.

uvicorn's h11 server waits for headers and body as long as bytes keep trickling in: a client
that sends one byte every few seconds (slowloris) keeps its connection, and enough of them take
every descriptor. Two layers bound that, both with ``[api] client_timeout``:

- :class:`BodyDeadline`, in the app: a route reading the body gets a 408 (``Connection: close``)
  when the body is not complete ``client_timeout`` seconds after the headers were;
- :func:`guarded_protocol`, in the server: headers not complete ``client_timeout`` seconds after
  their first byte get a 408 and the connection closed; a new connection silent that long is
  closed; a body still arriving twice that long after the headers (a route that never reads it,
  or answered already) closes the connection.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol


def _message(timeout: float, what: str) -> str:
    return f"the request {what} did not arrive within {timeout:g} seconds"


class BodyDeadline:
    """Answers 408 when a route waits for a body that does not arrive in time."""

    def __init__(self, app: ASGIApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout
        complete = False
        responding = False

        async def watched_send(message: Message) -> None:
            nonlocal responding
            responding = responding or message["type"] == "http.response.start"
            await send(message)

        async def bounded() -> Message:
            nonlocal complete
            if complete:  # later reads only wait for the disconnect (streams, SSE): no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                if responding:  # too late for a status: let the response end
                    return {"type": "http.disconnect"}
                raise HTTPException(408, _message(self.timeout, "body"),
                                    headers={"Connection": "close"}) from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, bounded, watched_send)


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on receiving each request."""

    request_timeout = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._phase: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("idle", self.request_timeout)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE:  # a request has begun: its headers are pending
            if self._phase != "headers":
                self._arm("headers", self.request_timeout)
        elif state is h11.SEND_BODY:
            if self._phase != "body":
                self._arm("body", 2 * self.request_timeout)
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, None

    def _expired(self) -> None:
        phase = self._phase
        self._deadline, self._phase = None, None
        if self.transport.is_closing():
            return
        # a connection that never sent a byte is closed silently, as after keep-alive: a client
        # may still be about to use it, and must not read a 408 as the answer to that request
        unanswered = phase == "headers" or (
            phase == "body" and self.cycle is not None and not self.cycle.response_started
        )
        if unanswered:
            what = "headers" if phase == "headers" else "body"
            body = json.dumps({"error": _message(self.request_timeout, what)}).encode()
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                b"x-content-type-options: nosniff\r\nconnection: close\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
        self.transport.close()


def guarded_protocol(timeout: float) -> type[H11Protocol]:
    """The protocol class to give uvicorn (``http=``), with this deadline."""
    return type("GuardedH11Protocol", (DeadlineH11Protocol,), {"request_timeout": timeout})
