"""Wake-up feeds. A feed only hints that work may be waiting; the claim is the truth. Each feed calls wake()
on every hint and once after every (re)connect, so jobs inserted while it was away are caught up.

- listen:   LISTEN job_requests on a dedicated connection, re-established after any drop.
- sweep:    a wake-up every sweep_seconds, the safety net behind every other feed.
- realtime: Supabase Realtime postgres_changes (daemon/realtime_feed.py), for hosts without LISTEN.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

import asyncpg
import structlog

from daemon import database

log = structlog.get_logger()

Wake = Callable[[], None]
CHANNEL = "job_requests"


class Feed(Protocol):
    name: str

    async def run(self, wake: Wake) -> None:
        """Run until cancelled, calling wake() on each hint."""


class SweepFeed:
    name = "sweep"

    def __init__(self, interval: float) -> None:
        self.interval = interval

    async def run(self, wake: Wake) -> None:
        while True:
            await asyncio.sleep(self.interval)
            wake()


class Listener:
    """LISTEN on one channel on a dedicated connection, re-established after any drop. Drops are noticed by
    asyncpg's termination callback and by a liveness query every check_seconds (a silently dead TCP connection
    raises there); then it reconnects with backoff. on_connect(first) runs after every (re)connect, so the
    owner can catch up on what it missed. Used by the wake-up feed and by the API's live streams."""

    def __init__(self, url: str, channel: str, on_notify: Callable[[str], None],
                 on_connect: Callable[[bool], None] = lambda first: None, *, check_seconds: float = 10.0,
                 max_backoff: float = 10.0, on_disconnect: Callable[[], None] = lambda: None) -> None:
        self.url = url
        self.channel = channel
        self.on_notify = on_notify
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.check_seconds = check_seconds
        self.max_backoff = max_backoff
        self.connected = asyncio.Event()
        self.connection: asyncpg.Connection | None = None

    async def run(self) -> None:
        backoff, first = 0.2, True
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await database.connect(self.url)
                dropped = asyncio.Event()
                conn.add_termination_listener(lambda _c: dropped.set())
                await conn.add_listener(self.channel, lambda _c, _pid, _ch, payload: self.on_notify(payload))
                self.connection = conn
                self.connected.set()
                log.info("listen.subscribed", channel=self.channel)
                self.on_connect(first)
                first, backoff = False, 0.2
                while not dropped.is_set():
                    try:
                        await asyncio.wait_for(dropped.wait(), timeout=self.check_seconds)
                    except TimeoutError:
                        await asyncio.wait_for(conn.fetchval("select 1"), timeout=self.check_seconds)
                log.warning("listen.dropped", channel=self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any failure: log, back off, reconnect
                log.warning("listen.error", channel=self.channel, error=str(exc), retry_in=backoff)
            finally:
                self.connected.clear()
                self.connection = None
                self.on_disconnect()
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff)


class ListenFeed:
    """Wake-ups from LISTEN job_requests; every (re)connect wakes once to catch up."""

    name = "listen"

    def __init__(self, url: str, *, check_seconds: float = 10.0) -> None:
        self.url = url
        self.check_seconds = check_seconds
        self._listener: Listener | None = None
        self.connected = asyncio.Event()

    async def run(self, wake: Wake) -> None:
        self._listener = Listener(self.url, CHANNEL, lambda _payload: wake(), lambda _first: wake(),
                                  check_seconds=self.check_seconds)
        self._listener.connected = self.connected
        await self._listener.run()


async def listen_supported(url: str) -> bool:
    """Whether LISTEN works on this connection (Supabase's transaction pooler drops it)."""
    try:
        conn = await database.connect(url)
    except database.DatabaseUnavailable:
        return False
    try:
        await conn.execute(f"listen {CHANNEL}; unlisten {CHANNEL}")
        return True
    except asyncpg.PostgresError:
        return False
    finally:
        await conn.close()


async def choose_feeds(spec: str, url: str, *, sweep_seconds: float,
                       realtime_factory: Callable[[], Feed] | None = None) -> list[Feed]:
    """Feeds named in spec ('auto' or a comma list of realtime, listen, sweep). 'auto' is realtime when
    configured, listen when the database allows it, and always the sweep."""
    names = [n.strip() for n in spec.split(",") if n.strip()] if spec != "auto" else ["realtime", "listen", "sweep"]
    unknown = set(names) - {"realtime", "listen", "sweep"}
    if unknown:
        raise ValueError(f"BENCHSIGHT_FEEDS: unknown feed(s) {sorted(unknown)}; use realtime, listen, sweep or auto")
    feeds: list[Feed] = []
    if "realtime" in names and realtime_factory is not None:
        feeds.append(realtime_factory())
    elif "realtime" in names and spec != "auto":
        raise ValueError("BENCHSIGHT_FEEDS names realtime but SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY are not set")
    if "listen" in names:
        if await listen_supported(url):
            feeds.append(ListenFeed(url))
        elif spec != "auto":
            raise ValueError("BENCHSIGHT_FEEDS names listen but this database connection does not allow LISTEN")
        else:
            log.warning("feed.listen.unavailable", hint="LISTEN not allowed on this connection; relying on others")
    if "sweep" in names or spec == "auto":
        feeds.append(SweepFeed(sweep_seconds))
    return feeds
