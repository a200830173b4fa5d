"""API keys for the REST API: generation, hashing, storage in public.api_keys, and the `benchsight apikey`
commands.

A key reads `bsk_<prefix>_<secret>`: the prefix (12 hex characters) finds the row, the secret (256 random bits)
proves possession. Only sha256(key) is stored. A slow password hash (bcrypt, scrypt) protects low-entropy
passwords against guessing; a 256-bit random secret cannot be guessed, so a fast hash is as safe and keeps
every request's check cheap.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg
import click

KEY_PREFIX = "bsk"
SCOPES = ("jobs:read", "jobs:write", "admin")

# last_used_at is written at most this often per key, so busy keys do not turn every request into a write
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedKey:
    """A new key: `key` is the only copy of the secret and must be shown to the user once."""

    key: str
    stored: ApiKey


def generate_key() -> tuple[str, str]:
    """A new (key, prefix) pair."""
    prefix = secrets.token_hex(6)
    return f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_prefix(key: str) -> str | None:
    """The lookup prefix of something shaped like an API key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


def looks_like_key(token: str) -> bool:
    return token.startswith(f"{KEY_PREFIX}_")


def _stored(row: asyncpg.Record) -> ApiKey:
    return ApiKey(row["id"], row["name"], row["prefix"], frozenset(row["scopes"]), row["created_at"],
                  row["last_used_at"], row["revoked_at"])


_COLUMNS = "id, name, prefix, scopes, created_at, last_used_at, revoked_at"


def _check_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    unknown = [s for s in chosen if s not in SCOPES]
    if unknown or not chosen:
        raise ValueError(f"scopes must be one or more of {', '.join(SCOPES)}; got {', '.join(chosen) or 'none'}")
    return chosen


async def create_key(conn: asyncpg.Connection | asyncpg.Pool, scopes: Iterable[str], name: str = "") -> CreatedKey:
    """Store a new key's hash and return the key itself (not recoverable later)."""
    chosen = _check_scopes(scopes)
    key, prefix = generate_key()
    row = await conn.fetchrow(
        f"insert into api_keys (name, prefix, hash, scopes) values ($1, $2, $3, $4) returning {_COLUMNS}",
        name, prefix, hash_key(key), chosen,
    )
    return CreatedKey(key, _stored(row))


async def list_keys(conn: asyncpg.Connection | asyncpg.Pool) -> list[ApiKey]:
    return [_stored(r) for r in await conn.fetch(f"select {_COLUMNS} from api_keys order by id")]


async def revoke_key(conn: asyncpg.Connection | asyncpg.Pool, id_or_prefix: str) -> ApiKey | None:
    """Revoke by id or prefix; returns the key (already revoked ones keep their first revocation time)."""
    key_id = int(id_or_prefix) if id_or_prefix.isdigit() else None
    row = await conn.fetchrow(
        f"update api_keys set revoked_at = coalesce(revoked_at, now()) "
        f"where id = $1 or prefix = $2 returning {_COLUMNS}",
        key_id, id_or_prefix,
    )
    return _stored(row) if row else None


async def verify_key(conn: asyncpg.Connection | asyncpg.Pool, key: str) -> ApiKey | None:
    """The live (not revoked) key matching `key`, or None. Compares hashes in constant time."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    row = await conn.fetchrow(f"select {_COLUMNS}, hash from api_keys where prefix = $1", prefix)
    if row is None or row["revoked_at"] is not None or not hmac.compare_digest(row["hash"], hash_key(key)):
        return None
    if row["last_used_at"] is None or datetime.now(timezone.utc) - row["last_used_at"] > TOUCH_INTERVAL:
        await conn.execute("update api_keys set last_used_at = now() where id = $1", row["id"])
    return _stored(row)


# ---- the `benchsight apikey` commands -------------------------------------------------------------------------

def _run(action):
    """Run `action(conn)` on the configured database with a friendly error when migrations are missing."""
    from daemon import database, logs
    from daemon.config import Settings

    settings = Settings()
    logs.configure(settings.log_level)

    async def go():
        conn = await database.connect(database.database_url(settings))
        try:
            return await action(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(go())
    except database.DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    except asyncpg.UndefinedTableError as exc:
        raise click.ClickException("the api_keys table is missing: run `benchsight migrate` first") from exc


@click.group("apikey")
def apikey_command() -> None:
    """Create, list and revoke API keys for the REST API."""


@apikey_command.command("create")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES),
              help="Repeat for several; admin implies all.")
@click.option("--name", default="", help="What the key is for (shown by `list`).")
def create_command(scopes: tuple[str, ...], name: str) -> None:
    """Create a key and print it once: it cannot be shown again."""
    created = _run(lambda conn: create_key(conn, scopes, name))
    click.echo(created.key)
    click.echo(f"key {created.stored.id} ({created.stored.prefix}) scopes {','.join(sorted(created.stored.scopes))}"
               " - store it now, it is not shown again", err=True)


@apikey_command.command("list")
def list_command() -> None:
    """List keys (prefix, scopes, last use); secrets are never shown."""
    keys = _run(list_keys)
    click.echo(f"{'id':>4}  {'prefix':12}  {'scopes':28} {'last used':19}  {'state':7}  name")
    for k in keys:
        used = f"{k.last_used_at:%Y-%m-%d %H:%M:%S}" if k.last_used_at else "never"
        state = "revoked" if k.revoked_at else "active"
        click.echo(f"{k.id:>4}  {k.prefix:12}  {','.join(sorted(k.scopes)):28} {used:19}  {state:7}  {k.name}")


@apikey_command.command("revoke")
@click.argument("key_id")
def revoke_command(key_id: str) -> None:
    """Revoke a key by id or prefix; requests with it fail at once."""
    revoked = _run(lambda conn: revoke_key(conn, key_id))
    if revoked is None:
        raise click.ClickException(f"no API key {key_id}")
    click.echo(f"revoked key {revoked.id} ({revoked.prefix})")
