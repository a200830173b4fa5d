"""The old /api/upload routes: to-supabase, generate-schema, status, onto our `upload` and `schema` kinds."""

from __future__ import annotations

import json

from aiohttp import web

from daemon.http import inputs, jobs
from daemon.http.app_keys import POOL
from daemon.http.compat.etl import seed_job
from daemon.http.compat.models import GenerateSchemaRequest, UploadRequest
from daemon.http.errors import ApiError, json_response
from daemon.http.models import JobOut
from daemon.http.routing import Routes
from handlers.schema import SchemaParams
from handlers.upload import UploadParams

routes = Routes("upload")

CREATED = {202: JobOut, 200: JobOut}
MODES = ("all", "dims", "facts", "qa", "basic", "tracking", "tables", "pattern")


def upload_params(req: UploadRequest) -> UploadParams:
    """The old request as our UploadParams: named tables win over the mode, as in the old upload script."""
    if req.mode not in MODES:
        raise ApiError(400, f"Invalid mode {req.mode!r}: use all, dims, facts, qa, basic or tracking.")
    data = {"mode": "tables" if req.tables else req.mode, "tables": req.tables or [], "pattern": req.pattern,
            "dry_run": req.dry_run, "schema": req.db_schema, "options": req.options or {}, "run_id": req.run_id,
            "local_output": req.local_output}
    return inputs.validate(UploadParams, data, "body", json_text=json.dumps(data).encode())


@routes.post("/api/upload/to-supabase", summary="Load output tables into the database (upload job)",
             scope="jobs:write", body=UploadRequest, responses=CREATED, creates_job=True)
async def upload_to_supabase(request: web.Request, req: UploadRequest) -> web.Response:
    """Ours: an `upload` job (handlers/upload.py): each mode is a set of catalog tables, replaced atomically."""
    job, created = await jobs.enqueue(request.app[POOL], "upload", upload_params(req),
                                      requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)


@routes.post("/api/upload/generate-schema", summary="Write the warehouse schema SQL (schema job, not applied)",
             scope="jobs:write", body=GenerateSchemaRequest, responses=CREATED, creates_job=True)
async def generate_schema(request: web.Request, req: GenerateSchemaRequest) -> web.Response:
    """Ours: a `schema` job with apply false (POST /api/upload/schema applies it). The body may be empty."""
    params = SchemaParams(apply=False, options=req.options or {})
    job, created = await jobs.enqueue(request.app[POOL], "schema", params, requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)


@routes.get("/api/upload/status/{job_id}", summary="Read a job", scope="jobs:read", responses={200: JobOut})
async def upload_status(request: web.Request) -> web.Response:
    """Ours: GET /api/jobs/{job_id}."""
    return json_response(await seed_job(request))
