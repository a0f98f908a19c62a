"""Write access: a bearer token from the environment; reads stay open."""

from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException, Request

from hub.api.state import HubState, hub_state


def require_token(request: Request, state: HubState = Depends(hub_state)) -> None:
    """Refuse a write without the configured token (and every write when none is configured)."""
    expected = state.config.write_token
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if expected is None:
        raise HTTPException(
            403,
            f"writes are disabled: set {state.config.api.token_env} on the server to enable them",
        )
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
        raise HTTPException(
            401, "a valid bearer token is required for writes",
            headers={"WWW-Authenticate": 'Bearer realm="maillage"'},
        )
