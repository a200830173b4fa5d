"""`staging_blb_update`: change the staged rows of one league table in place: every row of stage_<table>
whose `filter_column` equals `filter_value` gets the `updates` keys merged into its data (jsonb `||`).

The old API's PUT /api/staging/blb-tables/update. A value matches as JSON (18969 = 18969) or as text
("18969" = 18969), because workbook cells and JSON rows spell numbers either way. The table name comes from
the league allow-list (staging_blb), never from user text.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from daemon.context import JobContext
from daemon.registry import handler
from handlers.staging_blb import LEAGUE_TABLES, stage_table_ddl, stage_table_name


class StagingBlbUpdateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str = Field(description="League table (workbook sheet) name, e.g. 'dim_player'.")
    filter_column: str = Field(min_length=1, max_length=200, description="Column the rows are chosen by.")
    filter_value: Any = Field(description="Rows whose filter_column has this value are updated.")
    updates: dict[str, Any] = Field(description="Columns to set (merged into each matching row).")

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str) -> str:
        if value not in LEAGUE_TABLES:
            raise ValueError(f"unknown league table {value!r}; one of {', '.join(LEAGUE_TABLES)}")
        return value


@handler("staging_blb_update", StagingBlbUpdateParams)
async def run(params: StagingBlbUpdateParams, ctx: JobContext) -> dict:
    """Merges `updates` into the matching staged rows, in one statement; returns how many changed."""
    name = stage_table_name(params.table)
    text = params.filter_value if isinstance(params.filter_value, str) else None
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute(stage_table_ddl(params.table))
        updated = await conn.fetchval(
            f"with changed as (update public.{name} set data = data || $1::jsonb, staged_at = now() "
            "where data -> $2 = $3::jsonb or data ->> $2 = coalesce($4, $3::jsonb #>> '{}') returning 1) "
            "select count(*) from changed",
            params.updates, params.filter_column, params.filter_value, text)
    ctx.log.info("staging_blb_update.updated", table=params.table, rows=updated)
    return {"table": name, "rows_updated": updated}
