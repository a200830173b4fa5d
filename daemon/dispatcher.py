"""The daemon's loop, top to bottom: wake, claim up to the free slots, run each job as a task, heartbeat the
leases, stop cancelled jobs, record outcomes in batches, and on stop give unfinished leases back.

Feeds (daemon/feeds.py) only wake us; the claim (SQL claim_jobs) decides what runs. Completions are
batched into one finish_jobs call per flush, which is what lets one daemon drain thousands of small jobs a
second while each job keeps its own outcome and history row.

Every background duty (feeds, heartbeat, cancel watch, lease watch, outcome flush) is a small named loop that
survives any exception per pass (logged, then backed off), and is supervised: a duty that ends anyway stops the
daemon with HelperDied (a non-zero exit), so systemd restarts it instead of leaving a zombie that claims jobs
it can no longer finish. A job runs at most once at a time in a daemon, and never past its own lease.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
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

# What a lost or restarting database raises; logged without a traceback. Anything else is logged with one.
CONNECTION_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
DEAD_CONNECTION_ERRORS = (asyncpg.ConnectionDoesNotExistError, asyncpg.InternalClientError)
LEASE_MARGIN_SECONDS = 0.5  # a job is stopped this long (plus one lease-watch pass) before its lease ends
EXIT_FLUSH_SECONDS = 5.0  # how long a stopping daemon keeps trying to write its last outcomes


class HelperDied(RuntimeError):
    """A supervised background duty ended; the daemon stopped so that its supervisor restarts it."""


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
    lease_ends: float  # loop time by which our lease has surely ended unless renewed
    task: asyncio.Task | None = None
    stop_reason: str | None = None  # cancel | lost | shutdown


@dataclass
class _Supervision:
    helpers: list[asyncio.Task] = field(default_factory=list)
    stopping: bool = False
    dead: str | None = None  # "<duty>: <why it ended>"


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
        self._waiting: dict[UUID, float] = {}  # job id -> when its outcome was recorded, until it is written
        self._maybe_more = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._loop_ticks = 0
        self._claim_failures = 0
        self._supervision = _Supervision()

    # ---- the story ------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run until stop is set, then drain: running jobs get the grace period, the rest are released.
        Raises HelperDied (after draining) when a background duty ended on its own."""
        log.info("daemon.started", worker=self.worker, kinds=sorted(self.handlers), feeds=[f.name for f in self.feeds])
        await queries.worker_seen(self.pool, self.worker, self._worker_info())
        self._start_helpers()
        self.ready.set()
        self.wake()  # catch-up claim on start
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set() and self._supervision.dead is None:
                await self._wait_for_wakeup(stopping)
                if stop.is_set() or self._supervision.dead is not None:
                    break
                await self._claim_safely()
        finally:
            stopping.cancel()
            await self._drain()
            await self._stop_helpers()
            await self._flush_before_exit()
            log.info("daemon.stopped", worker=self.worker, **self.stats)
        if self._supervision.dead is not None:
            raise HelperDied(f"daemon {self.worker} stopped: background duty {self._supervision.dead}")

    def wake(self) -> None:
        """A hint that work may be waiting; safe to call from any feed callback."""
        self._wakeup.set()

    @property
    def loop_ticks(self) -> int:
        """Increments on every pass of the claim loop (the systemd watchdog watches it)."""
        return self._loop_ticks

    def problem(self) -> str | None:
        """Why this daemon is not healthy, or None: a background duty died, or outcomes wait unwritten longer
        than a lease (the flush is failing, so jobs would run again). The watchdog and /api/health use it."""
        if self._supervision.dead is not None:
            return f"background duty {self._supervision.dead}"
        waiting, oldest = self.outcome_backlog()
        if oldest > self.settings.lease_seconds:
            return f"{waiting} job outcome(s) not written to the database for {oldest:.0f} s"
        return None

    def outcome_backlog(self) -> tuple[int, float]:
        """(outcomes recorded but not yet written, seconds the oldest of them has waited)."""
        if not self._waiting:
            return 0, 0.0
        return len(self._waiting), time.monotonic() - min(self._waiting.values())

    # ---- background duties, supervised ----------------------------------------------------------------

    def _start_helpers(self) -> None:
        duties: dict[str, Awaitable[None]] = {f"feed {feed.name}": self._keep_feed(feed) for feed in self.feeds}
        duties["heartbeat"] = self._loop("heartbeat", self._heartbeat, every=self.settings.lease_seconds / 3)
        duties["cancel watch"] = self._loop("cancel watch", self._watch_cancels,
                                            every=self.settings.cancel_poll_seconds)
        duties["lease watch"] = self._loop("lease watch", self._expire_own_leases,
                                           every=self.settings.cancel_poll_seconds)
        duties["outcome flush"] = self._loop("outcome flush", self._flush_when_ready)
        for name, duty in duties.items():
            task = asyncio.create_task(duty, name=name)
            task.add_done_callback(self._helper_ended)
            self._supervision.helpers.append(task)

    def _helper_ended(self, task: asyncio.Task) -> None:
        if self._supervision.stopping:
            return
        why = "cancelled" if task.cancelled() else repr(task.exception()) if task.exception() else "returned"
        log.error("daemon.helper_died", helper=task.get_name(), error=why,
                  hint="the daemon stops; its supervisor (systemd) restarts it")
        if self._supervision.dead is None:
            self._supervision.dead = f"{task.get_name()!r} ended ({why})"
        self.wake()

    async def _stop_helpers(self) -> None:
        self._supervision.stopping = True
        for task in self._supervision.helpers:
            task.cancel()
        await asyncio.gather(*self._supervision.helpers, return_exceptions=True)

    async def _loop(self, name: str, step: Callable[[], Awaitable[None]], *, every: float = 0.0) -> None:
        """Run step() every `every` seconds, forever. An exception ends only that pass: it is logged and the
        next pass comes after a growing pause (at most `every`, or 1 s for event-driven steps)."""
        failures, pause = 0, every
        while True:
            await asyncio.sleep(pause)
            try:
                await step()
                failures, pause = 0, every
            except Exception as exc:
                failures += 1
                _log_failure(f"daemon.{name.replace(' ', '_')}_failed", exc, failures=failures)
                pause = self._pause_after(exc, failures, cap=max(every, 1.0))

    async def _keep_feed(self, feed: Feed) -> None:
        """Run a feed; one that raises or returns is restarted after a backoff, then we catch up once."""
        failures = 0
        while True:
            began = time.monotonic()
            try:
                await feed.run(self.wake)
                log.warning("feed.ended", feed=feed.name)
            except Exception as exc:
                _log_failure("feed.failed", exc, feed=feed.name)
            failures = 1 if time.monotonic() - began > 60 else failures + 1
            await asyncio.sleep(_backoff(failures, cap=10.0))
            self.wake()

    # ---- claiming -------------------------------------------------------------------------------------

    async def _wait_for_wakeup(self, stopping: asyncio.Task) -> None:
        waiter = asyncio.ensure_future(self._wakeup.wait())
        await asyncio.wait({waiter, stopping}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        self._wakeup.clear()
        self._loop_ticks += 1

    async def _claim_safely(self) -> None:
        """One claim pass; a failed one (the database restarting, a terminated connection, anything) is
        logged and tried again after a short backoff, without waiting for the next feed hint."""
        try:
            await self._claim_and_start()
            self._claim_failures = 0
        except Exception as exc:
            self._claim_failures += 1
            _log_failure("daemon.claim_failed", exc, failures=self._claim_failures)
            asyncio.get_running_loop().call_later(self._pause_after(exc, self._claim_failures, cap=2.0), self.wake)

    def _pause_after(self, exc: Exception, failures: int, *, cap: float) -> float:
        """How long to wait before the next try. A pooled connection that the server closed while idle (a
        terminated backend, a restart) fails on its next use: the next try gets another connection, so up to
        a pool's worth of such failures are retried at once; anything else backs off."""
        if isinstance(exc, DEAD_CONNECTION_ERRORS) and failures <= self.settings.pool_size:
            return 0.01
        return _backoff(failures, cap=cap)

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
                sent = asyncio.get_running_loop().time()
                jobs = await queries.claim_jobs(self.pool, self.worker, kinds, max_jobs, self.settings.lease_seconds)
                for job in jobs:
                    self._start(job, lease_ends=sent + self.settings.lease_seconds)
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

    def _start(self, job: asyncpg.Record, *, lease_ends: float) -> None:
        """Start a claimed job, unless this daemon still holds a copy of it: when our loop stalled past the
        lease, our own claim can take back a job we are running (or whose outcome waits to be written)."""
        job_id = job["id"]
        previous = self.running.get(job_id)
        if job_id in self._waiting or (previous is not None and previous.stop_reason is None):
            if previous is not None:
                previous.job, previous.lease_ends = job, lease_ends
            log.warning("job.reclaimed_by_its_runner", job_id=str(job_id), kind=job["kind"], attempt=job["attempts"],
                        hint="our lease expired (event loop stalled?); the copy we hold goes on, none is started")
            return
        entry = Running(job, lease_ends)
        # a copy being stopped still unwinds: the new one starts when it has ended
        entry.task = asyncio.create_task(self._run_job(entry, after=previous.task if previous else None))
        self.running[job_id] = entry
        self.running_by_kind[job["kind"]] += 1
        self._idle.clear()
        self.stats["claimed"] += 1
        log.info("job.claimed", job_id=str(job_id), kind=job["kind"], attempt=job["attempts"])

    # ---- running one job ------------------------------------------------------------------------------

    async def _run_job(self, entry: Running, after: asyncio.Task | None = None) -> None:
        job = entry.job
        job_id, kind = job["id"], job["kind"]
        spec = self.handlers[kind]
        ctx = JobContext(job, pool=self.pool, settings=self.settings, worker=self.worker)
        outcome: Outcome | None = None
        try:
            params = spec.params.model_validate(_as_object(job["params"]))
        except ValidationError as exc:
            outcome = Outcome(job_id, "failed", error=f"invalid params: {_validation_text(exc)}", retry=False)
        else:
            outcome = await self._call_handler(spec, params, ctx, entry, after)
        finally:
            if self.running.get(job_id) is entry:
                del self.running[job_id]
            self.running_by_kind[kind] -= 1
            if not self.running:
                self._idle.set()
            if self._maybe_more:
                self.wake()
        if outcome is not None:
            await ctx.flush()  # the last progress report, best effort (never raises)
            self._record(outcome, kind)
        elif entry.stop_reason == "shutdown":
            self.stats["released"] += 1

    async def _call_handler(self, spec: HandlerSpec, params: BaseModel, ctx: JobContext,
                            entry: Running, after: asyncio.Task | None) -> Outcome | None:
        job_id = entry.job["id"]
        try:
            if after is not None:
                await asyncio.wait([after])
            result = _jsonable(await spec.run(params, ctx))
            json.dumps(result)  # a result the database cannot store fails the job here, not the whole flush
            return Outcome(job_id, "completed", result=result)
        except asyncio.CancelledError:
            if entry.stop_reason == "cancel":
                return Outcome(job_id, "cancelled", error="cancelled on request")
            if entry.stop_reason in ("lost", "shutdown"):
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
        self._waiting.setdefault(outcome.job_id, time.monotonic())
        self._outcomes_ready.set()
        self.stats[outcome.status] += 1
        log.info("job.finished", job_id=str(outcome.job_id), kind=kind, status=outcome.status, error=outcome.error)

    async def _flush_when_ready(self) -> None:
        await self._outcomes_ready.wait()
        await self._flush_outcomes()

    async def _flush_outcomes(self) -> None:
        """Write the recorded outcomes in one finish_jobs call. On any failure they are kept for the next
        pass (an outcome is never dropped while the daemon runs; their leases are heartbeated meanwhile)."""
        self._outcomes_ready.clear()
        batch, self._outcomes = self._outcomes, []
        if not batch:
            return
        try:
            await self._finish(batch)
        except BaseException:
            self._outcomes[:0] = batch
            self._outcomes_ready.set()
            raise
        for outcome in batch:
            self._waiting.pop(outcome.job_id, None)

    async def _finish(self, batch: list[Outcome]) -> None:
        try:
            await queries.finish_jobs(
                self.pool, self.worker, [o.job_id for o in batch], [o.status for o in batch],
                [o.result for o in batch], [o.error for o in batch], [o.retry for o in batch],
            )
        except asyncpg.DataError:  # one outcome the database refuses (a NUL in a result): write the others
            if len(batch) == 1:
                [o] = batch
                if o.result is None and o.error is None:
                    raise
                log.error("job.outcome_refused", job_id=str(o.job_id), status=o.status, exc_info=True)
                await self._finish([Outcome(o.job_id, "failed", error="the job's result or error could not be "
                                            "stored (invalid characters)", retry=False)])
                return
            for outcome in batch:
                await self._finish([outcome])

    async def _flush_before_exit(self) -> None:
        deadline = time.monotonic() + EXIT_FLUSH_SECONDS
        failures = 0
        while self._outcomes:
            try:
                await self._flush_outcomes()
            except Exception as exc:
                failures += 1
                _log_failure("daemon.finish_failed", exc, failures=failures)
                if time.monotonic() > deadline:
                    log.error("daemon.finish_gave_up", jobs=len(self._outcomes),
                              hint="their leases expire and they are retried")
                    return
                await asyncio.sleep(_backoff(failures, cap=1.0))

    # ---- leases and cancels ---------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        """Extend the leases of the jobs we run and of those whose outcome waits to be written; a job whose
        lease was taken back is stopped, and one whose cancel was asked for is cancelled."""
        ids = list(dict.fromkeys([*self.running, *self._waiting]))
        if ids:
            sent = asyncio.get_running_loop().time()
            held = await queries.heartbeat_jobs(self.pool, self.worker, ids, self.settings.lease_seconds)
            for job_id in ids:
                entry = self.running.get(job_id)
                if entry is None:
                    continue
                if job_id not in held:
                    self._stop(job_id, "lost")
                elif held[job_id]:
                    self._stop(job_id, "cancel")
                else:
                    entry.lease_ends = max(entry.lease_ends, sent + self.settings.lease_seconds)
        await queries.worker_seen(self.pool, self.worker, self._worker_info())

    async def _watch_cancels(self) -> None:
        """Cancel requests reach running jobs within cancel_poll_seconds (one indexed query, only while busy)."""
        if self.running:
            for job_id in await queries.cancel_requested(self.pool, list(self.running)):
                self._stop(job_id, "cancel")

    async def _expire_own_leases(self) -> None:
        """Stop a job whose lease ends before we could renew it (the database is unreachable, or our loop
        stalled): from then on another daemon may take it, and a job must never run twice at once."""
        horizon = asyncio.get_running_loop().time() + self.settings.cancel_poll_seconds + LEASE_MARGIN_SECONDS
        for job_id, entry in list(self.running.items()):
            if entry.lease_ends <= horizon:
                self._stop(job_id, "lost")

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
            except CONNECTION_ERRORS as exc:
                log.warning("daemon.release_failed", error=str(exc), hint="leases expire and jobs are retried")

    def _worker_info(self) -> dict:
        return {"kinds": sorted(self.handlers), "running": len(self.running), "concurrency": self.settings.concurrency}


def _backoff(failures: int, *, cap: float) -> float:
    return min(cap, 0.1 * 2 ** failures)


def _log_failure(event: str, exc: Exception, **fields: Any) -> None:
    """A connection error is expected while the database restarts (a warning); anything else is a bug or an
    unforeseen fault, logged with its traceback."""
    if isinstance(exc, CONNECTION_ERRORS):
        log.warning(event, error=f"{type(exc).__name__}: {exc}", **fields)
    else:
        log.error(event, error=f"{type(exc).__name__}: {exc}", exc_info=exc, **fields)


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
