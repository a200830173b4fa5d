"""Upload: output tables into PostgreSQL (upload jobs), the warehouse schema (schema jobs), and files sent over
HTTP (an output table's CSV, a tracker file). The old API's to-supabase, generate-schema and status routes
are in daemon.http.compat.upload."""

from __future__ import annotations

import asyncio

from aiohttp import web

from daemon.http import inputs, jobs, uploads
from daemon.http.app_keys import POOL, SETTINGS
from daemon.http.errors import ApiError, field_error
from daemon.http.models import JobOut
from daemon.http.routes_staging import TRACKER_FORM, accept_tracker_upload
from daemon.http.routing import FormSpec, Routes
from etl.catalog import TABLES
from handlers.schema import SchemaParams
from handlers.upload import UploadParams

routes = Routes("upload")

CREATED = {202: JobOut, 200: JobOut}
TABLE_FORM = FormSpec(
    file_description="The table as CSV with a header row naming exactly the catalog's columns (any order).",
    text_fields={"table": {"type": "string", "enum": list(TABLES), "description": "The catalog table."},
                 "allow_empty": {"type": "string", "enum": ["true", "false"], "default": "false",
                                 "description": "true to load a CSV with a header and no rows (empties the "
                                                "table); otherwise such a CSV is refused (422)."}},
    required_text=("table",),
)


@routes.post("/api/upload/tables", summary="Upload one output table as CSV and load it (admin)", scope="admin",
             form=TABLE_FORM, responses=CREATED, creates_job=True)
async def upload_table(request: web.Request) -> web.Response:
    """The CSV's header is checked against the catalog (400 unreadable, 422 listing missing and extra
    columns), written to <data dir>/output/<table>.csv atomically, and an upload job (mode 'tables') loads it."""
    settings = request.app[SETTINGS]
    upload = await inputs.upload(request, settings.upload_limit_bytes)
    table = upload.fields.get("table")
    if not table:
        raise ApiError(422, [field_error(["body", "table"], "the catalog table is required", "missing")])
    spec = TABLES.get(table)
    if spec is None:
        raise ApiError(422, [field_error(["body", "table"], f"unknown table {table!r}; see the catalog", "enum")])
    allow_empty = upload.fields.get("allow_empty", "false")
    if allow_empty not in ("true", "false"):
        raise ApiError(422, [field_error(["body", "allow_empty"], "allow_empty must be true or false", "enum")])
    await asyncio.to_thread(uploads.check_table_csv, upload.content, table, spec.column_names,
                            allow_empty=allow_empty == "true")
    sha256 = await asyncio.to_thread(uploads.store_table_csv, settings.output_dir, table, upload.content)
    params = UploadParams(mode="tables", tables=[table], local_output=True)
    data = jobs.canonical_params(params)
    job, created = await jobs.enqueue(request.app[POOL], "upload", params, requested_by=jobs.requested_by(request),
                                      dedupe=jobs.dedupe_key("upload", data, sha256))
    return jobs.job_created_response(job, created)


@routes.post("/api/upload/schema", summary="Generate the warehouse schema and apply it", scope="jobs:write",
             body=SchemaParams, responses=CREATED, creates_job=True)
async def upload_schema(request: web.Request, params: SchemaParams) -> web.Response:
    """The body's `apply` decides whether the schema is applied to the database (default false: generate
    only, like /api/upload/generate-schema)."""
    job, created = await jobs.enqueue(request.app[POOL], "schema", params, requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)


@routes.post("/api/upload/tracking", summary="Upload a tracker file and stage it", scope="jobs:write",
             form=TRACKER_FORM, responses=CREATED, creates_job=True)
async def upload_tracker(request: web.Request) -> web.Response:
    """The same as POST /api/staging/tracking/upload."""
    return await accept_tracker_upload(request)
