"""Write access: a bearer token from the environment; reads stay open."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request

from hub.api.state import HubState, hub_state


def _given_token(request: Request) -> bytes | None:
    """The bearer token exactly as sent (bytes), or None when the header is missing or malformed.

    Raw bytes, not the decoded header: a token with non-ASCII characters must compare as unequal,
    not fail inside ``hmac.compare_digest`` (which takes ASCII-only strings).
    """
    values = [v for k, v in request.headers.raw if k.lower() == b"authorization"]
    if len(values) != 1:
        return None
    scheme, _, given = values[0].strip().partition(b" ")
    token = given.strip()
    if scheme.lower() != b"bearer" or not token:
        return None
    return token


def require_token(request: Request, state: HubState = Depends(hub_state)) -> None:
    """Refuse a write without the configured token (and every write when none is configured)."""
    expected = state.config.write_token
    if expected is None:
        raise HTTPException(
            403,
            f"writes are disabled: set {state.config.api.token_env} on the server to enable them",
        )
    given = _given_token(request)
    if given is None or not hmac.compare_digest(given, expected.encode("utf-8")):
        raise HTTPException(
            401, "a valid bearer token is required for writes",
            headers={"WWW-Authenticate": 'Bearer realm="maillage"'},
        )
