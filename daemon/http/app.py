"""The aiohttp application: middlewares (CORS, errors, auth), the routes of every module, the OpenAPI
document, the live-changes listener; and `serve`, which runs it on BENCHSIGHT_API_HOST:BENCHSIGHT_API_PORT
until cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import asyncpg
import structlog
from aiohttp import web

from daemon.auth import auth_middleware
from daemon.config import Settings
from daemon.http import (
    openapi,
    routes_etl,
    routes_health,
    routes_jobs,
    routes_live,
    routes_ml,
    routes_staging,
    routes_upload,
)
from daemon.http.app_keys import CHANGES, DISPATCHER, POOL, SETTINGS, SSE_HEARTBEAT
from daemon.http.errors import error_middleware, json_response
from daemon.http.routing import Route
from daemon.http.sse import JobChanges

log = structlog.get_logger()

# Streams first: /api/jobs/stream must win over /api/jobs/{job_id}.
ROUTE_MODULES = (routes_live, routes_jobs, routes_etl, routes_upload, routes_staging, routes_health, routes_ml)
OPENAPI = web.AppKey("openapi", dict)
EXPOSED_HEADERS = "Location, Job-Existing"


def all_routes() -> list[Route]:
    return [route for module in ROUTE_MODULES for route in module.routes.routes]


def create_app(pool: asyncpg.Pool, settings: Settings, url: str, *, dispatcher: object | None = None,
               middlewares: Iterable = (), sse_heartbeat_seconds: float = 15.0) -> web.Application:
    """The API on pool (reads and job inserts) and url (its own LISTEN connection for live changes).

    Middlewares, outermost first: CORS, errors (everything below is answered as {"detail": ...}), daemon.auth
    (credentials, scopes, rate limit; BENCHSIGHT_API_AUTH), then the caller's."""
    chain = [cors_middleware(settings), error_middleware, auth_middleware(pool, settings), *middlewares]
    app = web.Application(middlewares=chain, client_max_size=settings.upload_limit_bytes)
    app[POOL] = pool
    app[SETTINGS] = settings
    app[DISPATCHER] = dispatcher
    app[CHANGES] = JobChanges(url)
    app[SSE_HEARTBEAT] = sse_heartbeat_seconds
    routes = all_routes()
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
    app[OPENAPI] = openapi.build(routes)
    app.router.add_route("GET", "/api/openapi.json", _openapi_json)
    app.router.add_route("GET", "/api/docs", _docs_page)
    app.cleanup_ctx.append(_listen_for_changes)
    app.on_shutdown.append(_end_streams)
    if _allowed_origins(settings):
        app.on_response_prepare.append(_cors_headers)
    return app


async def serve(pool: asyncpg.Pool, dispatcher: object | None, url: str, settings: Settings | None = None) -> None:
    """Run the API until cancelled (benchsight up runs it beside the daemon; benchsight api alone)."""
    settings = settings or dispatcher.settings  # type: ignore[union-attr]
    app = create_app(pool, settings, url, dispatcher=dispatcher)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.api_host, settings.api_port)
        await site.start()
        log.info("api.listening", url=f"http://{settings.api_host}:{settings.api_port}/api/docs")
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def _openapi_json(request: web.Request) -> web.Response:
    return json_response(request.app[OPENAPI])


async def _docs_page(request: web.Request) -> web.Response:
    return web.Response(text=openapi.DOCS_PAGE, content_type="text/html")


async def _listen_for_changes(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[CHANGES].run())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _end_streams(app: web.Application) -> None:
    app[CHANGES].close_all()


# ---- CORS (CORS_ORIGINS: comma list of origins, or *) -------------------------------------------------------

def _allowed_origins(settings: Settings) -> set[str]:
    return {o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()}


def _origin_allowed(request: web.Request) -> str | None:
    origin = request.headers.get("Origin")
    allowed = _allowed_origins(request.app[SETTINGS])
    if origin and ("*" in allowed or origin.rstrip("/") in allowed):
        return origin
    return None


def cors_middleware(settings: Settings):
    """Answers preflight requests from allowed origins (before routing decides the method is not allowed)."""

    @web.middleware
    async def cors(request: web.Request, handler):
        if (request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method")
                and _origin_allowed(request)):
            return web.Response(status=204, headers={
                "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": request.headers.get("Access-Control-Request-Headers", "*"),
                "Access-Control-Max-Age": "600",
            })
        return await handler(request)

    return cors


async def _cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer to an allowed origin, streams included (headers are added as the response starts)."""
    origin = _origin_allowed(request)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers.add("Vary", "Origin")
