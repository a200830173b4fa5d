"""Who is calling the REST API: API keys (daemon/apikeys.py) or Supabase JWTs, scopes per route, a per-caller
rate limit, and a log processor that keeps keys and tokens out of log lines.

Credentials come as `Authorization: Bearer <api key or JWT>` or `X-API-Key: <api key>`. Scopes: jobs:read,
jobs:write, admin (admin implies every scope). Health and API documentation routes stay public.
"""

from __future__ import annotations

import ipaddress
import json
import math
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

import asyncpg
import jwt
import structlog
from aiohttp import web

from daemon import apikeys
from daemon.config import Settings
from daemon.redaction import redact_secrets  # noqa: F401 - the log processor lives in daemon.redaction

log = structlog.get_logger()

PUBLIC_PATHS = frozenset({"/api/health", "/api/health/db", "/api/health/status", "/api/openapi.json", "/api/docs",
                          "/portal"})
PUBLIC_PREFIXES = ("/api/docs/", "/portal/")
USER_SCOPES = frozenset({"jobs:read", "jobs:write"})
# Clock skew accepted on a JWT's exp/nbf/iat: enough for two servers' clocks, too little to matter for expiry.
JWT_LEEWAY_SECONDS = 5
# Wrong credentials allowed per client address and minute: each may cost a database lookup (an API key) and
# guessing must stay slow; past it the address gets 429 until its bucket refills.
FAILED_AUTH_PER_MINUTE = 30
ADMIN_SCOPES = frozenset({"admin"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Principal:
    """The caller of one request. subject: `apikey:<prefix>`, the JWT's sub (a Supabase user id),
    `service_role`, or `local`/`anonymous` without authentication."""

    subject: str
    scopes: frozenset[str]
    via: Literal["apikey", "jwt", "anonymous"]

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    @property
    def requested_by(self) -> str:
        """The job_requests.requested_by of jobs this caller creates. A Supabase user's own id, so the row-level
        security policies show the user the jobs they asked for through the API too."""
        return self.subject if self.via != "anonymous" else "api"

    @property
    def own_jobs_only(self) -> bool:
        """A signed-in user without the admin claim sees only their own jobs (as row-level security does);
        API keys are service credentials and see all jobs their scopes allow."""
        return self.via == "jwt" and not self.allows("admin")


ANONYMOUS = Principal("anonymous", frozenset(), "anonymous")
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
# The same principal for code below the routes that has no request at hand (daemon.http.jobs.enqueue scopes
# dedupe keys and refuses admin-only jobs by it, so every route that creates a job obeys one rule).
CURRENT_PRINCIPAL: ContextVar[Principal | None] = ContextVar("principal", default=None)
LOCAL_ADMIN = Principal("local", ADMIN_SCOPES, "anonymous")


class AuthError(Exception):
    """The credentials are missing or wrong. The message is safe to show: it never contains the credential."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def auth_required(settings: Settings) -> bool:
    """Whether the API checks credentials. 'auto' skips them only where nobody else can reach the API: the
    embedded database (no DATABASE_URL, no SUPABASE_URL) served on a loopback address."""
    if settings.api_auth != "auto":
        return settings.api_auth == "required"
    local_database = settings.database_url is None and settings.supabase_url is None
    return not (local_database and is_loopback(settings.api_host))


def is_loopback(host: str) -> bool:
    """localhost or a loopback address (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RateLimiter:
    """Token buckets per caller, in this process only (several API processes each allow the full rate).
    A bucket holds up to `per_minute` requests and refills at per_minute / 60 a second."""

    MAX_BUCKETS = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """Spend one request of key's bucket: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        tokens, at = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self.MAX_BUCKETS:
                self._forget_full(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def wait(self, key: str) -> float:
        """Seconds until key's bucket holds a request (0.0 when it does now); spends nothing."""
        tokens, at = self._buckets.get(key, (self.capacity, self.clock()))
        tokens = min(self.capacity, tokens + (self.clock() - at) * self.rate)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled: forgetting them changes nothing."""
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * self.rate >= self.capacity:
                del self._buckets[key]


def _credential(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise AuthError("use 'Authorization: Bearer <API key or token>'")
        return value.strip()
    key = request.headers.get("X-API-Key")
    return key.strip() if key is not None else None


async def authenticate_key(pool: asyncpg.Pool, key: str) -> Principal:
    stored = await apikeys.verify_key(pool, key)
    if stored is None:
        raise AuthError("invalid or revoked API key")
    return Principal(f"apikey:{stored.prefix}", stored.scopes, "apikey")


class KeyCache:
    """Recently verified API keys (by their hash, never the key itself), so a busy client costs one database
    lookup per `ttl` seconds instead of one per request. A revoked key is refused within `ttl` seconds."""

    def __init__(self, ttl: float = 5.0, max_entries: int = 1000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}

    async def principal(self, pool: asyncpg.Pool, key: str) -> Principal:
        digest = apikeys.hash_key(key)
        now = time.monotonic()
        hit = self._entries.get(digest) if self.ttl > 0 else None
        if hit is not None and hit[0] > now:
            return hit[1]
        principal = await authenticate_key(pool, key)
        if len(self._entries) >= self.max_entries:
            self._entries = {d: e for d, e in self._entries.items() if e[0] > now}
        if len(self._entries) < self.max_entries:
            self._entries[digest] = (now + self.ttl, principal)
        return principal


def authenticate_jwt(token: str, secret: str | None) -> Principal:
    """A Supabase access token (HS256, audience 'authenticated') or the project's service-role key."""
    if secret is None:
        raise AuthError("bearer tokens are not accepted here (SUPABASE_JWT_SECRET is not set); use an API key")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], leeway=JWT_LEEWAY_SECONDS,
                            options={"require": ["exp"], "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise AuthError("token expired") from None
    except jwt.InvalidTokenError:
        raise AuthError("invalid token") from None
    role = claims.get("role")
    if role == "service_role":
        return Principal("service_role", ADMIN_SCOPES, "jwt")
    if role != "authenticated":
        raise AuthError("token role must be authenticated or service_role")
    audience = claims.get("aud")
    if "authenticated" not in (audience if isinstance(audience, list) else [audience]):
        raise AuthError("token audience must be authenticated")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthError("token has no subject")
    app_metadata = claims.get("app_metadata")
    admin = isinstance(app_metadata, dict) and app_metadata.get("role") == "admin"
    return Principal(subject, USER_SCOPES | ADMIN_SCOPES if admin else USER_SCOPES, "jwt")


def _detail(status: int, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"detail": detail}, status=status, headers=headers)


def _is_public(request: web.Request) -> bool:
    return request.method == "OPTIONS" or request.path in PUBLIC_PATHS or request.path.startswith(PUBLIC_PREFIXES)


Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def auth_middleware(pool: asyncpg.Pool, settings: Settings) -> Middleware:
    """The aiohttp middleware: sets request[PRINCIPAL] or answers 401/429.
    Place it inside the error and CORS middlewares, so its answers get CORS headers."""
    required = auth_required(settings)
    secret = settings.supabase_jwt_secret.get_secret_value() if settings.supabase_jwt_secret else None
    limiter = RateLimiter(settings.api_rate_limit_per_minute) if settings.api_rate_limit_per_minute else None
    failures = RateLimiter(FAILED_AUTH_PER_MINUTE) if settings.api_rate_limit_per_minute else None
    keys = KeyCache(settings.api_key_cache_seconds)
    if not required:
        log.warning("api.auth_off", setting=settings.api_auth,
                    hint="every request acts as admin; set BENCHSIGHT_API_AUTH=required to check credentials")

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not required:
            return await _as(request, LOCAL_ADMIN, handler)
        if _is_public(request):
            return await _as(request, ANONYMOUS, handler)
        remote = request.remote or "unknown"
        try:
            credential = _credential(request)
            if credential is None:
                raise AuthError("authentication required: send 'Authorization: Bearer <API key or token>'",
                                missing=True)
            if failures is not None and (wait := failures.wait(remote)) > 0:
                log.info("api.auth_rate_limited", remote=remote, path=request.path, retry_after=wait)
                return _detail(429, f"too many wrong credentials from this address (at most "
                                    f"{FAILED_AUTH_PER_MINUTE} a minute); retry later",
                               {"Retry-After": str(max(1, math.ceil(wait)))})
            if apikeys.looks_like_key(credential):
                principal = await keys.principal(pool, credential)
            else:
                principal = authenticate_jwt(credential, secret)
        except AuthError as exc:
            if failures is not None and not exc.missing:
                failures.take(remote)
            log.info("api.auth_rejected", method=request.method, path=request.path, reason=str(exc),
                     remote=remote)
            challenge = 'Bearer realm="benchsight"' + ("" if exc.missing else ', error="invalid_token"')
            return _detail(401, str(exc), {"WWW-Authenticate": challenge})
        if limiter is not None:
            wait = limiter.take(principal.subject)
            if wait > 0:
                log.info("api.rate_limited", subject=principal.subject, path=request.path, retry_after=wait)
                return _detail(429, f"rate limit of {settings.api_rate_limit_per_minute} requests a minute "
                                    "reached; retry later", {"Retry-After": str(max(1, math.ceil(wait)))})
        return await _as(request, principal, handler)

    return authenticate


async def _as(request: web.Request, principal: Principal, handler: Handler) -> web.StreamResponse:
    request[PRINCIPAL] = principal
    token = CURRENT_PRINCIPAL.set(principal)
    try:
        return await handler(request)
    finally:
        CURRENT_PRINCIPAL.reset(token)


def _json_error(status: type[web.HTTPException], detail: str,
                headers: dict[str, str] | None = None) -> web.HTTPException:
    return status(text=json.dumps({"detail": detail}), content_type="application/json", headers=headers)


def require_scope(request: web.Request, scope: str) -> Principal:
    """The request's principal when it holds `scope`; else 403 (401 when the auth middleware did not run,
    so a route forgotten by the middleware fails closed)."""
    principal = request.get(PRINCIPAL)
    if principal is None:
        raise _json_error(web.HTTPUnauthorized, "authentication required",
                          {"WWW-Authenticate": 'Bearer realm="benchsight"'})
    if not principal.allows(scope):
        have = ", ".join(sorted(principal.scopes)) or "none"
        raise _json_error(web.HTTPForbidden, f"this needs the scope {scope}; the caller has: {have}")
    return principal
