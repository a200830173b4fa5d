"""Checks of a job's params against the world before the job is enqueued: the games named exist in the
league schedule, the files named exist in their folder. What a params model can check alone (allow-lists,
sizes, folders by name) it checks itself; these need the database or the data dir. The API answers a
problem as 422 and `benchsight enqueue` as a usage error, so a request that cannot work never becomes a job
that fails later (or worse, completes 'ok' having built nothing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
from pydantic import BaseModel

from handlers.etl import EtlParams
from handlers.games import unknown_games
from handlers.staging_blb import DEFAULT_WORKBOOK, StagingBlbParams
from handlers.staging_tracking import StagingTrackingParams

Db = asyncpg.Pool | asyncpg.Connection
Problem = tuple[str, str]  # (field, message)


async def _etl(params: EtlParams, db: Db, data_dir: Path) -> list[Problem]:
    found = []
    for name in ("game_ids", "exclude_game_ids"):
        unknown = await unknown_games(db, data_dir, getattr(params, name, None) or [])
        if unknown:
            shown = ", ".join(map(str, unknown[:20])) + (" ..." if len(unknown) > 20 else "")
            found.append((name, f"{len(unknown)} game(s) not in the league schedule (dim_schedule): {shown}"))
    return found


def _missing_file(field: str, relative: str | None, data_dir: Path) -> list[Problem]:
    if relative is None or (data_dir / relative).is_file():
        return []
    return [(field, f"no file {relative!r} under the data dir ({data_dir})")]


async def _staging_blb(params: StagingBlbParams, db: Db, data_dir: Path) -> list[Problem]:
    if params.rows is not None:
        return []
    return _missing_file("file", params.file or DEFAULT_WORKBOOK, data_dir)


async def _staging_tracking(params: StagingTrackingParams, db: Db, data_dir: Path) -> list[Problem]:
    return _missing_file("file", params.file, data_dir)


CHECKS: dict[type[BaseModel], Callable[[BaseModel, Db, Path], Awaitable[list[Problem]]]] = {
    EtlParams: _etl,
    StagingBlbParams: _staging_blb,
    StagingTrackingParams: _staging_tracking,
}


async def problems(params: BaseModel, db: Db, data_dir: Path) -> list[Problem]:
    """What stands in the way of these params (empty when nothing does, or nothing is known to check)."""
    check = CHECKS.get(type(params))
    return await check(params, db, data_dir) if check is not None else []
