"""Running a daemon inside a test, and waiting for job outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from daemon import service
from daemon.config import Settings
from daemon.dispatcher import Dispatcher
from daemon.feeds import Feed
from daemon.registry import load_handlers


@asynccontextmanager
async def running_daemon(settings: Settings, *, feed_list: list[Feed] | None = None,
                         **overrides) -> AsyncIterator[Dispatcher]:
    """An in-process daemon on settings' database; stopped (gracefully) when the block ends. feed_list: exactly
    these wake-up feeds instead of the ones settings choose."""
    settings = settings.model_copy(update=overrides)
    url = settings.database_url
    async with service.open_pool(url, settings) as daemon_pool:
        if feed_list is None:
            dispatcher = await service.build_dispatcher(daemon_pool, url, settings)
        else:
            dispatcher = Dispatcher(daemon_pool, settings, load_handlers(), feed_list)
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.run(stop))
        await dispatcher.ready.wait()
        try:
            yield dispatcher
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=30)


async def wait_for_status(pool: asyncpg.Pool, job_id, statuses: set[str] | str, timeout: float = 10.0) -> asyncpg.Record:
    """Poll the job row until its status is one of statuses; fail the test on timeout."""
    wanted = {statuses} if isinstance(statuses, str) else statuses
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        row = await pool.fetchrow("select * from job_requests where id = $1", job_id)
        if row is not None and row["status"] in wanted:
            return row
        if loop.time() > deadline:
            raise AssertionError(f"job {job_id} still {row and row['status']} after {timeout}s, wanted {wanted}")
        await asyncio.sleep(0.02)
