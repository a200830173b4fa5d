"""Is the API up, and is its database and queue healthy."""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import metadata

import asyncpg
from aiohttp import web
from pydantic import ConfigDict, Field

from daemon.http.app_keys import DISPATCHER, POOL, SETTINGS
from daemon.http.errors import ApiError, json_response
from daemon.http.models import DaemonOut, DbHealthOut, HealthOut, HealthStatusOut
from daemon.http.routing import Routes

routes = Routes("health")

_DB_HEALTH = """
select
    (select max(version) from supabase_migrations.schema_migrations) as migration_version,
    (select coalesce(jsonb_object_agg(status, n), '{}'::jsonb) from (
        select status, count(*)::int as n from job_requests
        where status in ('pending', 'running', 'processing', 'uploading') group by status) s) as queue,
    (select extract(epoch from now() - min(created_at))::float8 from job_requests where status = 'pending')
        as oldest_pending_seconds,
    (select coalesce(jsonb_agg(jsonb_build_object('worker', worker, 'started_at', started_at,
                                                  'last_seen_at', last_seen_at, 'info', info)
                               order by worker), '[]'::jsonb)
     from job_workers where last_seen_at > now() - interval '1 minute') as workers,
    (select coalesce(jsonb_object_agg(status, n), '{}'::jsonb) from (
        select status, count(*)::int as n from job_requests group by status) s) as jobs_by_status,
    (select min(finished_at) from job_requests where status in ('completed', 'failed', 'cancelled'))
        as oldest_finished_at,
    (select jsonb_build_object('worker', worker, 'started_at', started_at, 'finished_at', finished_at,
                               'jobs', jobs, 'events', events, 'batches', batches, 'settings', settings)
     from prune_runs order by id desc limit 1) as last_prune
"""


class DaemonFlushOut(DaemonOut):
    outcomes_waiting: int = Field(description="Job outcomes recorded but not yet written to the database.")
    oldest_outcome_waiting_seconds: float = Field(description="How long the oldest of them has waited (0 if none).")


class LiveHealthOut(HealthOut):
    model_config = ConfigDict(title="LiveHealth")

    daemon: DaemonFlushOut | None = Field(description="The daemon in this process (benchsight up), else null.")


@routes.get("/api/health", summary="The API is up (and its daemon writes outcomes)", scope="public",
            responses={200: LiveHealthOut, 503: "the daemon in this process is unhealthy"})
async def health(request: web.Request) -> web.Response:
    """Answers without touching the database (a liveness probe); see /api/health/db for the rest. 503 when
    the daemon in this process cannot write job outcomes (one has waited longer than a lease) or one of its
    background duties died."""
    dispatcher = request.app[DISPATCHER]
    if dispatcher is None:
        return json_response({"status": "ok", "daemon": None})
    if (problem := dispatcher.problem()) is not None:
        raise ApiError(503, f"daemon {dispatcher.worker} unhealthy: {problem}")
    waiting, oldest = dispatcher.outcome_backlog()
    return json_response({"status": "ok", "daemon": {
        "worker": dispatcher.worker, "running_jobs": len(dispatcher.running),
        "outcomes_waiting": waiting, "oldest_outcome_waiting_seconds": round(oldest, 3)}})


@routes.get("/api/health/db", summary="Database, migrations, queue depth and live daemons", scope="public",
            responses={200: DbHealthOut, 503: "the database cannot be reached"})
async def health_db(request: web.Request) -> web.Response:
    """503 when the database cannot be reached within 5 s."""
    try:
        row = await request.app[POOL].fetchrow(_DB_HEALTH, timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise ApiError(503, f"database unreachable: {type(exc).__name__}") from None
    return json_response({
        "database": "ok",
        "migration_version": row["migration_version"],
        "queue": row["queue"],
        "oldest_pending_seconds": row["oldest_pending_seconds"],
        "workers": row["workers"],
        "jobs_by_status": row["jobs_by_status"],
        "oldest_finished_at": row["oldest_finished_at"].isoformat() if row["oldest_finished_at"] else None,
        "last_prune": row["last_prune"],
    })


@routes.get("/api/health/status", summary="The old API's detailed status", scope="public",
            responses={200: HealthStatusOut})
async def health_status(request: web.Request) -> web.Response:
    """The old GET /api/health/status: status, version, time, and whether the ETL and its output folder are
    there. project_root is the data dir (raw inputs, output, embedded database)."""
    settings = request.app[SETTINGS]
    return json_response({
        "status": "healthy",
        "version": package_version(),
        "timestamp": datetime.now(timezone.utc).isoformat(),
        "system": {"etl_script_available": True, "output_directory_exists": settings.output_dir.is_dir(),
                   "project_root": str(settings.data_dir)},
    })


def package_version() -> str:
    try:
        return metadata.version("benchsight")
    except metadata.PackageNotFoundError:
        return "unknown"
