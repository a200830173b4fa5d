"""Typed keys of what the application holds (aiohttp AppKey), shared by the route modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
from aiohttp import web

from daemon.config import Settings

if TYPE_CHECKING:
    from daemon.dispatcher import Dispatcher
    from daemon.http.sse import JobChanges

POOL = web.AppKey("pool", asyncpg.Pool)
SETTINGS = web.AppKey("settings", Settings)
DISPATCHER: web.AppKey["Dispatcher | None"] = web.AppKey("dispatcher")
CHANGES: web.AppKey["JobChanges"] = web.AppKey("changes")
SSE_HEARTBEAT = web.AppKey("sse_heartbeat", float)
