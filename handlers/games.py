"""The games the league knows, for checking game ids before a job is enqueued (API, CLI) and again in the etl
job itself, so `game_ids: [99999]` is refused everywhere instead of completing 'ok' with nothing built.

Known games are the league schedule: dim_schedule in the database when it is loaded, together with the
dim_schedule sheet of the league workbook (raw/BLB_Tables.xlsx), which may already list games the warehouse
does not have yet. With neither there is nothing to check against, and nothing is refused here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

import asyncpg

from etl.readers.sheets import InputError
from etl.readers.league_workbook import scheduled_games
from handlers.staging_blb import DEFAULT_WORKBOOK

_SCHEDULE = "select game_id::text from public.dim_schedule"
# workbook path -> (mtime_ns, size, game ids): the sheet is read again only when the file changes
_WORKBOOK_CACHE: dict[Path, tuple[int, int, frozenset[int]]] = {}


def _as_game_id(value: object) -> int | None:
    try:
        number = float(value)  # a sheet may hold 18969, 18969.0 or "18969"
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _workbook_games(path: Path) -> frozenset[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    cached = _WORKBOOK_CACHE.get(path)
    if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    try:
        games = scheduled_games(path)
    except InputError:
        return None
    _WORKBOOK_CACHE[path] = (stat.st_mtime_ns, stat.st_size, games)
    return games


async def known_games(db: asyncpg.Pool | asyncpg.Connection, data_dir: Path) -> frozenset[int] | None:
    """Every scheduled game (database and workbook together), or None when no schedule exists anywhere."""
    found: set[int] | None = None
    if await db.fetchval("select to_regclass('public.dim_schedule') is not null"):
        try:
            ids = [_as_game_id(r[0]) for r in await db.fetch(_SCHEDULE)]
        except asyncpg.UndefinedColumnError:
            ids = []
        if ids:
            found = {g for g in ids if g is not None}
    from_workbook = await asyncio.to_thread(_workbook_games, data_dir / DEFAULT_WORKBOOK)
    if from_workbook:
        found = (found or set()) | from_workbook
    return frozenset(found) if found is not None else None


async def unknown_games(db: asyncpg.Pool | asyncpg.Connection, data_dir: Path, ids: Iterable[int]) -> list[int]:
    """The ids in `ids` that the schedule does not list (sorted); [] when there is no schedule to ask."""
    ids = set(ids)
    if not ids:
        return []
    known = await known_games(db, data_dir)
    return [] if known is None else sorted(ids - known)
