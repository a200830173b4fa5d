"""`benchsight prune`: delete finished jobs past their retention now, or (--dry-run) show what would go.

The same SQL the daemon's pruner runs (daemon/retention.py); it takes the same lease, so a prune started by
hand never runs beside a daemon's."""

from __future__ import annotations

import asyncio
import os
import socket

import click

from daemon import database
from daemon.config import Settings
from daemon.retention import Retention, preview, prune, take_lease


@click.command("prune")
@click.option("--dry-run", is_flag=True, help="Only show what would be deleted.")
@click.option("--completed-days", type=click.FloatRange(min=0), default=None,
              help="Override BENCHSIGHT_RETAIN_COMPLETED_DAYS (0 keeps forever).")
@click.option("--failed-days", type=click.FloatRange(min=0), default=None,
              help="Override BENCHSIGHT_RETAIN_FAILED_DAYS (0 keeps forever).")
@click.option("--keep-etl-runs", type=click.IntRange(min=0), default=None,
              help="Override BENCHSIGHT_RETAIN_ETL_RUNS.")
def prune_command(dry_run: bool, completed_days: float | None, failed_days: float | None,
                  keep_etl_runs: int | None) -> None:
    """Delete finished jobs and their events past their retention (pending and running jobs are never touched)."""
    from daemon.cli import _settings, _url  # the CLI's own settings and URL helpers

    settings = _settings()
    overrides = {"retain_completed_days": completed_days, "retain_failed_days": failed_days,
                 "retain_etl_runs": keep_etl_runs}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    retention = Retention.from_settings(settings)
    url = _url(settings)
    try:
        asyncio.run(_prune(url, settings, retention, dry_run))
    except (database.DatabaseUnavailable, OSError) as exc:
        raise click.ClickException(str(exc)) from exc


async def _prune(url: str, settings: Settings, retention: Retention, dry_run: bool) -> None:
    pool = await database.create_pool(url, 2)
    try:
        if dry_run:
            rows = await preview(pool, retention)
            click.echo(f"retention: {retention.describe()}")
            click.echo(f"{'kind':18} {'status':10} {'jobs':>8} {'events':>8}  oldest finished      newest finished")
            for r in rows:
                click.echo(f"{r['kind']:18} {r['status']:10} {r['jobs']:>8} {r['events']:>8}  "
                           f"{r['oldest']:%Y-%m-%d %H:%M:%S}  {r['newest']:%Y-%m-%d %H:%M:%S}")
            total_jobs, total_events = sum(r["jobs"] for r in rows), sum(r["events"] for r in rows)
            click.echo(f"would delete {total_jobs} jobs and {total_events} events (dry run: nothing changed)")
            return
        worker = f"cli:{socket.gethostname()}:{os.getpid()}"
        if not await take_lease(pool, worker, settings.prune_interval_seconds):
            raise click.ClickException("another daemon holds the prune lease (it is pruning now); try again later")
        result = await prune(pool, retention, worker=worker, lease_seconds=settings.prune_interval_seconds)
        click.echo(f"deleted {result.jobs} jobs and {result.events} events in {result.batches} batches "
                   f"({result.seconds:.2f} s)")
    finally:
        await pool.close()
