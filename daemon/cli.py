"""The `benchsight` console script: run the service, migrate, enqueue and inspect jobs, run the ETL."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import get_args
from uuid import UUID

import click
from pydantic import ValidationError

from daemon import database, logs, queries, service
from daemon.apikeys import apikey_command
from daemon.cli_files import files_command
from daemon.cli_prune import prune_command
from daemon.cli_ml import ml_command
from daemon.config import Settings
from daemon.http import serve
from daemon.http.models import JobStatus
from daemon.redaction import redact_url
from daemon.registry import HandlerSpec, load_handlers
from etl.cli import etl_command

EXIT_BY_STATUS = {"completed": 0, "failed": 1, "cancelled": 2}
ENDED = set(EXIT_BY_STATUS)
STATUSES = get_args(JobStatus)


def _settings() -> Settings:
    """The settings read once by the `main` group (which also configured logging for every command)."""
    context = click.get_current_context(silent=True)
    settings = context.find_root().obj if context is not None else None
    return settings if isinstance(settings, Settings) else Settings()


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
@click.pass_context
def main(context: click.Context) -> None:
    """BenchSight: hockey analytics warehouse and its job daemon."""
    try:
        context.obj = Settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings in the environment: {exc}") from exc
    # Every command, `etl` included, logs to stderr in one format: stdout stays for what a command prints.
    logs.configure(context.obj.log_level)


@main.command()
def up() -> None:
    """Run everything: database (embedded unless DATABASE_URL), migrations, daemon and HTTP API."""
    settings = _settings()
    url = _url(settings, service=True)
    click.echo(f"database: {redact_url(url)}")
    click.echo(f"api: http://{settings.api_host}:{settings.api_port}/api/docs")
    click.echo(f"daemon: worker {settings.worker_id}, data dir {settings.data_dir}")
    click.echo(_inputs_note(settings))
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


def _inputs_note(settings: Settings) -> str:
    """Create the input folders the ETL reads and say where the league workbook goes."""
    tracking = settings.raw_dir / "tracking"
    tracking.mkdir(parents=True, exist_ok=True)
    workbook = settings.raw_dir / "BLB_Tables.xlsx"
    state = "found" if workbook.is_file() else "missing: copy the league workbook there"
    return f"inputs: league workbook {workbook} ({state}); tracker files under {tracking}"


@main.command("db-url")
def db_url() -> None:
    """Print the connection URL of the database in use: psql "$(benchsight db-url)".

    Starts nothing: with the embedded database it prints the URL of the server running under <data dir>/pg
    (started by `benchsight up`), and exits 1 saying so when there is none."""
    settings = _settings()
    try:
        url = settings.database_url or database.running_embedded_url(settings.embedded_pg_dir)
    except database.DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(url)


@main.command()
@click.argument("kind")
@click.option("--params", "params_json", default="{}", help="Job params as a JSON object.")
@click.option("--priority", default=0, type=int, help="Higher runs first.")
@click.option("--dedupe-key", default=None, help="At most one active job per key.")
@click.option("--wait", is_flag=True, help="Follow the job with a progress bar; exit 0 completed, 1 failed, 2 cancelled.")
def enqueue(kind: str, params_json: str, priority: int, dedupe_key: str | None, wait: bool) -> None:
    """Insert a job and print its id. Kind and params are checked first, as the REST API checks them."""
    try:
        params = json.loads(params_json)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--params") from exc
    if not isinstance(params, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--params")
    _check_params(_handler_of(kind), params_json)
    settings = _settings()
    status = _run(_enqueue(_url(settings), kind, params, priority, dedupe_key, wait, settings.data_dir))
    if wait:
        sys.exit(EXIT_BY_STATUS.get(status, 1))


def _handler_of(kind: str) -> HandlerSpec:
    registry = load_handlers()
    if kind not in registry:
        raise click.BadParameter(f"unknown job kind {kind!r}; valid kinds: {', '.join(sorted(registry))}",
                                 param_hint="KIND")
    return registry[kind]


def _check_params(spec: HandlerSpec, params_json: str) -> None:
    """The handler's params model, strict as the API's JSON bodies (unknown fields, `0` for `false` refused)."""
    try:
        spec.params.model_validate_json(params_json, strict=True)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}"
                             for e in exc.errors(include_url=False))
        raise click.BadParameter(f"invalid params for {spec.kind}: {problems}", param_hint="--params") from exc


async def _enqueue(url: str, kind: str, params: dict, priority: int, dedupe_key: str | None, wait: bool,
                   data_dir: Path) -> str:
    conn = await database.connect(url)
    try:
        await _admit(conn, kind, params, data_dir)
        try:
            job = await queries.enqueue_job(conn, kind, params, priority=priority, dedupe_key=dedupe_key,
                                            requested_by="cli")
        except Exception as exc:
            raise click.ClickException(f"could not enqueue {kind!r}: {exc}") from exc
        click.echo(str(job["id"]))
        return await _follow(conn, job["id"]) if wait else job["status"]
    finally:
        await conn.close()


async def _admit(conn, kind: str, params: dict, data_dir: Path) -> None:
    """The checks the API makes before enqueueing (daemon.admission), as usage errors: unknown games, missing
    files (the params model itself was checked by _check_params)."""
    from daemon import admission

    model = _handler_of(kind).params.model_validate(params)
    found = await admission.problems(model, conn, data_dir)
    if found:
        raise click.UsageError("--params " + "; ".join(f"{name}: {message}" for name, message in found))


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
@click.option("--status", default=None, type=click.Choice(STATUSES), help="Only jobs in this status.")
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
    """Cancel a job: pending ones at once, running ones are stopped by their daemon. Exits 1 when there is no
    such job or it had already ended (the API answers 404 and 409)."""
    settings = _settings()
    before, after = _run(_cancel(_url(settings), job_id))
    if before is None:
        raise click.ClickException(f"no job {job_id}")
    if before in ENDED:
        raise click.ClickException(f"job {job_id} had already ended ({before}): nothing to cancel")
    click.echo(after if after in ENDED else f"cancel requested ({after})")


async def _cancel(url: str, job_id: UUID) -> tuple[str | None, str | None]:
    conn = await database.connect(url)
    try:
        return await queries.cancel_job(conn, job_id)
    finally:
        await conn.close()


main.add_command(etl_command)
main.add_command(apikey_command)
main.add_command(prune_command)
main.add_command(files_command)
main.add_command(ml_command)
