"""Live job changes for browsers: one LISTEN job_changes connection per API process (the trigger in
20261129000400_job_change_notify.sql sends job_id, kind, status, progress, current_step, requested_by on
every change), fanned out to each Server-Sent Events client through its own asyncio queue.

A stream starts with a snapshot event (read after subscribing, so no change falls between the two), then one
`event: job` per change, and a comment line every heartbeat_seconds so proxies keep the connection open. When
LISTEN drops, the hub reconnects with backoff and tells every stream to send a fresh snapshot; a client too
slow to keep up gets a fresh snapshot instead of an ever-growing queue.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import structlog
from aiohttp import web

from daemon.feeds import Listener
from daemon.http.job_cache import JobCache
from daemon.http.errors import ApiError

log = structlog.get_logger()

CHANNEL = "job_changes"
QUEUE_LIMIT = 1000


@dataclass(eq=False)
class Subscription:
    """One stream's view: the changes of one job (job_id) or of all jobs (job_id None), optionally only one
    kind's and only one requester's (owner)."""

    job_id: str | None = None
    kind: str | None = None
    owner: str | None = None
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))

    def offer(self, message: tuple[str, dict | None]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:  # too slow: drop what is queued and let the stream send a fresh snapshot
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(("resync", None))


class JobChanges:
    """The LISTEN connection and its subscribers."""

    def __init__(self, url: str, *, check_seconds: float = 10.0, max_backoff: float = 10.0) -> None:
        self.url = url
        self.by_job: dict[str, set[Subscription]] = {}
        self.everything: set[Subscription] = set()
        self.cache = JobCache()
        self.listener = Listener(url, CHANNEL, self._on_notify, self._on_connect, check_seconds=check_seconds,
                                 max_backoff=max_backoff, on_disconnect=lambda: self.cache.reset(enabled=False))
        self.connected = self.listener.connected

    @property
    def connection(self) -> asyncpg.Connection | None:
        return self.listener.connection

    def subscribe(self, job_id: str | None = None, kind: str | None = None,
                  owner: str | None = None) -> Subscription:
        sub = Subscription(job_id, kind, owner)
        if job_id is None:
            self.everything.add(sub)
        else:
            self.by_job.setdefault(job_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub.job_id is None:
            self.everything.discard(sub)
        else:
            subs = self.by_job.get(sub.job_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self.by_job[sub.job_id]

    def close_all(self) -> None:
        """Ask every stream to end (the API is shutting down)."""
        for sub in [*self.everything, *(s for subs in self.by_job.values() for s in subs)]:
            sub.offer(("close", None))

    def _broadcast(self, message: tuple[str, dict | None]) -> None:
        for sub in [*self.everything, *(s for subs in self.by_job.values() for s in subs)]:
            sub.offer(message)

    def _on_notify(self, payload: str) -> None:
        try:
            change = json.loads(payload)
        except ValueError:
            log.warning("sse.bad_payload", payload=payload[:200])
            self.cache.reset(enabled=self.cache.enabled)
            return
        self.cache.invalidate(change.get("job_id"))
        for sub in self.everything:
            if (sub.kind is None or sub.kind == change.get("kind")) and (
                    sub.owner is None or sub.owner == change.get("requested_by")):
                sub.offer(("job", change))
        for sub in self.by_job.get(change.get("job_id"), ()):
            sub.offer(("job", change))

    async def run(self) -> None:
        """LISTEN until cancelled; after a reconnect every stream resyncs from a snapshot (changes made while
        the connection was down are not replayed)."""
        await self.listener.run()

    def _on_connect(self, first: bool) -> None:
        self.cache.reset(enabled=True)
        if not first:
            self._broadcast(("resync", None))


def _event(name: str, data: object) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def stream(request: web.Request, changes: JobChanges, sub: Subscription,
                 snapshot: Callable[[], Awaitable[dict]], *, ended: Callable[[dict], bool] | None = None,
                 heartbeat_seconds: float = 15.0, connect_timeout: float = 5.0) -> web.StreamResponse:
    """Serve one SSE client until it leaves, the job ends (ended(change) true) or the API stops.

    snapshot is an async callable returning {"data": <snapshot event data>, "final": <the job already
    ended>}; after a final snapshot the stream closes.
    """
    try:
        try:
            await asyncio.wait_for(changes.connected.wait(), timeout=connect_timeout)
        except TimeoutError:
            raise ApiError(503, "live updates are unavailable (cannot LISTEN on the database)") from None
        first = await snapshot()
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        await response.prepare(request)
        await response.write(b"retry: 2000\n\n" + _event("snapshot", first["data"]))
        if first.get("final"):
            return response
        while True:
            try:
                kind, change = await asyncio.wait_for(sub.queue.get(), timeout=heartbeat_seconds)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if kind == "close":
                break
            if kind == "resync":
                again = await snapshot()
                await response.write(_event("snapshot", again["data"]))
                if again.get("final"):
                    break
                continue
            await response.write(_event("job", change))
            if ended is not None and ended(change):
                break
        return response
    finally:
        changes.unsubscribe(sub)
