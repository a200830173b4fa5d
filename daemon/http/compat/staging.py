"""The old /api/staging routes onto our staging kinds: league rows (staging_blb), row updates
(staging_blb_update), tracker rows (staging_tracking, by way of a tracker workbook). The upload routes also
take our multipart forms on the same paths (daemon.http.routes_staging)."""

from __future__ import annotations

import asyncio
import io
import json

import xlsxwriter
from aiohttp import web

from daemon.http import inputs, jobs
from daemon.http.app_keys import POOL
from daemon.http.compat.models import (
    BlbTableListOut,
    ClearedOut,
    ClearQuery,
    StagedRowsOut,
    TrackingRowsOut,
    UpdateBlbTableRequest,
    UpdatedRowsOut,
    UploadBlbTableRequest,
    UploadTrackingRequest,
)
from daemon.http.errors import ApiError, json_response
from daemon.http.routes_staging import (
    TRACKER_FORM,
    WORKBOOK_FORM,
    accept_tracker_upload,
    accept_workbook_upload,
    stage_tracker_file,
)
from daemon.http.routing import Routes
from handlers.staging_blb import LEAGUE_TABLES, StagingBlbParams, stage_table_name
from handlers.staging_blb_update import StagingBlbUpdateParams

routes = Routes("staging")


def league_table(name: str, status: int = 400) -> str:
    """The staging table of a league table name, or the old API's error (400 in bodies, 404 in paths)."""
    if name not in LEAGUE_TABLES:
        raise ApiError(status, f"Unknown BLB table {name!r}; the tables are {', '.join(LEAGUE_TABLES)}.")
    return stage_table_name(name)


def created(job: dict, is_new: bool, **fields: object) -> web.Response:
    """Our create answer (202 new, 200 the active twin) with the old answer's fields added."""
    return jobs.job_created_response({**job, **fields}, is_new)


@routes.post("/api/staging/blb-tables/upload", summary="Stage league rows (JSON) or a league workbook table "
             "(multipart)", scope="jobs:write", body=UploadBlbTableRequest, form=WORKBOOK_FORM,
             responses={202: StagedRowsOut, 200: StagedRowsOut}, creates_job=True)
async def upload_blb(request: web.Request, req: UploadBlbTableRequest | None) -> web.Response:
    """Ours: a `staging_blb` job with `rows` (JSON) or `file` (multipart: the workbook is stored under
    raw/uploads/). `replace` defaults to false (append), as before."""
    if req is None:
        return await accept_workbook_upload(request)
    staging_table = league_table(req.table_name)
    params = StagingBlbParams(table=req.table_name, rows=req.data, replace=req.replace)
    job, is_new = await jobs.enqueue(request.app[POOL], "staging_blb", params, requested_by=jobs.requested_by(request))
    return created(job, is_new, table_name=req.table_name, staging_table=staging_table,
                   rows_uploaded=len(req.data), rows_failed=0)


@routes.put("/api/staging/blb-tables/update", summary="Update staged league rows", scope="jobs:write",
            body=UpdateBlbTableRequest, responses={202: UpdatedRowsOut, 200: UpdatedRowsOut}, creates_job=True)
async def update_blb(request: web.Request, req: UpdateBlbTableRequest) -> web.Response:
    """Ours: a `staging_blb_update` job (rows whose filter_column equals filter_value get `updates`)."""
    staging_table = league_table(req.table_name)
    data = {"table": req.table_name, "filter_column": req.filter_column, "filter_value": req.filter_value,
            "updates": req.updates}
    params = inputs.validate(StagingBlbUpdateParams, data, "body", json_text=json.dumps(data).encode())
    job, is_new = await jobs.enqueue(request.app[POOL], "staging_blb_update", params,
                                     requested_by=jobs.requested_by(request))
    result = job["result"] if isinstance(job["result"], dict) else {}
    return created(job, is_new, table_name=req.table_name, staging_table=staging_table,
                   rows_updated=result.get("rows_updated"))


@routes.get("/api/staging/blb-tables/list", summary="The league tables that can be staged", scope="jobs:read",
            responses={200: BlbTableListOut})
async def list_blb(request: web.Request) -> web.Response:
    """Ours: the league reader's sheets (handlers/staging_blb.py LEAGUE_TABLES)."""
    return json_response({"tables": list(LEAGUE_TABLES), "count": len(LEAGUE_TABLES)})


@routes.post("/api/staging/blb-tables/{table_name}/clear", summary="Empty a staged league table",
             scope="jobs:write", query=ClearQuery, responses={202: ClearedOut, 200: ClearedOut, 400: "confirm is not true"},
             creates_job=True)
async def clear_blb(request: web.Request, q: ClearQuery) -> web.Response:
    """Ours: a `staging_blb` job with no rows and replace true. Needs ?confirm=true; 404 for an unknown table."""
    name = request.match_info["table_name"]
    staging_table = league_table(name, status=404)
    if not q.confirm:
        raise ApiError(400, "Clearing a staged table needs ?confirm=true.")
    params = StagingBlbParams(table=name, rows=[], replace=True)
    job, is_new = await jobs.enqueue(request.app[POOL], "staging_blb", params, requested_by=jobs.requested_by(request))
    return created(job, is_new, table_name=name, staging_table=staging_table, cleared=True,
                   message="The staging job empties the table; upload rows again to fill it.")


@routes.post("/api/staging/tracking/upload", summary="Stage one game's tracker rows (JSON) or file (multipart)",
             scope="jobs:write", body=UploadTrackingRequest, form=TRACKER_FORM,
             responses={202: TrackingRowsOut, 200: TrackingRowsOut}, creates_job=True)
async def upload_tracking(request: web.Request, req: UploadTrackingRequest | None) -> web.Response:
    """Ours: a `staging_tracking` job. JSON rows become a tracker workbook (sheets events and shifts, the
    columns as sent) stored like an uploaded file, so the tracker readers check them the same way."""
    if req is None:
        return await accept_tracker_upload(request)
    content = await asyncio.to_thread(tracker_workbook, req.events or [], req.shifts or [])
    job, is_new = await stage_tracker_file(request, f"{req.game_id}_tracking.xlsx", content, req.game_id)
    return created(job, is_new, game_id=req.game_id, events_uploaded=len(req.events or []),
                   shifts_uploaded=len(req.shifts or []))


def tracker_workbook(events: list[dict], shifts: list[dict]) -> bytes:
    """The rows as a tracker workbook: one sheet each, the header every key in order of first appearance."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                     "strings_to_urls": False})
    for name, rows in (("events", events), ("shifts", shifts)):
        sheet = book.add_worksheet(name)
        header = list(dict.fromkeys(key for row in rows for key in row))
        sheet.write_row(0, 0, header)
        for i, row in enumerate(rows, start=1):
            sheet.write_row(i, 0, [_cell(row.get(h)) for h in header])
    book.close()
    return out.getvalue()


def _cell(value: object) -> object:
    """A JSON value a worksheet cell can hold (lists and objects as their JSON text)."""
    return json.dumps(value) if isinstance(value, (list, dict)) else value
