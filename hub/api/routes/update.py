"""``/sparql/update``: SPARQL 1.1 Update with a token, validated and logged (hub.pipeline.sparql_update).

``using-graph-uri``/``using-named-graph-uri`` are honoured (or refused with a 400 saying why,
never ignored); relative IRIs resolve against this endpoint's URL.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require_token
from hub.api.query.update_runner import UpdateRunner, UpdateTimeout
from hub.api.routes.writes import invalid_response, summary
from hub.api.state import HubState, hub_state
from hub.pipeline.sparql_update import UpdateRefused, apply_update

router = APIRouter(tags=["SPARQL"])


def utf8_body(request: Request, body: bytes) -> str:
    """The body as UTF-8, the only encoding the SPARQL 1.1 Protocol allows (else 415)."""
    for param in request.headers.get("content-type", "").split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise HTTPException(415, "the SPARQL 1.1 Protocol takes UTF-8 only: send charset=UTF-8")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPException(400, "the body is not valid UTF-8") from exc


async def _update_request(request: Request) -> tuple[str, dict[str, list[str]]]:
    """The update text and the protocol parameters (query string, and form body if any)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = utf8_body(request, await request.body())
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    if media == "application/sparql-update":
        return body, params
    if media == "application/x-www-form-urlencoded":
        for key, values in parse_qs(body).items():
            params.setdefault(key, []).extend(values)
        updates = params.pop("update", [])
        if len(updates) != 1:
            raise HTTPException(400, "send exactly one update= parameter")
        return updates[0], params
    raise HTTPException(
        415, "POST the update as application/sparql-update or application/x-www-form-urlencoded"
    )


@router.post(
    "/sparql/update",
    name="sparql_update",
    summary="SPARQL 1.1 Update (bearer token)",
    dependencies=[Depends(require_token)],
    responses={422: {"description": "The result would violate the shapes"}},
)
async def sparql_update(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """Apply an update in one transaction; refused with the SHACL report if shapes fail."""
    text, params = await _update_request(request)
    base_iri = str(request.url_for("sparql_update"))

    def run() -> Response:
        with state.write_lock:
            try:
                outcome = apply_update(
                    state.ingestor, text, _runner(request, state).evaluate, base_iri=base_iri,
                    using=params.get("using-graph-uri", []),
                    using_named=params.get("using-named-graph-uri", []),
                )
            except UpdateRefused as exc:
                raise HTTPException(400, str(exc)) from exc
            except UpdateTimeout as exc:
                raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from exc
            if outcome.invalid:
                return invalid_response(outcome.invalid)
            assert outcome.result is not None
            state.after_write()
            return JSONResponse(summary(outcome.result))

    return await run_in_threadpool(run)


def _runner(request: Request, state: HubState) -> UpdateRunner:
    """The app's confined update process, started by the first update (under the write lock)."""
    runner: UpdateRunner | None = getattr(request.app.state, "update_runner", None)
    if runner is None:
        api = state.config.api
        memory_mb = int(getattr(api, "query_memory_mb", 1024))
        runner = UpdateRunner(api.service_allowlist, api.query_timeout, memory_mb)
        request.app.state.update_runner = runner
    return runner
