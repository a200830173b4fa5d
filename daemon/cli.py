"""The `benchsight` console script: run the service, migrate, enqueue and inspect jobs, run the ETL."""

from __future__ import annotations

import asyncio
import json
import sys
from uuid import UUID

import click

from daemon import database, logs, queries, service
from daemon.apikeys import apikey_command
from daemon.cli_ml import ml_command
from daemon.config import Settings
from daemon.http import serve
from etl.cli import etl_command

EXIT_BY_STATUS = {"completed": 0, "failed": 1, "cancelled": 2}
ENDED = set(EXIT_BY_STATUS)


def _settings() -> Settings:
    settings = Settings()
    logs.configure(settings.log_level)
    return settings


def _url(settings: Settings, *, service: bool = False) -> str:
    try:
        return database.database_url(settings, service=service)
    except database.DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc


def _run(coro):
    try:
        return asyncio.run(coro)
    except (database.DatabaseUnavailable, ValueError, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def main() -> None:
    """BenchSight: hockey analytics warehouse and its job daemon."""


@main.command()
def up() -> None:
    """Run everything: database (embedded unless DATABASE_URL), migrations, daemon and HTTP API."""
    settings = _settings()
    url = _url(settings, service=True)
    click.echo(f"database: {_redacted(url)}")
    click.echo(f"api: http://{settings.api_host}:{settings.api_port}/api/docs")
    click.echo(f"daemon: worker {settings.worker_id}, data dir {settings.data_dir}")
    _run(service.run_worker(settings, extra=serve))


@main.command()
def worker() -> None:
    """Run the daemon only (no HTTP API)."""
    _run(service.run_worker(_settings()))


@main.command()
def api() -> None:
    """Run the HTTP API only (no daemon): jobs are inserted here and run by `benchsight worker` elsewhere."""
    settings = _settings()

    async def run() -> None:
        url = database.database_url(settings, service=True)
        await service.migrate(url, settings)
        stop = asyncio.Event()
        service.stop_on_signals(stop)
        async with service.open_pool(url, settings) as pool:
            server = asyncio.create_task(serve(pool, None, url, settings))
            stopped = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait([server, stopped], return_when=asyncio.FIRST_COMPLETED)
                if server.done():
                    server.result()  # the site could not start (port in use...): say so
            finally:
                server.cancel()
                stopped.cancel()
                await asyncio.gather(server, stopped, return_exceptions=True)

    click.echo(f"api: http://{settings.api_host}:{settings.api_port}/api/docs")
    _run(run())


@main.command()
def migrate() -> None:
    """Apply pending migrations from supabase/migrations (safe to run again)."""
    settings = _settings()
    applied = _run(service.migrate(_url(settings), settings))
    click.echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")


@main.command("db-url")
def db_url() -> None:
    """Print the connection URL of the database in use: psql "$(benchsight db-url)"."""
    click.echo(_url(_settings()))


@main.command()
@click.argument("kind")
@click.option("--params", "params_json", default="{}", help="Job params as a JSON object.")
@click.option("--priority", default=0, type=int, help="Higher runs first.")
@click.option("--dedupe-key", default=None, help="At most one active job per key.")
@click.option("--wait", is_flag=True, help="Follow the job with a progress bar; exit 0 completed, 1 failed, 2 cancelled.")
def enqueue(kind: str, params_json: str, priority: int, dedupe_key: str | None, wait: bool) -> None:
    """Insert a job and print its id."""
    try:
        params = json.loads(params_json)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--params") from exc
    if not isinstance(params, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--params")
    settings = _settings()
    status = _run(_enqueue(_url(settings), kind, params, priority, dedupe_key, wait))
    if wait:
        sys.exit(EXIT_BY_STATUS.get(status, 1))


async def _enqueue(url: str, kind: str, params: dict, priority: int, dedupe_key: str | None, wait: bool) -> str:
    conn = await database.connect(url)
    try:
        try:
            job = await queries.enqueue_job(conn, kind, params, priority=priority, dedupe_key=dedupe_key,
                                            requested_by="cli")
        except Exception as exc:
            raise click.ClickException(f"could not enqueue {kind!r}: {exc}") from exc
        click.echo(str(job["id"]))
        return await _follow(conn, job["id"]) if wait else job["status"]
    finally:
        await conn.close()


async def _follow(conn, job_id: UUID) -> str:
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", file=sys.stderr, disable=not sys.stderr.isatty())
    try:
        while True:
            job = await queries.get_job(conn, job_id)
            bar.n = job["progress"]
            bar.set_description(f"{job['status']} {job['current_step'] or ''}".strip())
            bar.refresh()
            if job["status"] in ENDED:
                break
            await asyncio.sleep(0.2)
    finally:
        bar.close()
    message = f"{job['status']}" + (f": {job['error']}" if job["error"] else "")
    click.echo(message, err=True)
    return job["status"]


@main.command()
@click.option("--status", default=None, help="Only jobs in this status.")
@click.option("--kind", default=None, help="Only jobs of this kind.")
@click.option("--limit", default=50, show_default=True)
def jobs(status: str | None, kind: str | None, limit: int) -> None:
    """List recent jobs as a table."""
    settings = _settings()
    rows = _run(_jobs(_url(settings), status, kind, limit))
    click.echo(f"{'id':36}  {'kind':16} {'status':10} {'pct':>3}  {'created':19}  step / error")
    for r in rows:
        note = r["error"] or r["current_step"] or ""
        click.echo(f"{str(r['id']):36}  {r['kind']:16} {r['status']:10} {r['progress']:>3}  "
                   f"{r['created_at']:%Y-%m-%d %H:%M:%S}  {note[:60]}")


async def _jobs(url: str, status: str | None, kind: str | None, limit: int):
    conn = await database.connect(url)
    try:
        return await queries.list_jobs(conn, status, kind, limit)
    finally:
        await conn.close()


@main.command()
@click.argument("job_id", type=click.UUID)
def cancel(job_id: UUID) -> None:
    """Cancel a job: pending ones at once, running ones are stopped by their daemon."""
    settings = _settings()
    status = _run(_cancel(_url(settings), job_id))
    if status is None:
        raise click.ClickException(f"no job {job_id}")
    click.echo(status if status in ENDED else f"cancel requested ({status})")


async def _cancel(url: str, job_id: UUID) -> str | None:
    conn = await database.connect(url)
    try:
        return await queries.request_cancel(conn, job_id)
    finally:
        await conn.close()


def _redacted(url: str) -> str:
    """The URL without its password, for printing."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


main.add_command(etl_command)
main.add_command(apikey_command)
main.add_command(ml_command)
