"""`ml_train`: fit every model (ml/) from the warehouse tables in the database and record the versions in
ml_models (training-data hash, hyperparameters, backtest beside its baselines). A warehouse load enqueues it
(trigger in 20261201000700_ml.sql, deduplicated); it then enqueues ml_predict, also deduplicated.

Status: running (reading the tables) -> processing (fitting in a child process, progress per model) ->
completed. Result: per model its version, whether it is new, and whether it beat its baselines.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pandas as pd

from pydantic import BaseModel, ConfigDict, Field

from daemon import queries
from daemon.context import JobContext
from daemon.registry import PermanentJobError, handler
from handlers import ml_store
from ml.frames import DataError
from ml.training import check_tables

FIT_END = 90


class MlTrainParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    predict: bool = Field(default=True, description="Enqueue ml_predict afterwards (deduplicated).")


def fit_models(tables_file: str, workbook: str | None, report=None) -> list[dict]:
    """Runs in the child process (module level, so it can be spawned): ml.training.train_all on the tables
    the parent wrote to tables_file (a spawned child receives its arguments through a pipe while it starts,
    so megabytes of frames would hold the daemon's event loop, and its heartbeats, until the child is up)."""
    import pandas as pd

    from ml.frames import read_league_sheets
    from ml.training import train_all

    tables = pd.read_pickle(tables_file)

    if "dim_rinkcoordzones" not in tables and workbook:
        tables = {**tables, **read_league_sheets(Path(workbook), ("dim_rinkcoordzones",))}

    def progress(name: str, done: int, total: int) -> None:
        if report:
            report(done / total, f"model {name}" if name != "done" else "all models fitted")

    return [m.record() for m in train_all(tables, progress=progress)]


@handler("ml_train", MlTrainParams, concurrency=1)
async def run(params: MlTrainParams, ctx: JobContext) -> dict:
    """Fits every model from the warehouse and records the versions in ml_models."""
    await ctx.progress(0, "read the warehouse tables")
    async with ctx.pool.acquire() as conn:
        try:
            tables = await ml_store.read_tables(conn)
        except ml_store.MissingTables as exc:
            raise PermanentJobError(str(exc)) from exc
    try:
        await asyncio.to_thread(check_tables, tables)
    except DataError as exc:
        raise PermanentJobError(f"the warehouse cannot train the models: {exc}") from exc
    workbook = ctx.settings.data_dir / "raw" / "BLB_Tables.xlsx"
    with tempfile.TemporaryDirectory(prefix="ml_train-") as tmp:
        tables_file = str(Path(tmp) / "tables.pkl")
        await asyncio.to_thread(pd.to_pickle, tables, tables_file)
        records = await ctx.run_in_process(fit_models, tables_file, str(workbook) if workbook.is_file() else None,
                                           on_progress=ctx.progress_callback(5, FIT_END, status="processing"))
    await ctx.progress(FIT_END, "record the model versions", status="processing")
    async with ctx.pool.acquire() as conn:
        recorded = await ml_store.record_models(conn, records, ctx.job_id)
        predict_job = None
        if params.predict:
            row = await queries.enqueue_job(conn, "ml_predict", {}, dedupe_key="ml_predict:auto")
            predict_job = str(row["id"])
    return {"models": recorded, "ml_predict_job": predict_job}
