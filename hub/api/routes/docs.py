"""``/docs``: Swagger UI from the vendored copy under ``/static``, so the page needs no CDN.

FastAPI's page loads Swagger UI from a CDN and starts it with an inline script; here the files
come from the hub and the policy allows that one inline script by its hash, nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from hub.api.security_headers import CSP, content_security_policy
from hub.api.state import HubState, hub_state

router = APIRouter(include_in_schema=False)
VENDOR = "/static/vendor/swagger-ui"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


@router.get("/docs")
def swagger_ui(request: Request, state: HubState = Depends(hub_state)) -> HTMLResponse:
    root = str(request.scope.get("root_path", "")).rstrip("/")
    page = get_swagger_ui_html(
        openapi_url=root + (request.app.openapi_url or "/openapi.json"),
        title=f"{request.app.title} — API",
        swagger_js_url=f"{root}{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{VENDOR}/swagger-ui.css",
        swagger_favicon_url=f"{root}{VENDOR}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from a foreign validator
    )
    body = bytes(page.body).decode()
    hashes = tuple(_hash(s) for s in INLINE_SCRIPT.findall(body))
    policy = content_security_policy(state.config.api.tile_servers, hashes)
    return HTMLResponse(body, headers={CSP: policy})
