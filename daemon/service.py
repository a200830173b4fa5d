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
from daemon.dispatcher import Dispatcher, HelperDied
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
    the watch folder (BENCHSIGHT_WATCH) and the systemd notifier (READY=1, WATCHDOG=1, STOPPING=1).

    Supervised: when any of these side tasks ends on its own (the API cannot bind its port, the watch folder
    crashed), or a dispatcher duty dies, the service stops gracefully and raises HelperDied (a non-zero exit),
    so systemd restarts it rather than leaving half a service running."""
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
        side = {"systemd notifier": systemd.supervise(notifier, dispatcher, stop,
                                                      interval=systemd.watchdog_interval(settings)),
                "pruner": retention.prune_loop(pool, settings, settings.worker_id)}
        if extra:
            side["http api"] = extra(pool, dispatcher, url)
        if settings.watch:
            side["watch folder"] = watch.WatchFolder.from_settings(pool, settings, dispatcher.wake).run()
        died: list[str] = []
        tasks = [_supervised(name, coro, stop, died) for name, coro in side.items()]
        try:
            await dispatcher.run(stop)
        finally:
            stop.set()  # from here on a side task ending is the shutdown, not a death
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if died:
            raise HelperDied(f"service stopped: {died[0]}")


def _supervised(name: str, coro: Awaitable[None], stop: asyncio.Event, died: list[str]) -> asyncio.Task:
    """A side task that ending on its own before stop is set stops the whole service."""

    def ended(task: asyncio.Task) -> None:
        if stop.is_set():
            return
        why = "cancelled" if task.cancelled() else repr(task.exception()) if task.exception() else "returned"
        log.error("service.helper_died", helper=name, error=why, hint="the service stops; systemd restarts it")
        died.append(f"{name!r} ended ({why})")
        stop.set()

    task = asyncio.create_task(coro, name=name)
    task.add_done_callback(ended)
    return task
