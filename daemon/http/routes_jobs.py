"""Jobs of every kind: list, read, history, cancel."""

from __future__ import annotations

from aiohttp import web

from daemon.http import inputs, jobs
from daemon.http.app_keys import CHANGES, POOL
from daemon.http.errors import ApiError, json_response
from daemon.http.models import ACTIVE, ENDED, EventsQuery, JobEventsOut, JobListOut, JobOut, JobsQuery
from daemon.http.routing import Routes

routes = Routes("jobs")

_EVENTS = (
    "select id, at, status, progress, step, level, message, worker, data from job_events "
    "where job_id = $1 and id > $2 and ($3 or level <> 'debug') order by id limit $4"
)
_VISIBLE = "select 1 from job_requests where id = $1 and ($2::text is null or requested_by = $2)"


@routes.get("/api/jobs", summary="List jobs, newest first", scope="jobs:read", query=JobsQuery,
            responses={200: JobListOut})
async def list_jobs(request: web.Request, q: JobsQuery) -> web.Response:
    page = await jobs.list_jobs(request.app[POOL], status=q.status, kind=q.kind, limit=q.limit, cursor=q.cursor,
                                owner=jobs.owner(request))
    return json_response(page)


@routes.get("/api/jobs/{job_id}", summary="Read one job", scope="jobs:read", responses={200: JobOut})
async def get_job(request: web.Request) -> web.Response:
    job_id = inputs.job_id(request)
    cache = request.app[CHANGES].cache
    owner = jobs.owner(request)
    job = cache.get(str(job_id))
    if job is None:
        token = cache.token()
        job = await jobs.get_job(request.app[POOL], job_id)
        if job is not None:
            cache.put(job["job_id"], job, token)
    if job is None or (owner is not None and job["requested_by"] != owner):
        raise ApiError(404, f"no job {job_id}")
    return json_response(job)


@routes.get("/api/jobs/{job_id}/events", summary="A job's history (state changes, progress, errors)",
            scope="jobs:read", query=EventsQuery, responses={200: JobEventsOut})
async def job_events(request: web.Request, q: EventsQuery) -> web.Response:
    job_id = inputs.job_id(request)
    pool = request.app[POOL]
    if await pool.fetchval(_VISIBLE, job_id, jobs.owner(request)) is None:
        raise ApiError(404, f"no job {job_id}")
    rows = await pool.fetch(_EVENTS, job_id, q.after, q.include_debug, q.limit)
    events = [{**dict(r), "at": r["at"].isoformat()} for r in rows]
    return json_response({"job_id": str(job_id), "events": events})


@routes.delete("/api/jobs/{job_id}", summary="Cancel a job", scope="jobs:write",
               responses={202: JobOut, 409: "the job had already ended"})
async def cancel_job(request: web.Request) -> web.Response:
    """A pending job is cancelled at once; a running one is flagged and its daemon stops it (the answer shows
    cancel_requested true and the job ends as cancelled shortly). 409 when the job had already ended."""
    job_id = inputs.job_id(request)
    pool = request.app[POOL]
    owner = jobs.owner(request)
    if owner is not None and await pool.fetchval(_VISIBLE, job_id, owner) is None:
        raise ApiError(404, f"no job {job_id}")
    before, after = await jobs.cancel(pool, job_id)
    if after is None:
        raise ApiError(404, f"no job {job_id}")
    if before in ENDED or (before in ACTIVE and after in ENDED and after != "cancelled"):
        raise ApiError(409, f"job {job_id} already ended ({after})")
    return json_response(await jobs.get_job(pool, job_id), 202)
