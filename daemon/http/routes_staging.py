"""Staging: league tables and tracker files into the stage_* tables (staging_blb and staging_tracking jobs),
and what is staged now."""

from __future__ import annotations

import asyncio

from aiohttp import web

from daemon.http import inputs, jobs, uploads
from daemon.http.app_keys import POOL, SETTINGS
from daemon.http.errors import ApiError, field_error, json_response
from daemon.http.models import JobOut, StagingStatusOut
from daemon.http.routing import FormSpec, Routes
from handlers.staging_blb import LEAGUE_TABLES, StagingBlbParams, stage_table_name
from daemon.filestore import FileStore
from handlers.staging_tracking import STAGE_TABLES, InvalidTrackerFile, StagingTrackingParams, store_tracker_file

routes = Routes("staging")

CREATED = {202: JobOut, 200: JobOut}
TRACKER_FORM = FormSpec(
    file_description="A tracker workbook (.xlsx) or JSON export (.json) of one game.",
    text_fields={"game_id": {"type": "integer", "description": "Expected game (the job fails when it differs)."}},
)
WORKBOOK_FORM = FormSpec(
    file_description="The league workbook (.xlsx).",
    text_fields={"table": {"type": "string", "enum": list(LEAGUE_TABLES), "description": "The sheet to stage."}},
    required_text=("table",),
)


@routes.post("/api/staging/blb", summary="Stage a league table", scope="jobs:write", body=StagingBlbParams,
             responses=CREATED, creates_job=True)
async def stage_blb(request: web.Request, params: StagingBlbParams) -> web.Response:
    """From the league workbook in the data dir (file) or from JSON rows (rows)."""
    job, created = await jobs.enqueue(request.app[POOL], "staging_blb", params, requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)


async def accept_workbook_upload(request: web.Request) -> web.Response:
    """POST /api/staging/blb-tables/upload as multipart (daemon.http.compat.staging takes the JSON form): the
    workbook is stored under raw/uploads/ (named by its content hash) and a staging_blb job reads it."""
    settings = request.app[SETTINGS]
    upload = await inputs.upload(request, settings.upload_limit_bytes)
    table = upload.fields.get("table")
    if not table:
        raise ApiError(422, [field_error(["body", "table"], "the league table to stage is required", "missing")])
    stored = await asyncio.to_thread(uploads.store_workbook, settings.data_dir, upload.filename, upload.content)
    params = inputs.validate(StagingBlbParams, {"table": table, "file": stored.relative}, "body")
    job, created = await jobs.enqueue(request.app[POOL], "staging_blb", params,
                                      requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)


@routes.post("/api/staging/tracking", summary="Stage a tracker file already in raw/tracking/",
             scope="jobs:write", body=StagingTrackingParams, responses=CREATED, creates_job=True)
async def stage_tracking(request: web.Request, params: StagingTrackingParams) -> web.Response:
    job, created = await jobs.enqueue(request.app[POOL], "staging_tracking", params,
                                      requested_by=jobs.requested_by(request))
    return jobs.job_created_response(job, created)


async def accept_tracker_upload(request: web.Request) -> web.Response:
    """A multipart tracker upload (POST /api/upload/tracking, and /api/staging/tracking/upload as multipart)."""
    upload = await inputs.upload(request, request.app[SETTINGS].upload_limit_bytes)
    job, created = await stage_tracker_file(request, upload.filename, upload.content, upload.fields.get("game_id"))
    return jobs.job_created_response(job, created)


async def stage_tracker_file(request: web.Request, filename: str, content: bytes,
                             game_id: str | int | None) -> tuple[dict, bool]:
    """Store a tracker file with store_tracker_file and enqueue staging_tracking (dedupe on the content hash,
    as the watch folder does); returns (job, created)."""
    settings = request.app[SETTINGS]
    try:
        stored = await asyncio.to_thread(store_tracker_file, settings.data_dir, filename, content)
    except InvalidTrackerFile as exc:
        raise ApiError(422, [field_error(["body", "file"], str(exc))]) from None
    params = inputs.validate(StagingTrackingParams, {
        "file": stored.relative, "sha256": stored.sha256,
        "game_id": game_id if game_id not in (None, "") else stored.game_id}, "body")
    if params.game_id is not None:  # into the database's file store: any daemon on any host can read it
        await FileStore.from_settings(request.app[POOL], settings).put_tracker(
            stored.path, content, params.game_id, uploaded_by=jobs.requested_by(request), source="api")
    return await jobs.enqueue(request.app[POOL], "staging_tracking", params, requested_by=jobs.requested_by(request),
                              dedupe=f"staging_tracking:{stored.sha256}")


@routes.get("/api/staging/status", summary="Rows and last load of every staging table", scope="jobs:read",
            responses={200: StagingStatusOut})
async def staging_status(request: web.Request) -> web.Response:
    """League tables are stage_<sheet> (created by their first load: rows null until then); tracker tables
    share the time of the last staged tracker file."""
    pool = request.app[POOL]
    tables = []
    async with pool.acquire() as conn:
        for league_table in LEAGUE_TABLES:
            name = stage_table_name(league_table)  # from the allow-list, safe to put in SQL
            if await conn.fetchval("select to_regclass($1) is not null", f"public.{name}"):
                row = await conn.fetchrow(f"select count(*) as rows, max(staged_at) as at from public.{name}")
                tables.append({"table": name, "source": "league", "rows": row["rows"], "last_loaded_at": row["at"]})
            else:
                tables.append({"table": name, "source": "league", "rows": None, "last_loaded_at": None})
        games = await conn.fetchval("select count(*) from stage_tracking_files")
        last = await conn.fetchval("select max(staged_at) from stage_tracking_files")
        for name in STAGE_TABLES:  # fixed names from the handler
            rows = await conn.fetchval(f"select count(*) from public.{name}")
            tables.append({"table": name, "source": "tracking", "rows": rows, "last_loaded_at": last})
    for t in tables:
        t["last_loaded_at"] = t["last_loaded_at"].isoformat() if t["last_loaded_at"] else None
    return json_response({"tables": tables, "tracking_games": games})
