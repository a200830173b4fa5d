"""ETL: start a run, follow it, list past runs, validate the output."""

from __future__ import annotations

from aiohttp import web

from daemon.http import inputs, jobs
from daemon.http.app_keys import POOL
from daemon.http.errors import ApiError, json_response
from daemon.http.models import HistoryQuery, JobListOut, JobOut
from daemon.http.routing import Routes
from handlers.etl import EtlParams
from handlers.validate import ValidateParams

routes = Routes("etl")

CREATED = {202: JobOut, 200: JobOut}


@routes.post("/api/etl/trigger", summary="Start an ETL run", scope="jobs:write", body=EtlParams,
             responses=CREATED, creates_job=True)
async def trigger(request: web.Request, params: EtlParams) -> web.Response:
    """One warehouse writer (etl, upload, schema apply) runs at a time across all daemons; this job waits
    pending until the warehouse is free. The same request while its job is active returns that job (200)."""
    job, created = await jobs.enqueue(request.app[POOL], "etl", params, requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)


@routes.get("/api/etl/status/{job_id}", summary="Read an ETL job", scope="jobs:read", responses={200: JobOut})
async def status(request: web.Request) -> web.Response:
    job_id = inputs.job_id(request)
    job = await jobs.get_job(request.app[POOL], job_id, jobs.owner(request))
    if job is None or job["kind"] != "etl":
        raise ApiError(404, f"no ETL job {job_id}")
    return json_response(job)


@routes.get("/api/etl/history", summary="Past and current ETL runs, newest first", scope="jobs:read",
            query=HistoryQuery, responses={200: JobListOut})
async def history(request: web.Request, q: HistoryQuery) -> web.Response:
    page = await jobs.list_jobs(request.app[POOL], status=None, kind="etl", limit=q.limit, cursor=q.cursor,
                                owner=jobs.owner(request))
    return json_response(page)


@routes.post("/api/etl/validate", summary="Validate the output tables or the database", scope="jobs:write",
             body=ValidateParams, responses=CREATED, creates_job=True)
async def validate(request: web.Request, params: ValidateParams) -> web.Response:
    job, created = await jobs.enqueue(request.app[POOL], "validate", params,
                                      requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)
