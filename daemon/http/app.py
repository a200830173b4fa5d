"""The aiohttp application: middlewares (CORS, errors, auth), the routes of every module, the OpenAPI
document, the live-changes listener; and `serve`, which runs it on BENCHSIGHT_API_HOST:BENCHSIGHT_API_PORT
until cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import asyncpg
import structlog
from aiohttp import web

from daemon.auth import auth_middleware, is_loopback
from daemon.config import Settings
from daemon.http import (
    compat,
    inputs,
    openapi,
    routes_etl,
    routes_files,
    routes_health,
    routes_jobs,
    routes_live,
    routes_ml,
    routes_staging,
    routes_upload,
)
from daemon.http.app_keys import CHANGES, DISPATCHER, POOL, SETTINGS, SSE_HEARTBEAT
from daemon.http.errors import error_middleware, error_response, json_response
from daemon.http.routing import Route
from daemon.http.sse import JobChanges

log = structlog.get_logger()

# Streams first: /api/jobs/stream must win over /api/jobs/{job_id}.
ROUTE_MODULES = (routes_live, routes_jobs, routes_etl, routes_upload, routes_staging, *compat.ROUTE_MODULES,
                 routes_health, routes_files, routes_ml)
OPENAPI = web.AppKey("openapi", dict)
EXPOSED_HEADERS = "Location, Job-Existing, Link"
PORTAL_DIR = Path(__file__).parent / "portal"


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
    openapi.add_docs_routes(app.router)
    app.router.add_route("GET", "/portal", _portal_redirect)
    app.router.add_static("/portal/", PORTAL_DIR, name="portal")
    app.cleanup_ctx.append(_listen_for_changes)
    app.on_shutdown.append(_end_streams)
    if allowed_origins(settings):
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
    inputs.no_query(request)
    return json_response(request.app[OPENAPI])


async def _portal_redirect(request: web.Request) -> web.Response:
    inputs.no_query(request)
    raise web.HTTPFound("/portal/index.html")


async def _listen_for_changes(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[CHANGES].run())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _end_streams(app: web.Application) -> None:
    app[CHANGES].close_all()


# ---- the browser boundary: Host, Origin, CORS (CORS_ORIGINS: comma list of origins, or *) ----------------
# A web page open in the user's browser can send requests to the API on loopback (its answers stay unreadable
# without CORS, but a POST still runs). With authentication off that page would act as admin; so every request
# names a Host the API listens on (no DNS rebinding), and a write from an origin that is not allowed is refused.

# The old service's development origins, allowed when CORS_ORIGINS is empty and the API is on loopback.
LOCAL_DEV_ORIGINS = frozenset(f"http://{host}:{port}" for host in ("localhost", "127.0.0.1") for port in (3000, 8080))
ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS"
ALLOWED_HEADERS = "Authorization, X-API-Key, Content-Type"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def allowed_origins(settings: Settings) -> frozenset[str]:
    """CORS_ORIGINS, or with none set the old service's local development origins when the API is local."""
    configured = {o.strip().rstrip("/") for o in settings.cors_origins.split(",") if o.strip()}
    if configured:
        return frozenset(configured)
    return LOCAL_DEV_ORIGINS if is_loopback(settings.api_host) else frozenset()


def _request_host(request: web.Request) -> str:
    """The Host header's name without its port ([::1]:8000 -> ::1)."""
    host = request.headers.get("Host", "")
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _same_origin(request: web.Request, origin: str) -> bool:
    host = request.headers.get("Host", "")
    return bool(host) and origin in (f"http://{host}", f"https://{host}")


def _origin_allowed(request: web.Request) -> str | None:
    """The request's Origin when it may read answers (CORS headers), else None."""
    origin = request.headers.get("Origin")
    allowed = allowed_origins(request.app[SETTINGS])
    if origin and ("*" in allowed or origin.rstrip("/") in allowed):
        return origin
    return None


def cors_middleware(settings: Settings):
    """The outermost middleware. Refuses (before anything runs): a Host that is not a loopback name when the
    API listens on loopback (421), and a write (POST, PUT, DELETE) carrying an Origin that is neither the API's
    own nor allowed (403). Answers preflights from allowed origins with the methods and headers the API takes."""
    local = is_loopback(settings.api_host)

    @web.middleware
    async def cors(request: web.Request, handler):
        if local and not is_loopback(_request_host(request)):
            log.info("api.host_refused", host=request.headers.get("Host"), path=request.path)
            return error_response(421, "this API answers only requests addressed to localhost, 127.0.0.1 or "
                                       "[::1] (the Host header names another server)")
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            if _origin_allowed(request):
                return web.Response(status=204, headers={
                    "Access-Control-Allow-Methods": ALLOWED_METHODS,
                    "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                    "Access-Control-Max-Age": "600",
                })
        elif (origin is not None and request.method not in SAFE_METHODS and not _origin_allowed(request)
              and not _same_origin(request, origin)):
            log.info("api.origin_refused", origin=origin, method=request.method, path=request.path)
            return error_response(403, f"requests that change something are not accepted from the web origin "
                                       f"{origin}; list it in CORS_ORIGINS to allow it")
        return await handler(request)

    return cors


async def _cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer to an allowed origin, streams included (headers are added as the response starts)."""
    origin = _origin_allowed(request)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        response.headers.add("Vary", "Origin")
