"""Every statement the daemon runs, by name. The state changes themselves are SQL functions defined in
supabase/migrations/; Python only names them and passes parameters."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

JOB_COLUMNS = (
    "id, kind, params, status, priority, progress, current_step, result, error, attempts, max_attempts, "
    "run_after, dedupe_key, locked_by, locked_until, cancel_requested, requested_by, created_at, started_at, "
    "finished_at, updated_at"
)


async def claim_jobs(pool: asyncpg.Pool, worker: str, kinds: Sequence[str], max_jobs: int,
                     lease_seconds: int) -> list[asyncpg.Record]:
    return await pool.fetch("select * from claim_jobs($1, $2, $3, $4)", worker, list(kinds), max_jobs, lease_seconds)


async def finish_jobs(pool: asyncpg.Pool, worker: str, job_ids: Sequence[UUID], statuses: Sequence[str],
                      results: Sequence[object], errors: Sequence[str | None],
                      retry: Sequence[bool]) -> list[asyncpg.Record]:
    return await pool.fetch(
        "select * from finish_jobs($1, $2::uuid[], $3::text[], $4::jsonb[], $5::text[], $6::boolean[])",
        worker, list(job_ids), list(statuses), list(results), list(errors), list(retry),
    )


async def heartbeat_jobs(pool: asyncpg.Pool, worker: str, job_ids: Sequence[UUID],
                         lease_seconds: int) -> dict[UUID, bool]:
    """Extends leases; returns {job_id: cancel_requested} for the jobs still held."""
    rows = await pool.fetch("select * from heartbeat_jobs($1, $2::uuid[], $3)", worker, list(job_ids), lease_seconds)
    return {r["job_id"]: r["cancel_requested"] for r in rows}


async def cancel_requested(pool: asyncpg.Pool, job_ids: Sequence[UUID]) -> list[UUID]:
    rows = await pool.fetch(
        "select id from job_requests where id = any($1::uuid[]) and cancel_requested", list(job_ids)
    )
    return [r["id"] for r in rows]


async def report_progress(pool: asyncpg.Pool, job_id: UUID, worker: str, status: str, progress: int,
                          step: str | None, message: str | None) -> bool:
    return await pool.fetchval(
        "select report_progress($1, $2, $3, $4, $5, $6)", job_id, worker, status, progress, step, message
    )


async def release_jobs(pool: asyncpg.Pool, worker: str, job_ids: Sequence[UUID]) -> int:
    return await pool.fetchval("select release_jobs($1, $2::uuid[])", worker, list(job_ids))


async def worker_seen(pool: asyncpg.Pool, worker: str, info: dict) -> None:
    await pool.execute("select worker_seen($1, $2)", worker, info)


async def enqueue_job(conn: asyncpg.Pool | asyncpg.Connection, kind: str, params: dict, *, priority: int = 0,
                      run_after: object = None, dedupe_key: str | None = None, max_attempts: int = 3,
                      requested_by: str | None = None) -> asyncpg.Record:
    return await conn.fetchrow(
        f"select {JOB_COLUMNS} from enqueue_job($1, $2, $3, $4, $5, $6, $7)",
        kind, params, priority, run_after, dedupe_key, max_attempts, requested_by,
    )


async def request_cancel(conn: asyncpg.Pool | asyncpg.Connection, job_id: UUID) -> str | None:
    return await conn.fetchval("select request_cancel($1)", job_id)


async def cancel_job(conn: asyncpg.Pool | asyncpg.Connection, job_id: UUID) -> tuple[str | None, str | None]:
    """request_cancel with the status before it (None: no such job), read in the same statement, so a caller
    can tell a job it cancelled from one that had already ended."""
    row = await conn.fetchrow(
        "with before as (select status from job_requests where id = $1) "
        "select (select status from before) as before, request_cancel($1) as after", job_id)
    return row["before"], row["after"]


async def get_job(conn: asyncpg.Pool | asyncpg.Connection, job_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"select {JOB_COLUMNS} from job_requests where id = $1", job_id)


async def list_jobs(conn: asyncpg.Pool | asyncpg.Connection, status: str | None = None, kind: str | None = None,
                    limit: int = 50) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"select {JOB_COLUMNS} from job_requests "
        "where ($1::text is null or status = $1) and ($2::text is null or kind = $2) "
        "order by created_at desc, id desc limit $3",
        status, kind, limit,
    )
