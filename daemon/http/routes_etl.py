"""ETL: validate the output. Starting a run, following it and its history are the old API's routes, kept on
their paths in daemon.http.compat.etl."""

from __future__ import annotations

from aiohttp import web

from daemon.http import jobs
from daemon.http.app_keys import POOL
from daemon.http.models import JobOut
from daemon.http.routing import Routes
from handlers.validate import ValidateParams

routes = Routes("etl")

CREATED = {202: JobOut, 200: JobOut}


@routes.post("/api/etl/validate", summary="Validate the output tables or the database", scope="jobs:write",
             body=ValidateParams, responses=CREATED, creates_job=True)
async def validate(request: web.Request, params: ValidateParams) -> web.Response:
    job, created = await jobs.enqueue(request.app[POOL], "validate", params,
                                      requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)
