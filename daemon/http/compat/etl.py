"""The old /api/etl routes: trigger, status, history, cancel, onto our `etl` job kind and job reads."""

from __future__ import annotations

import json
from urllib.parse import urlencode
from uuid import UUID

from aiohttp import web

from daemon.http import inputs, jobs
from daemon.http.app_keys import POOL
from daemon.http.compat.models import HistoryQuery, JobHistoryOut, TriggerEtlRequest
from daemon.http.errors import ApiError, json_response
from daemon.http.models import ACTIVE, ENDED, JobOut
from daemon.http.routing import Routes
from handlers.etl import EtlParams

routes = Routes("etl")

CREATED = {202: JobOut, 200: JobOut}
MODES = ("full", "incremental", "single", "test")
SOURCES = {None: "excel", "excel": "excel", "supabase": "staging", "staging": "staging"}
# The old API's job list held ETL runs, uploads and schema generations alike.
HISTORY_KINDS = ("etl", "upload", "schema")
# The old statuses onto ours (ours are a superset: running covers processing and uploading).
STATUS_FILTER = {"queued": ("pending",), "running": ("running", "processing", "uploading")}
HISTORY_MAX = 500


def seed_job_id(request: web.Request) -> UUID:
    """The path's job id; the old API answered 404 for an id it did not know, malformed or not."""
    raw = request.match_info["job_id"]
    try:
        return UUID(raw)
    except ValueError:
        raise ApiError(404, f"Job {raw} not found.") from None


async def seed_job(request: web.Request) -> dict:
    """GET /api/etl/status and /api/upload/status: any job the caller may see (as the old API did)."""
    job_id = seed_job_id(request)
    job = await jobs.get_job(request.app[POOL], job_id, jobs.owner(request))
    if job is None:
        raise ApiError(404, f"Job {job_id} not found.")
    return job


def etl_params(req: TriggerEtlRequest) -> EtlParams:
    """The old request as our EtlParams (400 where the old API answered 400)."""
    if req.mode not in MODES:
        raise ApiError(400, f"Invalid mode {req.mode!r}: use full, incremental, single or test.")
    if req.mode == "single" and not req.game_ids:
        raise ApiError(400, "Mode 'single' needs game_ids (one or more game ids).")
    if req.source not in SOURCES:
        raise ApiError(400, f"Invalid source {req.source!r}: use excel or supabase.")
    data = {"mode": req.mode, "game_ids": req.game_ids or [], "exclude_game_ids": req.exclude_game_ids or [],
            "source": SOURCES[req.source], "options": req.options or {}}
    return inputs.validate(EtlParams, data, "body", json_text=json.dumps(data).encode())


@routes.post("/api/etl/trigger", summary="Start an ETL run (etl job)", scope="jobs:write", body=TriggerEtlRequest,
             responses=CREATED, creates_job=True)
async def trigger(request: web.Request, req: TriggerEtlRequest) -> web.Response:
    """Ours: an `etl` job (handlers/etl.py). One warehouse writer runs at a time across all daemons; the same
    request while its job is active returns that job (200, Job-Existing: true)."""
    params = etl_params(req)
    await inputs.admit(request, params)
    job, created = await jobs.enqueue(request.app[POOL], "etl", params, requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)


@routes.get("/api/etl/status/{job_id}", summary="Read a job", scope="jobs:read", responses={200: JobOut})
async def status(request: web.Request) -> web.Response:
    """Ours: GET /api/jobs/{job_id}."""
    return json_response(await seed_job(request))


@routes.get("/api/etl/history", summary="Recent ETL, upload and schema jobs, newest first (a list)",
            scope="jobs:read", query=HistoryQuery, responses={200: JobHistoryOut})
async def history(request: web.Request, q: HistoryQuery) -> web.Response:
    """Ours: GET /api/jobs?kind=... as a plain list. The next page, when there is one, is in the `Link`
    header (rel="next", with ?cursor=)."""
    statuses = STATUS_FILTER.get(q.status, (q.status,)) if q.status else None
    limit = min(q.limit, HISTORY_MAX)
    if limit == 0:
        return json_response([])
    page = await jobs.list_jobs(request.app[POOL], status=statuses, kind=HISTORY_KINDS, limit=limit,
                                cursor=q.cursor, owner=jobs.owner(request))
    headers = {}
    if page["next_cursor"]:
        query = {"limit": limit, **({"status": q.status} if q.status else {}), "cursor": page["next_cursor"]}
        headers["Link"] = f'<{request.path}?{urlencode(query)}>; rel="next"'
    return json_response(page["jobs"], headers=headers)


@routes.post("/api/etl/cancel/{job_id}", summary="Cancel a job", scope="jobs:write",
             responses={200: JobOut, 400: "the job had already ended"})
async def cancel(request: web.Request) -> web.Response:
    """Ours: DELETE /api/jobs/{job_id} (request_cancel). A pending job is cancelled at once; a running one is
    flagged (cancel_requested) and its daemon stops it. 400 when the job had already ended, as before."""
    job = await seed_job(request)
    job_id = UUID(job["job_id"])
    before, after = await jobs.cancel(request.app[POOL], job_id)
    if before in ENDED or (before in ACTIVE and after in ENDED and after != "cancelled"):
        raise ApiError(400, f"Job {job_id} cannot be cancelled (status: {after}).")
    return json_response(await jobs.get_job(request.app[POOL], job_id))
