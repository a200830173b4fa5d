"""Retention: finished jobs and their history are deleted after their retention, a batch at a time, by one
daemon of many. What goes is defined in SQL (prunable_jobs in 20261201000600_retention.sql); this module only
calls it: prune_jobs() once per batch, each call its own short transaction, so claims never wait behind it.

The pruner is a small named loop of the daemon: it survives any exception per pass (logged, next pass later)
and runs a prune only when it holds the 'prune' lease row (prune_lease), so a second host skips the work
instead of repeating it or blocking on it.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import asyncpg
import structlog

from daemon.config import Settings

log = structlog.get_logger()


@dataclass(frozen=True)
class Retention:
    """How long finished jobs are kept; None keeps that class forever."""

    completed_after: timedelta | None  # completed and cancelled jobs
    failed_after: timedelta | None
    keep_etl_runs: int  # the newest N finished ETL jobs (and recorded runs) stay whatever their age
    batch: int
    files_after: timedelta | None = None  # unreferenced stored files and old ETL runs

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        return cls(_days(settings.retain_completed_days), _days(settings.retain_failed_days),
                   settings.retain_etl_runs, settings.prune_batch, _days(settings.retain_file_days))

    @property
    def args(self) -> tuple:
        """The SQL arguments (completed_after, failed_after); a zero interval keeps forever."""
        return (self.completed_after or timedelta(0), self.failed_after or timedelta(0))

    def describe(self) -> dict:
        return {"completed_days": _as_days(self.completed_after), "failed_days": _as_days(self.failed_after),
                "file_days": _as_days(self.files_after), "keep_etl_runs": self.keep_etl_runs, "batch": self.batch}


@dataclass(frozen=True)
class PruneResult:
    jobs: int
    events: int
    batches: int
    seconds: float
    started_at: datetime
    files: dict[str, int] | None = None  # etl runs, file versions and files deleted


def _days(days: float) -> timedelta | None:
    return timedelta(days=days) if days > 0 else None


def _as_days(value: timedelta | None) -> float:
    return value.total_seconds() / 86400 if value else 0


async def take_lease(pool: asyncpg.Pool, worker: str, every_seconds: float) -> bool:
    """True when this worker may prune now (and for every_seconds); False when another daemon holds it."""
    return await pool.fetchval("select prune_lease($1, make_interval(secs => $2))", worker, float(every_seconds))


async def prune(pool: asyncpg.Pool, retention: Retention, *, worker: str, lease_seconds: float | None = None,
                record: bool = True) -> PruneResult:
    """Delete every prunable job in batches until none is left. With lease_seconds, the lease is renewed after
    each batch, and the prune stops if another worker has taken it meanwhile."""
    started, clock = datetime.now().astimezone(), time.monotonic()
    jobs = events = batches = 0
    completed_after, failed_after = retention.args
    while True:
        row = await pool.fetchrow("select * from prune_jobs($1, $2, $3, $4)", completed_after, failed_after,
                                  retention.batch, retention.keep_etl_runs)
        if row["jobs"] == 0:
            break
        jobs, events, batches = jobs + row["jobs"], events + row["events"], batches + 1
        if lease_seconds is not None and not await take_lease(pool, worker, lease_seconds):
            log.warning("prune.lease_lost", worker=worker, jobs=jobs)
            break
    files = {"runs": 0, "versions": 0, "files": 0}
    while retention.files_after is not None:
        row = await pool.fetchrow("select * from prune_files($1, $2, $3)", retention.files_after, retention.batch,
                                  retention.keep_etl_runs)
        files = {k: files[k] + row[k] for k in files}
        if not any(row.values()):
            break
    result = PruneResult(jobs, events, batches, round(time.monotonic() - clock, 3), started, files)
    if record:
        await pool.execute("select record_prune($1, $2, $3, $4, $5, $6)", worker, started, jobs, events, batches,
                           {**retention.describe(), "deleted_files": files})
    return result


async def preview(pool: asyncpg.Pool, retention: Retention) -> list[asyncpg.Record]:
    """What a prune would delete now, by kind and status (nothing is changed)."""
    completed_after, failed_after = retention.args
    return await pool.fetch("select * from prune_preview($1, $2, $3)", completed_after, failed_after,
                            retention.keep_etl_runs)


async def prune_loop(pool: asyncpg.Pool, settings: Settings, worker: str) -> None:
    """Every prune_interval_seconds (with jitter, so daemons started together do not race), prune if this
    daemon wins the lease. Any exception fails that pass only: logged, and the next pass comes as usual."""
    retention = Retention.from_settings(settings)
    every = settings.prune_interval_seconds
    if retention.completed_after is None and retention.failed_after is None:
        log.info("prune.off", reason="both retentions are 0 (keep forever)")
        await asyncio.Event().wait()  # a supervised duty that ends would stop the daemon: stay, idle
    log.info("prune.started", every_seconds=every, **retention.describe())
    await asyncio.sleep(random.uniform(0.1, 0.5) * every)
    while True:
        try:
            if await take_lease(pool, worker, every):
                result = await prune(pool, retention, worker=worker, lease_seconds=every)
                log.info("prune.finished", worker=worker, **{k: v for k, v in asdict(result).items()
                                                              if k != "started_at"})
            else:
                log.debug("prune.skipped", reason="another daemon holds the prune lease")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a failed pass must not end the loop: the next pass tries again
            log.warning("prune.failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(every * random.uniform(0.9, 1.1))
