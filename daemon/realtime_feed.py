"""The Supabase Realtime feed: postgres_changes INSERTs on public.job_requests wake the dispatcher, for hosts
where LISTEN is not available (Supabase's transaction pooler drops it; direct connections can be IPv6-only).

A message is only a wake-up: the claim stays the truth, and the sweep stays on behind this feed. What the
`realtime` 2.34.1 client does, and how this feed copes (each checked against tests/realtime_standin.py):

- An exception in a change callback ends the client's listen task silently (the socket and heartbeats go on,
  nothing more arrives), and an `async def` callback is never awaited. So the callbacks here are synchronous,
  catch everything and only put_nowait() into this session's queue; the feed's own loop does the rest.
- After max_retries failed reconnects (1, 2, 4, 8 s apart by default) the client gives up for good inside
  its background task. The feed checks every check_seconds: the client's listen task ended, no SUBSCRIBED for
  resubscribe_seconds, or an unanswered websocket ping; then it closes that client and builds a new client
  and channel, with its own backoff.
- Changes made while disconnected are never replayed, and SUBSCRIBED (the join reply) can come 1-3 s before
  the server streams changes. So the feed wakes the dispatcher for a catch-up claim on every SUBSCRIBED, on
  the "Subscribed to PostgreSQL" system message, and once more settle_seconds after SUBSCRIBED.
- Frames the client cannot validate are dropped with an error log; rows over 1 MiB close the connection
  (the client then reconnects and the feed catches up). Keep job rows small.

The service role key travels in the websocket URL (apikey=...): it is redacted from everything logged here,
and from the handshake line websockets logs at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from realtime import AsyncRealtimeClient, RealtimeSubscribeStates

from daemon.feeds import Wake

log = structlog.get_logger()

_APIKEY = re.compile(r"(apikey=)[^&\s'\"]+", re.IGNORECASE)


class _RedactApikey(logging.Filter):
    """websockets logs the handshake request line at DEBUG, apikey and all: redact it before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "apikey=" in message.lower():
            record.msg, record.args = _APIKEY.sub(r"\1***", message), ()
        return True


_REDACT = _RedactApikey()
_CLIENT_LOGGERS = ("websockets.client", "realtime._async.client", "realtime._async.channel")


class RealtimeFeed:
    """Wakes on postgres_changes INSERT of schema.table; rebuilds its client whenever that client is dead.

    Tuning (defaults suit production; tests shorten them): every check_seconds the feed checks the client and
    pings its socket (ping_timeout); resubscribe_seconds without SUBSCRIBED means a new client; settle_seconds
    after SUBSCRIBED comes one more catch-up wake; rebuilds wait rebuild_backoff, doubling up to
    max_rebuild_backoff while new clients fail to subscribe. client_max_retries, client_initial_backoff,
    join_timeout and heartbeat_seconds go to AsyncRealtimeClient (max_retries, initial_backoff, timeout,
    hb_interval; it never heartbeats more often than every 15 s).
    """

    name = "realtime"

    def __init__(self, supabase_url: str, service_role_key: str, *, schema: str = "public",
                 table: str = "job_requests", topic: str = "benchsight-job-requests",
                 check_seconds: float = 5.0, resubscribe_seconds: float = 30.0, settle_seconds: float = 3.0,
                 ping_timeout: float = 10.0, rebuild_backoff: float = 1.0, max_rebuild_backoff: float = 30.0,
                 client_max_retries: int = 5, client_initial_backoff: float = 1.0, join_timeout: int = 10,
                 heartbeat_seconds: int = 25) -> None:
        base = supabase_url.rstrip("/")
        self.realtime_url = base if base.endswith("/realtime/v1") else f"{base}/realtime/v1"
        self._key = service_role_key
        self.schema, self.table, self.topic = schema, table, topic
        self.check_seconds = check_seconds
        self.resubscribe_seconds = resubscribe_seconds
        self.settle_seconds = settle_seconds
        self.ping_timeout = ping_timeout
        self.rebuild_backoff = rebuild_backoff
        self.max_rebuild_backoff = max_rebuild_backoff
        self.client_options = {"max_retries": client_max_retries, "initial_backoff": client_initial_backoff,
                               "timeout": join_timeout, "hb_interval": heartbeat_seconds}
        for name in _CLIENT_LOGGERS:  # a filter on a logger sees only that logger's own records
            logging.getLogger(name).addFilter(_REDACT)  # (adding the same filter twice is a no-op)
        self.state = "idle"  # connecting | subscribed | streaming | error | rebuilding
        self.stats: Counter[str] = Counter()  # sessions, subscribed, streaming, changes, errors, rebuilds, wakes

    async def run(self, wake: Wake) -> None:
        """One client session after another: a session ends when its client is dead, then a new one is built
        after a backoff that doubles while sessions fail to subscribe."""
        backoff = self.rebuild_backoff
        while True:
            reason, subscribed = await self._session(wake)
            backoff = self.rebuild_backoff if subscribed else min(backoff * 2, self.max_rebuild_backoff)
            self.stats["rebuilds"] += 1
            self._set_state("rebuilding", reason=reason, retry_in=backoff)
            await asyncio.sleep(backoff)

    # ---- one client -----------------------------------------------------------------------------------

    async def _session(self, wake: Wake) -> tuple[str, bool]:
        """Connect, subscribe and watch one client until it is dead; return why, and whether it subscribed."""
        self.stats["sessions"] += 1
        events: asyncio.Queue[tuple[str, tuple]] = asyncio.Queue(maxsize=1000)
        client = AsyncRealtimeClient(self.realtime_url, self._key, **self.client_options)
        watch = _Watch(since=asyncio.get_running_loop().time())
        self._set_state("connecting", url=self.realtime_url, session=self.stats["sessions"])
        try:
            await client.connect()
            channel = client.channel(self.topic)
            channel.on_postgres_changes("INSERT", _enqueue(events, "change"), table=self.table, schema=self.schema)
            channel.on_system(_enqueue(events, "system"))
            await channel.subscribe(_enqueue(events, "state"))
            while True:
                try:
                    kind, args = await asyncio.wait_for(events.get(), timeout=self.check_seconds)
                    if (reason := self._on_event(kind, args, watch, wake)) is not None:
                        return reason, watch.subscribed
                except TimeoutError:
                    pass
                if (reason := self._dead(client, watch) or await self._probe(client, watch)) is not None:
                    return reason, watch.subscribed
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # connect gave up, or the client failed in a way we did not foresee
            self.stats["errors"] += 1
            self._set_state("error", error=self._redact(f"{type(exc).__name__}: {exc}"))
            return f"client failed: {type(exc).__name__}", watch.subscribed
        finally:
            if watch.settle:
                watch.settle.cancel()
            await _close(client)

    def _on_event(self, kind: str, args: tuple, watch: _Watch, wake: Wake) -> str | None:
        """Act on one callback from the client; return a reason when the session is over."""
        loop = asyncio.get_running_loop()
        if kind == "change":
            self.stats["changes"] += 1
            self._wake(wake)
        elif kind == "state" and args[0] == RealtimeSubscribeStates.SUBSCRIBED:
            watch.since = None
            self.stats["subscribed"] += 1
            self._set_state("subscribed", session=self.stats["sessions"])
            if self.stats["sessions"] > 1 and not watch.subscribed:
                log.info("feed.realtime.rebuilt", session=self.stats["sessions"], rebuilds=self.stats["rebuilds"])
            watch.subscribed = True
            self._wake(wake)  # catch up on what happened while we were not subscribed
            if watch.settle:
                watch.settle.cancel()
            watch.settle = loop.call_later(self.settle_seconds, self._wake, wake)
        elif kind == "state":
            status, error = args
            watch.since = watch.since or loop.time()
            self.stats["errors"] += 1
            self._set_state("error", status=str(status.value), error=self._redact(error))
            if status == RealtimeSubscribeStates.CLOSED:
                return "channel closed by the server"  # the client forgets a closed channel: never rejoined
        elif kind == "system" and getattr(args[0], "extension", None) == "postgres_changes":
            self.stats["streaming"] += 1
            self._set_state("streaming", message=str(getattr(args[0], "message", "")))
            self._wake(wake)  # the server streams from now on: catch up on the 1-3 s before
        return None

    def _dead(self, client: AsyncRealtimeClient, watch: _Watch) -> str | None:
        """Why this client will never deliver again, or None while it may."""
        listener = client._listen_task  # the client exposes no public liveness; this task is its receive loop
        if listener is not None and listener.done():
            return "client stopped listening" if client.is_connected else "client gave up reconnecting"
        if watch.since is not None and asyncio.get_running_loop().time() - watch.since > self.resubscribe_seconds:
            return f"no SUBSCRIBED for {self.resubscribe_seconds:g}s"
        return None

    async def _probe(self, client: AsyncRealtimeClient, watch: _Watch) -> str | None:
        """Websocket pings on the client's socket, one at a time and never waited for: a silently dead
        connection shows up as a pong missing after ping_timeout, long before the client's own keepalive
        (20 s + 20 s) would notice."""
        now = asyncio.get_running_loop().time()
        if watch.pong is not None:
            if not watch.pong.done():
                return f"websocket ping unanswered for {self.ping_timeout:g}s" if now > watch.pong_deadline else None
            if not watch.pong.cancelled():
                watch.pong.exception()  # a socket closed meanwhile is the client's to reconnect
            watch.pong = None
        ws = client._ws_connection  # the client exposes no ping of its own
        if ws is None or now < watch.next_ping:
            return None
        watch.next_ping = now + self.check_seconds
        try:
            watch.pong = await ws.ping()
            watch.pong_deadline = now + self.ping_timeout
        except Exception:
            pass  # closed: the client reconnects on its own
        return None

    # ---- small helpers --------------------------------------------------------------------------------

    def _wake(self, wake: Wake) -> None:
        self.stats["wakes"] += 1
        try:
            wake()
        except Exception as exc:
            log.error("feed.realtime.wake_failed", error=str(exc))

    def _set_state(self, state: str, **details: Any) -> None:
        self.state = state
        level = {"error": log.warning, "rebuilding": log.warning}.get(state, log.info)
        level(f"feed.realtime.{state}", **details)

    def _redact(self, value: object) -> str | None:
        if value is None:
            return None
        text = _APIKEY.sub(r"\1***", str(value))
        return text.replace(self._key, "***") if self._key else text


@dataclass
class _Watch:
    """What one session remembers between client callbacks."""

    since: float | None  # when the channel was last seen not subscribed; None while subscribed
    subscribed: bool = False  # reached SUBSCRIBED at least once
    settle: asyncio.TimerHandle | None = None  # the delayed catch-up wake after SUBSCRIBED
    pong: asyncio.Future | None = None  # the websocket ping in flight
    pong_deadline: float = 0.0
    next_ping: float = 0.0


def _enqueue(events: asyncio.Queue, kind: str) -> Callable[..., None]:
    """A client callback that cannot raise: an exception would end the client's listen task for good."""

    def callback(*args: Any) -> None:
        try:
            events.put_nowait((kind, args))
        except Exception:
            pass  # a full queue already holds wake-ups enough

    return callback


async def _close(client: AsyncRealtimeClient) -> None:
    """Close a client that may be half dead, and collect its background tasks' errors so asyncio does not
    report them as never retrieved. A close handshake on a dead socket would wait out its 10 s timeout, so a
    socket that has not closed within a second is aborted."""
    tasks = [t for t in (client._listen_task, client._heartbeat_task) if t is not None]
    ws = client._ws_connection
    closing = asyncio.ensure_future(client.close())
    done, _ = await asyncio.wait({closing}, timeout=1)
    if not done and ws is not None:
        ws.transport.abort()
        await asyncio.wait({closing}, timeout=1)
    for task in (closing, *tasks):
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.debug("feed.realtime.client_task_failed", error=type(task.exception()).__name__)
