"""The daemon's loop, top to bottom: wake, claim up to the free slots, run each job as a task, heartbeat the
leases, stop cancelled jobs, record outcomes in batches, and on stop give unfinished leases back.

Feeds (daemon/feeds.py) only wake us; the claim (SQL claim_jobs) decides what runs. Completions are
batched into one finish_jobs call per flush, which is what lets one daemon drain thousands of small jobs a
second while each job keeps its own outcome and history row.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from pydantic import BaseModel, ValidationError

from daemon import queries
from daemon.config import Settings
from daemon.context import JobContext
from daemon.feeds import Feed
from daemon.registry import HandlerSpec, PermanentJobError

log = structlog.get_logger()


@dataclass
class Outcome:
    job_id: UUID
    status: str  # completed | failed | cancelled
    result: Any = None
    error: str | None = None
    retry: bool = True


@dataclass
class Running:
    job: asyncpg.Record
    task: asyncio.Task
    stop_reason: str | None = None  # cancel | lost | shutdown


class Dispatcher:
    def __init__(self, pool: asyncpg.Pool, settings: Settings, handlers: dict[str, HandlerSpec],
                 feeds: list[Feed]) -> None:
        self.pool = pool
        self.settings = settings
        self.handlers = handlers
        self.feeds = feeds
        self.worker = settings.worker_id
        self.limits = {kind: limit for kind, spec in handlers.items() if (limit := settings.kind_concurrency.get(
            kind, spec.concurrency)) is not None}
        self.running: dict[UUID, Running] = {}
        self.running_by_kind: Counter[str] = Counter()
        self.ready = asyncio.Event()  # set once feeds and helpers are up (for tests and systemd)
        self.stats = Counter()
        self._wakeup = asyncio.Event()
        self._outcomes: list[Outcome] = []
        self._outcomes_ready = asyncio.Event()
        self._maybe_more = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._loop_ticks = 0

    # ---- the story ------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until stop is set, then drain: running jobs get the grace period, the rest are released."""
        log.info("daemon.started", worker=self.worker, kinds=sorted(self.handlers), feeds=[f.name for f in self.feeds])
        await queries.worker_seen(self.pool, self.worker, self._worker_info())
        helpers = [asyncio.create_task(coro) for coro in (
            *(feed.run(self.wake) for feed in self.feeds),
            self._heartbeat_loop(), self._cancel_watch_loop(), self._flush_loop(),
        )]
        self.ready.set()
        self.wake()  # catch-up claim on start
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                await self._wait_for_wakeup(stopping)
                if stop.is_set():
                    break
                await self._claim_and_start()
        finally:
            stopping.cancel()
            await self._drain()
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self._flush_outcomes()
            log.info("daemon.stopped", worker=self.worker, **self.stats)

    def wake(self) -> None:
        """A hint that work may be waiting; safe to call from any feed callback."""
        self._wakeup.set()

    @property
    def loop_ticks(self) -> int:
        """Increments on every pass of the claim loop (the systemd watchdog watches it)."""
        return self._loop_ticks

    # ---- claiming -------------------------------------------------------------------------------------

    async def _wait_for_wakeup(self, stopping: asyncio.Task) -> None:
        waiter = asyncio.ensure_future(self._wakeup.wait())
        await asyncio.wait({waiter, stopping}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        self._wakeup.clear()
        self._loop_ticks += 1

    async def _claim_and_start(self) -> None:
        """Claim while there are free slots and the last claim came back full."""
        while True:
            free = self.settings.concurrency - len(self.running)
            if free <= 0:
                self._maybe_more = True
                return
            requests = self._claim_requests(free)
            if not requests:
                self._maybe_more = True
                return
            full = False
            for kinds, max_jobs in requests:
                try:
                    jobs = await queries.claim_jobs(self.pool, self.worker, kinds, max_jobs,
                                                    self.settings.lease_seconds)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("daemon.claim_failed", error=str(exc))
                    return  # the next wake-up (the sweep at the latest) tries again
                for job in jobs:
                    self._start(job)
                full = full or len(jobs) >= max_jobs
            self._maybe_more = full
            if not full:
                return
            await asyncio.sleep(0)  # let the jobs just started run (and free their slots) before claiming more

    def _claim_requests(self, free: int) -> list[tuple[list[str], int]]:
        """(kinds, max_jobs) per claim call: one call for the kinds without their own limit, one per limited
        kind that has room."""
        unlimited = [k for k in self.handlers if k not in self.limits]
        requests = [(unlimited, free)] if unlimited else []
        for kind, limit in self.limits.items():
            room = min(free, limit - self.running_by_kind[kind])
            if room > 0:
                requests.append(([kind], room))
        return requests

    def _start(self, job: asyncpg.Record) -> None:
        task = asyncio.create_task(self._run_job(job))
        self.running[job["id"]] = Running(job, task)
        self.running_by_kind[job["kind"]] += 1
        self._idle.clear()
        self.stats["claimed"] += 1
        log.info("job.claimed", job_id=str(job["id"]), kind=job["kind"], attempt=job["attempts"])

    # ---- running one job ------------------------------------------------------------------------------

    async def _run_job(self, job: asyncpg.Record) -> None:
        job_id, kind = job["id"], job["kind"]
        spec = self.handlers[kind]
        ctx = JobContext(job, pool=self.pool, settings=self.settings, worker=self.worker)
        outcome: Outcome | None = None
        try:
            params = spec.params.model_validate(_as_object(job["params"]))
        except ValidationError as exc:
            outcome = Outcome(job_id, "failed", error=f"invalid params: {_validation_text(exc)}", retry=False)
        else:
            outcome = await self._call_handler(spec, params, ctx, job_id)
        finally:
            entry = self.running.pop(job_id, None)
            self.running_by_kind[kind] -= 1
            if not self.running:
                self._idle.set()
            if self._maybe_more:
                self.wake()
        if outcome is not None:
            await ctx.flush()  # the last progress report is always written (no-op when nothing is pending)
            self._record(outcome, kind)
        elif entry is not None and entry.stop_reason == "shutdown":
            self.stats["released"] += 1

    async def _call_handler(self, spec: HandlerSpec, params: BaseModel, ctx: JobContext,
                            job_id: UUID) -> Outcome | None:
        try:
            result = await spec.run(params, ctx)
            return Outcome(job_id, "completed", result=_jsonable(result))
        except asyncio.CancelledError:
            reason = self.running[job_id].stop_reason if job_id in self.running else None
            if reason == "cancel":
                return Outcome(job_id, "cancelled", error="cancelled on request")
            if reason in ("lost", "shutdown"):
                return None  # not ours to finish: released on shutdown, or another daemon holds it now
            raise
        except PermanentJobError as exc:
            return Outcome(job_id, "failed", error=str(exc), retry=False)
        except Exception as exc:  # a crashed handler is a failed attempt, retried while attempts remain
            ctx.log.warning("job.handler_error", error=str(exc), exc_info=True)
            return Outcome(job_id, "failed", error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    def _stop(self, job_id: UUID, reason: str) -> None:
        entry = self.running.get(job_id)
        if entry is not None and entry.stop_reason is None:
            entry.stop_reason = reason
            entry.task.cancel()
            log.info("job.stopping", job_id=str(job_id), kind=entry.job["kind"], reason=reason)

    # ---- outcomes, batched ----------------------------------------------------------------------------

    def _record(self, outcome: Outcome, kind: str) -> None:
        self._outcomes.append(outcome)
        self._outcomes_ready.set()
        self.stats[outcome.status] += 1
        log.info("job.finished", job_id=str(outcome.job_id), kind=kind, status=outcome.status, error=outcome.error)

    async def _flush_loop(self) -> None:
        while True:
            await self._outcomes_ready.wait()
            await self._flush_outcomes()

    async def _flush_outcomes(self) -> None:
        self._outcomes_ready.clear()
        batch, self._outcomes = self._outcomes, []
        if not batch:
            return
        for attempt in range(5):
            try:
                await queries.finish_jobs(
                    self.pool, self.worker, [o.job_id for o in batch], [o.status for o in batch],
                    [o.result for o in batch], [o.error for o in batch], [o.retry for o in batch],
                )
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("daemon.finish_failed", error=str(exc), jobs=len(batch), attempt=attempt + 1)
                await asyncio.sleep(0.2 * 2**attempt)
        log.error("daemon.finish_gave_up", jobs=len(batch), hint="their leases expire and they are retried")

    # ---- leases and cancels ---------------------------------------------------------------------------

    async def _heartbeat_loop(self) -> None:
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                await queries.worker_seen(self.pool, self.worker, self._worker_info())
                ids = list(self.running)
                if not ids:
                    continue
                held = await queries.heartbeat_jobs(self.pool, self.worker, ids, self.settings.lease_seconds)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("daemon.heartbeat_failed", error=str(exc))
                continue
            for job_id in ids:
                if job_id not in held:
                    self._stop(job_id, "lost")
                elif held[job_id]:
                    self._stop(job_id, "cancel")

    async def _cancel_watch_loop(self) -> None:
        """Cancel requests reach running jobs within cancel_poll_seconds (one indexed query, only while busy)."""
        while True:
            await asyncio.sleep(self.settings.cancel_poll_seconds)
            if not self.running:
                continue
            try:
                for job_id in await queries.cancel_requested(self.pool, list(self.running)):
                    self._stop(job_id, "cancel")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("daemon.cancel_watch_failed", error=str(exc))

    # ---- stopping -------------------------------------------------------------------------------------

    async def _drain(self) -> None:
        """Give running jobs the grace period, then stop them and hand their leases back (not an attempt)."""
        if self.running:
            log.info("daemon.draining", running=len(self.running), grace=self.settings.shutdown_grace_seconds)
            try:
                await asyncio.wait_for(self._idle.wait(), timeout=self.settings.shutdown_grace_seconds)
            except TimeoutError:
                pass
        leftover = list(self.running)
        for job_id in leftover:
            self._stop(job_id, "shutdown")
        if leftover:
            await asyncio.gather(*(self.running[j].task for j in leftover if j in self.running),
                                 return_exceptions=True)
            try:
                released = await queries.release_jobs(self.pool, self.worker, leftover)
                log.info("daemon.released", jobs=released)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("daemon.release_failed", error=str(exc), hint="leases expire and jobs are retried")

    def _worker_info(self) -> dict:
        return {"kinds": sorted(self.handlers), "running": len(self.running), "concurrency": self.settings.concurrency}


def _as_object(params: Any) -> dict:
    if isinstance(params, str):
        params = json.loads(params)
    return params if isinstance(params, dict) else {}


def _jsonable(result: Any) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result


def _validation_text(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors())
