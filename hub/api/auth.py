"""Write access and the operator's view: a bearer token from the environment.

Reads of the data stay open; the hub's bookkeeping (quarantine, conflicts, sync state) and
persons' contact data are read only with the same token (:func:`is_operator`).
"""

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


def is_operator(request: Request, state: HubState) -> bool:
    """Whether the request carries the configured token: it then sees the private graphs too."""
    expected = state.config.write_token
    given = _given_token(request)
    return (
        expected is not None
        and given is not None
        and hmac.compare_digest(given, expected.encode("utf-8"))
    )


def require_operator(request: Request, state: HubState = Depends(hub_state)) -> None:
    """Refuse a read of the hub's private state (quarantine, conflicts...) without the token."""
    if not is_operator(request, state):
        raise HTTPException(
            401, "this is the hub's private state: send the operator's bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="maillage"'},
        )
