"""`ml_predict`: write the prediction tables (ml_shot_xg, ml_player_game_xg, ml_team_game_xg,
ml_goalie_game_gsax, ml_team_strengths, ml_game_predictions, ml_player_projections, ml_playoff_probabilities)
from the latest recorded models and fill the dashboard's xG columns (fact_shots.xg, xg_for of player and
team game stats, goalie goals_saved_above_avg) where the warehouse has them. One transaction, like the
upload: a reader sees all old predictions or all new ones. Runs in the 'warehouse' exclusive group."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict

from daemon.context import JobContext
from daemon.registry import PermanentJobError, handler
from handlers import ml_store


class MlPredictParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


def build_tables(records: list[dict], tables: dict) -> dict:
    from ml.predictions import prediction_tables

    return prediction_tables(records, tables)


@handler("ml_predict", MlPredictParams, concurrency=1)
async def run(params: MlPredictParams, ctx: JobContext) -> dict:
    """Writes the ml_* prediction tables and the xG columns from the latest models, atomically."""
    from ml.predictions import XG_COLUMNS

    await ctx.progress(0, "read the models and the warehouse")
    async with ctx.pool.acquire() as conn:
        records = await ml_store.latest_models(conn)
        if not records:
            raise PermanentJobError("no model has been recorded yet: run an ml_train job first")
        try:
            tables = await ml_store.read_tables(conn)
        except ml_store.MissingTables as exc:
            raise PermanentJobError(str(exc)) from exc
    await ctx.progress(20, "predict", status="processing")
    out = await asyncio.to_thread(build_tables, records, tables)
    await ctx.progress(70, f"write {len(out)} tables", status="uploading")
    async with ctx.pool.acquire() as conn:
        filled = await ml_store.swap_prediction_tables(conn, out, XG_COLUMNS)
    return {"tables": {name: len(frame) for name, frame in out.items()}, "xg_columns_filled": filled,
            "models": {r["model"]: r["version"] for r in records}}
