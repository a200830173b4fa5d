"""Applies supabase/migrations/*.sql in name order, each in one transaction, recording versions where the
Supabase CLI keeps them (supabase_migrations.schema_migrations), so `supabase db push` and
`benchsight migrate` agree on what has been applied."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import structlog

log = structlog.get_logger()

MIGRATION_NAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[A-Za-z0-9_]+)\.sql$")

# The same shape the Supabase CLI creates (version, statements, name), so either tool can go first.
_BOOKKEEPING = """
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
    version text primary key,
    statements text[],
    name text
);
"""

# Serialises concurrent `migrate` runs (several daemons starting at once).
_LOCK_KEY = 0x62656E6368  # "bench"


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def discover(folder: Path) -> list[Migration]:
    """The migration files in folder, in version order; a misnamed .sql file is an error, not skipped, and so
    is a missing or empty folder (a non-editable install without BENCHSIGHT_MIGRATIONS_DIR must not report
    "up to date" on an empty database)."""
    if not folder.is_dir() or not any(folder.glob("*.sql")):
        raise ValueError(
            f"no migrations in {folder}: install the project editable (pip install -e .) or set "
            "BENCHSIGHT_MIGRATIONS_DIR to the project's supabase/migrations folder"
        )
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"migration file {path.name}: name must be YYYYMMDDHHMMSS_name.sql")
        found.append(Migration(match["version"], match["name"], path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"migrations in {folder}: two files share a version")
    return found


async def applied_versions(conn: asyncpg.Connection) -> set[str]:
    exists = await conn.fetchval("select to_regclass('supabase_migrations.schema_migrations') is not null")
    if not exists:
        return set()
    return {r["version"] for r in await conn.fetch("select version from supabase_migrations.schema_migrations")}


async def migrate(conn: asyncpg.Connection, folder: Path) -> list[str]:
    """Apply every migration not yet recorded; returns the versions applied (empty when current)."""
    migrations = discover(folder)
    await conn.execute("select pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(_BOOKKEEPING)
        done = await applied_versions(conn)
        applied = []
        for migration in migrations:
            if migration.version in done:
                continue
            sql = migration.sql()
            try:
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute(
                        "insert into supabase_migrations.schema_migrations (version, statements, name) "
                        "values ($1, $2, $3)",
                        migration.version, [sql], migration.name,
                    )
            except asyncpg.PostgresError as exc:
                raise RuntimeError(f"migration {migration.path.name} failed and was rolled back: {exc}") from exc
            log.info("migration.applied", version=migration.version, name=migration.name)
            applied.append(migration.version)
        return applied
    finally:
        await conn.execute("select pg_advisory_unlock($1)", _LOCK_KEY)


async def pending_versions(conn: asyncpg.Connection, folder: Path) -> list[str]:
    done = await applied_versions(conn)
    return [m.version for m in discover(folder) if m.version not in done]


async def current_version(conn: asyncpg.Connection) -> str | None:
    done = await applied_versions(conn)
    return max(done) if done else None
