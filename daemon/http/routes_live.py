"""Server-Sent Events: job changes as they happen, so a page shows progress without polling."""

from __future__ import annotations

from aiohttp import web

from daemon.http import inputs, jobs, sse
from daemon.http.app_keys import CHANGES, POOL, SSE_HEARTBEAT
from daemon.http.errors import ApiError
from daemon.http.models import ENDED, StreamQuery
from daemon.http.routing import SSE, Routes

routes = Routes("live")

SNAPSHOT_LIMIT = 200
_ACTIVE_JOBS = (
    f"select {jobs.SUMMARY_COLUMNS} from job_requests j "
    "where j.status in ('pending', 'running', 'processing', 'uploading') and ($1::text is null or j.kind = $1) "
    "and ($2::text is null or j.requested_by = $2) "
    f"order by j.created_at desc, j.id desc limit {SNAPSHOT_LIMIT}"
)

@routes.get("/api/jobs/stream", summary="Live changes of all jobs (SSE)", scope="jobs:read", query=StreamQuery,
            responses={200: SSE, 503: "live updates unavailable"})
async def stream_all(request: web.Request, q: StreamQuery) -> web.StreamResponse:
    """First `event: snapshot` with {"jobs": [summaries of the active jobs, newest first, at most 200]}, then `event: job`
    with {"job_id", "kind", "status", "progress", "current_step", "requested_by"} on every change, and a comment line every
    15 s. A new snapshot follows a reconnect of the server's database listener."""
    pool = request.app[POOL]
    changes = request.app[CHANGES]
    owner = jobs.owner(request)

    async def snapshot() -> dict:
        rows = await pool.fetch(_ACTIVE_JOBS, q.kind, owner)
        return {"data": {"jobs": [jobs.job_summary(r) for r in rows]}, "final": False}

    sub = changes.subscribe(kind=q.kind, owner=owner)
    return await sse.stream(request, changes, sub, snapshot, heartbeat_seconds=request.app[SSE_HEARTBEAT])


@routes.get("/api/jobs/{job_id}/stream", summary="Live changes of one job (SSE)", scope="jobs:read",
            responses={200: SSE, 503: "live updates unavailable"})
async def stream_job(request: web.Request) -> web.StreamResponse:
    """First `event: snapshot` with the job, then `event: job` with {"job_id", "kind", "status", "progress",
    "current_step", "requested_by"} on every change, and a comment line every 15 s. The stream ends after the job's final
    change (completed, failed, cancelled), or right after the snapshot when the job had already ended."""
    job_id = inputs.job_id(request)
    pool = request.app[POOL]
    changes = request.app[CHANGES]
    if await jobs.get_job(pool, job_id, jobs.owner(request)) is None:
        raise ApiError(404, f"no job {job_id}")

    async def snapshot() -> dict:
        job = await jobs.get_job(pool, job_id)
        return {"data": job, "final": job is None or job["status"] in ENDED}

    sub = changes.subscribe(job_id=str(job_id))
    return await sse.stream(request, changes, sub, snapshot, ended=lambda change: change["status"] in ENDED,
                            heartbeat_seconds=request.app[SSE_HEARTBEAT])
