"""Is the API up, and is its database and queue healthy."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from daemon.http.app_keys import DISPATCHER, POOL
from daemon.http.errors import ApiError, json_response
from daemon.http.models import DbHealthOut, HealthOut
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


@routes.get("/api/health", summary="The API is up", scope="public", responses={200: HealthOut})
async def health(request: web.Request) -> web.Response:
    """Answers without touching the database (a liveness probe); see /api/health/db for the rest."""
    dispatcher = request.app[DISPATCHER]
    daemon = ({"worker": dispatcher.worker, "running_jobs": len(dispatcher.running)}
              if dispatcher is not None else None)
    return json_response({"status": "ok", "daemon": daemon})


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
