"""`benchsight ml train` and `benchsight ml report`: fit the models with a progress bar and record them;
draw the calibration plots of the recorded backtests.

Both read the warehouse in the database by default; `--workbook` (the league workbook) with `--tables` (an
ETL output folder, for the tracked shots) fits from files instead, without a database.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
import pandas as pd


def _settings():
    from daemon import logs
    from daemon.config import Settings

    settings = Settings()
    logs.configure(settings.log_level)
    return settings


async def _with_conn(action):
    from daemon import database

    conn = await database.connect(database.database_url(_settings()))
    try:
        return await action(conn)
    finally:
        await conn.close()


def _tables_from_files(workbook: Path, tables: Path | None) -> dict[str, pd.DataFrame]:
    from ml.frames import read_league_sheets

    frames = read_league_sheets(workbook)
    for name in ("fact_shots", "fact_events", "fact_zone_entries"):
        if tables is not None and (tables / f"{name}.csv").is_file():
            frames[name] = pd.read_csv(tables / f"{name}.csv", low_memory=False)
    return frames


def _fit(frames: dict[str, pd.DataFrame]) -> list[dict]:
    from tqdm import tqdm

    from ml.training import MODELS, train_all

    with tqdm(total=len(MODELS), unit="model", disable=None) as bar:
        def progress(name: str, done: int, total: int) -> None:
            bar.n = done
            bar.set_description(name)
            bar.refresh()

        return [m.record() for m in train_all(frames, progress=progress)]


def _summary(records: list[dict]) -> None:
    for r in records:
        m = r["metrics"].get("model") or {}
        key = next((k for k in ("log_loss", "brier", "points_mae") if k in m), None)
        best = {n: b.get(key) for n, b in (r["metrics"].get("baselines") or {}).items()} if key else {}
        click.echo(f"{r['model']:<20} v{r.get('version') or '-':<3} beats baseline: {str(r['beats_baseline']):<5} "
                   f"{key or ''} {m.get(key, '')} vs {json.dumps(best)}")


file_options = [
    click.option("--workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Fit from this league workbook instead of the database."),
    click.option("--tables", type=click.Path(exists=True, file_okay=False, path_type=Path),
                 help="With --workbook: an ETL output folder (fact_shots.csv ...) for the xG model."),
]


def _files(func):
    for option in reversed(file_options):
        func = option(func)
    return func


@click.group("ml")
def ml_command() -> None:
    """Models trained on the league's data (see README: Models)."""


@ml_command.command("train")
@_files
def train_command(workbook: Path | None, tables: Path | None) -> None:
    """Fit every model (progress bar) and record the versions in ml_models (not with --workbook)."""
    from handlers import ml_store

    from ml.frames import DataError

    try:
        if workbook:
            records = _fit(_tables_from_files(workbook, tables))
        else:
            records = _fit(asyncio.run(_with_conn(ml_store.read_tables)))
    except (ml_store.MissingTables, DataError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not workbook:

        async def record(conn):
            return await ml_store.record_models(conn, records, None)

        for r, v in zip(records, asyncio.run(_with_conn(record))):
            r["version"] = v["version"]
    _summary(records)


@ml_command.command("report")
@_files
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("docs/ml"),
              show_default=True, help="Folder for the PNG files.")
def report_command(workbook: Path | None, tables: Path | None, out: Path) -> None:
    """Calibration plots (PNG) of the latest recorded models, or of a fresh fit with --workbook."""
    from handlers import ml_store
    from ml.report import calibration_plots

    if workbook:
        records = _fit(_tables_from_files(workbook, tables))
    else:
        records = asyncio.run(_with_conn(lambda conn: ml_store.latest_models(conn, with_params=False)))
        if not records:
            raise click.ClickException("no model recorded yet: run `benchsight ml train` first")
    _summary(records)
    for path in calibration_plots(records, out):
        click.echo(f"wrote {path}")
