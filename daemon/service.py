"""Assembling a running service: the database (embedded or DATABASE_URL), migrations, the pool, the feeds and
the dispatcher, and the signals that stop them."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
import structlog

from daemon import database, feeds, migrations, retention, systemd, watch
from daemon.config import Settings
from daemon.dispatcher import Dispatcher
from daemon.registry import load_handlers

log = structlog.get_logger()


async def migrate(url: str, settings: Settings) -> list[str]:
    conn = await database.connect(url)
    try:
        return await migrations.migrate(conn, settings.migrations_dir)
    finally:
        await conn.close()


@asynccontextmanager
async def open_pool(url: str, settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    pool = await database.create_pool(url, settings.pool_size)
    try:
        yield pool
    finally:
        await pool.close()


def realtime_factory(settings: Settings) -> Callable[[], feeds.Feed] | None:
    """The Supabase Realtime feed when SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are set."""
    if not (settings.supabase_url and settings.supabase_service_role_key):
        return None
    try:
        from daemon.realtime_feed import RealtimeFeed
    except ImportError:
        return None
    return lambda: RealtimeFeed(settings.supabase_url, settings.supabase_service_role_key.get_secret_value())


async def build_dispatcher(pool: asyncpg.Pool, url: str, settings: Settings) -> Dispatcher:
    handlers = load_handlers()
    chosen = await feeds.choose_feeds(settings.feeds, url, sweep_seconds=settings.sweep_seconds,
                                      realtime_factory=realtime_factory(settings))
    return Dispatcher(pool, settings, handlers, chosen)


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def run_worker(settings: Settings, *, extra: Callable[[asyncpg.Pool, Dispatcher, str], Awaitable[None]] | None = None,
                     stop: asyncio.Event | None = None) -> None:
    """Migrate, then run the dispatcher until SIGTERM/SIGINT. `extra` runs beside it (the HTTP API), and so do
    the watch folder (BENCHSIGHT_WATCH) and the systemd notifier (READY=1, WATCHDOG=1, STOPPING=1)."""
    notifier = systemd.Notifier.from_settings(settings)
    notifier.notify("STATUS=connecting to the database and applying migrations")
    url = database.database_url(settings, service=True)
    applied = await migrate(url, settings)
    if applied:
        log.info("daemon.migrated", versions=applied)
    stop = stop or asyncio.Event()
    stop_on_signals(stop)
    async with open_pool(url, settings) as pool:
        dispatcher = await build_dispatcher(pool, url, settings)
        side = [asyncio.create_task(extra(pool, dispatcher, url))] if extra else []
        side.append(asyncio.create_task(systemd.supervise(notifier, dispatcher, stop,
                                                          interval=systemd.watchdog_interval(settings))))
        side.append(asyncio.create_task(retention.prune_loop(pool, settings, settings.worker_id)))
        if settings.watch:
            side.append(asyncio.create_task(watch.WatchFolder.from_settings(pool, settings, dispatcher.wake).run()))
        try:
            await dispatcher.run(stop)
        finally:
            for task in side:
                task.cancel()
            await asyncio.gather(*side, return_exceptions=True)
