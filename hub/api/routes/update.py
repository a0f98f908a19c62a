"""``/sparql/update``: SPARQL 1.1 Update with a token, validated and logged (hub.pipeline.sparql_update)."""

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


async def _update_text(request: Request) -> str:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = (await request.body()).decode("utf-8", errors="replace")
    if media == "application/sparql-update":
        return body
    if media == "application/x-www-form-urlencoded":
        updates = parse_qs(body).get("update", [])
        if len(updates) != 1:
            raise HTTPException(400, "send exactly one update= parameter")
        return updates[0]
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
    text = await _update_text(request)

    def run() -> Response:
        with state.write_lock:
            try:
                outcome = apply_update(state.ingestor, text, _runner(request, state).evaluate)
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
