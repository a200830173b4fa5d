"""The job as the API shows it, and the reads and inserts behind the routes. Inserts go through the SQL
function enqueue_job (dedupe: a second identical request gets the active twin back)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg
import structlog
from aiohttp import web
from pydantic import BaseModel

from daemon.auth import CURRENT_PRINCIPAL, PRINCIPAL
from daemon.http.errors import ApiError, invalid, json_response

log = structlog.get_logger()

# The row plus the messages of the job's error events, in one round trip.
SHAPE_COLUMNS = (
    "j.id, j.kind, j.status, j.progress, j.current_step, j.params, j.result, j.error, j.attempts, "
    "j.cancel_requested, j.requested_by, j.created_at, j.started_at, j.finished_at, "
    "array(select e.message from job_events e where e.job_id = j.id and e.level = 'error' and e.message is not null "
    "order by e.id) || case when j.status = 'cancelled' then array[coalesce(j.error, 'cancelled before start')] "
    "else '{}'::text[] end as errors"
)
# $2 owner: null for callers who see every job, else only that requester's jobs (a signed-in portal user).
GET_JOB = f"select {SHAPE_COLUMNS} from job_requests j where j.id = $1 and ($2::text is null or j.requested_by = $2)"
# A list shows summaries: params and result stay in the row (never read, never sent).
SUMMARY_COLUMNS = (
    "j.id, j.kind, j.status, j.progress, j.current_step, j.error, j.attempts, j.cancel_requested, j.requested_by, "
    "j.created_at, j.started_at, j.finished_at, "
    "case when jsonb_typeof(j.result -> 'tables_created') = 'array' "
    "then jsonb_array_length(j.result -> 'tables_created') end as tables_created, "
    # a first attempt still running or completed has no error events: skip the lookup for most rows of a list
    "case when j.status in ('failed', 'cancelled') or j.attempts > 1 or j.error is not null then "
    "array(select e.message from job_events e where e.job_id = j.id and e.level = 'error' and e.message is not null "
    "order by e.id) else '{}'::text[] end "
    "|| case when j.status = 'cancelled' then array[coalesce(j.error, 'cancelled before start')] "
    "else '{}'::text[] end as errors"
)
LIST_JOBS = (
    f"select {SUMMARY_COLUMNS} from job_requests j "
    "where ($1::text[] is null or j.status = any($1)) and ($2::text[] is null or j.kind = any($2)) "
    "and ($3::timestamptz is null or (j.created_at, j.id) < ($3, $4::uuid)) "
    "and ($6::text is null or j.requested_by = $6) "
    "order by j.created_at desc, j.id desc limit $5"
)
# created: the row was inserted by this statement (its created_at is this transaction's now()), not a twin.
ENQUEUE = (
    f"select {SHAPE_COLUMNS}, j.created_at = now() as created "
    "from enqueue_job($1, $2, 0, null, $3, 3, $4) j"
)


NEEDS_ADMIN = "select public.job_needs_admin($1, $2)"
ADMIN_ONLY = {
    "schema": "apply drops and re-creates every warehouse table",
    "staging_blb": "replace empties the staged table; use replace: false to append",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def job_shape(row: asyncpg.Record) -> dict:
    """A job row as the API answers it (models.JobOut): the seed API's JobResponse fields with its types
    (tables_created a count, errors a list of strings ending with the cancel reason) plus ours."""
    result = row["result"]
    names = result.get("tables_created") if isinstance(result, dict) else None
    names = names if isinstance(names, list) else None
    return {
        "job_id": str(row["id"]),
        "kind": row["kind"],
        "status": row["status"],
        "progress": row["progress"],
        "current_step": row["current_step"],
        "params": row["params"],
        "result": result,
        "error": row["error"],
        "errors": list(row["errors"]),
        "attempts": row["attempts"],
        "cancel_requested": row["cancel_requested"],
        "requested_by": row["requested_by"],
        "created_at": _iso(row["created_at"]),
        "started_at": _iso(row["started_at"]),
        "completed_at": _iso(row["finished_at"]),
        "tables_created": len(names) if names is not None else None,
        "table_names": names,
    }


def job_summary(row: asyncpg.Record) -> dict:
    """A job row as lists show it (models.JobSummaryOut)."""
    return {
        "job_id": str(row["id"]),
        "kind": row["kind"],
        "status": row["status"],
        "progress": row["progress"],
        "current_step": row["current_step"],
        "error": row["error"],
        "attempts": row["attempts"],
        "cancel_requested": row["cancel_requested"],
        "requested_by": row["requested_by"],
        "created_at": _iso(row["created_at"]),
        "started_at": _iso(row["started_at"]),
        "completed_at": _iso(row["finished_at"]),
        "tables_created": row["tables_created"],
        "errors": list(row["errors"]),
    }


async def get_job(pool: asyncpg.Pool, job_id: UUID, owner: str | None = None) -> dict | None:
    row = await pool.fetchrow(GET_JOB, job_id, owner)
    return job_shape(row) if row is not None else None


# The status before and after request_cancel, in one statement (the CTE reads the row as it was).
CANCEL = (
    "with before as (select status from job_requests where id = $1) "
    "select (select status from before) as before, request_cancel($1) as after"
)


async def list_jobs(pool: asyncpg.Pool, *, status: str | Sequence[str] | None, kind: str | Sequence[str] | None,
                    limit: int, cursor: str | None, owner: str | None = None) -> dict:
    """One page, newest first, with the cursor of the next page (keyset paging on created_at, id). status and
    kind: one value or several (any of them)."""
    after_at, after_id = decode_cursor(cursor) if cursor else (None, None)
    statuses = [status] if isinstance(status, str) else (list(status) if status is not None else None)
    kinds = [kind] if isinstance(kind, str) else (list(kind) if kind is not None else None)
    rows = await pool.fetch(LIST_JOBS, statuses, kinds, after_at, after_id, limit + 1, owner)
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]["created_at"], page[-1]["id"]) if len(rows) > limit else None
    return {"jobs": [job_summary(r) for r in page], "next_cursor": next_cursor}


async def cancel(pool: asyncpg.Pool, job_id: UUID) -> tuple[str | None, str | None]:
    """request_cancel: (status before, status after); after is None for an unknown job."""
    row = await pool.fetchrow(CANCEL, job_id)
    return row["before"], row["after"]


def encode_cursor(created_at: datetime, job_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{job_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, job_id = text.partition("|")
        return datetime.fromisoformat(at), UUID(job_id)
    except (ValueError, UnicodeDecodeError):
        raise invalid(["query", "cursor"], "not a cursor from a previous page (next_cursor)") from None


def canonical_params(params: BaseModel) -> dict:
    """Params as stored: every field, defaults included, under its public (alias) name."""
    return params.model_dump(mode="json", by_alias=True)


def dedupe_key(kind: str, params: dict, *extra: str) -> str:
    """kind + sha256 of the params as sorted JSON (plus e.g. an uploaded file's hash)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":")) + "".join(f"|{e}" for e in extra)
    return f"{kind}:{hashlib.sha256(text.encode()).hexdigest()}"


async def enqueue(pool: asyncpg.Pool, kind: str, params: BaseModel, *, requested_by: str,
                  dedupe: str | None = None) -> tuple[dict, bool]:
    """Insert a job (or find its active twin); returns (job, created).

    For the request's caller (daemon.auth.CURRENT_PRINCIPAL): a request only admins may make
    (job_needs_admin in SQL, the same rule row-level security applies to direct inserts) is 403 for others,
    and a signed-in user's dedupe key is scoped to the user, as the SQL trigger scopes direct inserts: the
    same request by two users gives two jobs, never the other user's job."""
    data = canonical_params(params)
    principal = CURRENT_PRINCIPAL.get()
    if principal is not None and not principal.allows("admin") and await pool.fetchval(NEEDS_ADMIN, kind, data):
        raise ApiError(403, f"only an admin may request this {kind} job ({ADMIN_ONLY.get(kind, 'it destroys data')})")
    key = dedupe or dedupe_key(kind, data)
    if principal is not None and principal.own_jobs_only:
        key = f"user:{principal.subject}:{key}"
    row = await pool.fetchrow(ENQUEUE, kind, data, key, requested_by)
    log.info("api.job_enqueued", job_id=str(row["id"]), kind=kind, existing=not row["created"],
             requested_by=requested_by)
    return job_shape(row), row["created"]


def job_created_response(job: dict, created: bool) -> web.Response:
    """202 with Location for a new job; 200 with Location and `Job-Existing: true` when the request matched an
    active job (the same request made twice)."""
    headers = {"Location": f"/api/jobs/{job['job_id']}", "Job-Existing": "false" if created else "true"}
    return json_response(job, 202 if created else 200, headers)


def requested_by(request: web.Request) -> str:
    """Who asked, for job_requests.requested_by: a signed-in user's id (so row-level security shows them the
    job in the portal too), an API key's subject, else 'api' (daemon.auth's Principal decides)."""
    principal = request.get(PRINCIPAL)
    return principal.requested_by if principal is not None else "api"


def owner(request: web.Request) -> str | None:
    """Whose jobs the caller may see: a signed-in user without admin sees only their own (as row-level
    security does); API keys, admins and unauthenticated local use see all (None)."""
    principal = request.get(PRINCIPAL)
    return principal.subject if principal is not None and principal.own_jobs_only else None
