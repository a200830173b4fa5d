"""What a handler gets besides its params: progress reporting (throttled, best effort), cancel state, the pool,
settings, and a way to run CPU-heavy work in a process that cancel can terminate.

Progress is best effort: a write that fails (the database restarting, a terminated connection, a lease taken
back) is logged and dropped, never raised into the handler, so it neither fails the attempt nor loses the
outcome. The job's outcome is what counts, and the dispatcher writes that one until it is stored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from daemon import processes, queries
from daemon.config import Settings

RUNNING_STATES = ("running", "processing", "uploading")
PROGRESS_WRITE_TIMEOUT_SECONDS = 5.0  # a progress write never holds a handler (or its outcome) longer


class JobContext:
    def __init__(
        self, job: asyncpg.Record, *, pool: asyncpg.Pool, settings: Settings, worker: str,
    ) -> None:
        self.job_id: UUID = job["id"]
        self.kind: str = job["kind"]
        self.attempt: int = job["attempts"]
        self.requested_by: str | None = job["requested_by"]
        self.pool = pool
        self.settings = settings
        self.worker = worker
        self.log = structlog.get_logger().bind(job_id=str(self.job_id), kind=self.kind)
        self.status = "running"
        self._interval = settings.progress_interval_seconds
        self._last_write = 0.0
        self._latest: tuple[str, int, str | None, str | None] | None = None
        self._flush_task: asyncio.Task | None = None
        self._write_lock = asyncio.Lock()
        self._reports: set[asyncio.Task] = set()  # reports from progress_callback, kept until written
        self._write_failing = False

    async def progress(
        self, pct: float, step: str | None = None, message: str | None = None, *, status: str | None = None
    ) -> None:
        """Report progress (0-100). Writes at most one row every progress_interval_seconds per job; the
        latest report is always written, at the latest one interval later or when the job ends."""
        if status is not None:
            if status not in RUNNING_STATES:
                raise ValueError(f"progress status must be one of {RUNNING_STATES}, not {status!r}")
            if status != self.status:
                self.log.info("job.status", status=status)
            self.status = status
        self._latest = (self.status, max(0, min(100, int(pct))), step, message)
        wait = self._last_write + self._interval - time.monotonic()
        if wait <= 0:
            await self._write()
        elif self._flush_task is None:
            self._flush_task = asyncio.create_task(self._write_later(wait))

    def progress_callback(self, start: float = 0.0, end: float = 100.0, status: str | None = None) -> Callable[[float, str], None]:
        """A synchronous (fraction, step) callback that maps 0..1 into start..end percent, for child processes
        and libraries that report fractions."""

        def report(fraction: float, step: str) -> None:
            pct = start + (end - start) * max(0.0, min(1.0, fraction))
            task = asyncio.get_running_loop().create_task(self.progress(pct, step, status=status))
            self._reports.add(task)
            task.add_done_callback(self._reports.discard)

        return report

    async def run_in_process(self, func: Callable[..., Any], *args: Any,
                             on_progress: Callable[[float, str], None] | None = None, **kwargs: Any) -> Any:
        """Run CPU-heavy work in a child process that is terminated when the job is cancelled."""
        return await processes.run_in_process(func, *args, on_progress=on_progress, **kwargs)

    async def flush(self) -> None:
        """Write the latest unwritten progress now (called by the dispatcher before the job ends); never
        raises."""
        if self._flush_task is not None:
            self._flush_task.cancel()
            await asyncio.gather(self._flush_task, return_exceptions=True)
            self._flush_task = None
        if self._latest is not None:
            await self._write()

    async def _write_later(self, wait: float) -> None:
        await asyncio.sleep(wait)
        self._flush_task = None
        await self._write()

    async def _write(self) -> None:
        async with self._write_lock:
            latest, self._latest = self._latest, None
            if latest is None:
                return
            self._last_write = time.monotonic()
            status, pct, step, message = latest
            try:
                async with asyncio.timeout(PROGRESS_WRITE_TIMEOUT_SECONDS):
                    await queries.report_progress(self.pool, self.job_id, self.worker, status, pct, step, message)
            except asyncio.CancelledError:
                if self._latest is None:  # cancelled mid-write: the report stays the latest for flush()
                    self._latest = latest
                raise
            except Exception as exc:  # best effort: the database restarting, a lease taken back, anything
                self._note_write_failure(exc)
            else:
                if self._write_failing:
                    self.log.info("job.progress_written_again")
                    self._write_failing = False

    def _note_write_failure(self, exc: Exception) -> None:
        """One warning per run of failures (a database restart would otherwise log every report)."""
        if not self._write_failing:
            self.log.warning("job.progress_not_written", error=f"{type(exc).__name__}: {exc}",
                             hint="progress is best effort; the job goes on")
            self._write_failing = True
