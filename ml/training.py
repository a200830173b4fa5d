"""Fit every model from the warehouse's frames: one call, progress per model, plain-data results."""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
import structlog
from threadpoolctl import threadpool_limits

from ml import game_outcome, playoffs, projections, similarity, win_probability, xg
from ml.frames import games_frame, roster_frame, shots_frame
from ml.model import Model

log = structlog.get_logger()

MODELS = (game_outcome.NAME, win_probability.NAME, projections.NAME, xg.NAME, playoffs.NAME, similarity.NAME)
Progress = Callable[[str, int, int], None]
# Below these a model is skipped (logged with the reason) rather than fitted on noise.
MIN_GAMES, MIN_LINES, MIN_SHOTS, MIN_GOALS = 30, 200, 50, 3


def check_tables(tables: dict[str, pd.DataFrame]) -> None:
    """Raise DataError naming the table and columns when the warehouse cannot train the models (cheap: run it
    before spawning the fit)."""
    roster_frame(tables["fact_gameroster"], games_frame(tables["dim_schedule"]))


def train_all(tables: dict[str, pd.DataFrame], progress: Progress | None = None,
              outcome_grid: list[dict] | None = None) -> list[Model]:
    """tables: dim_schedule and fact_gameroster (contract names); fact_shots, fact_events, fact_zone_entries
    and dim_rinkcoordzones when present. A model whose data is missing is left out (logged).

    BLAS runs single-threaded here: the fits are many small problems, where threads only contend (on a
    shared 2-core machine the walk-forward backtest took 23 s with threads and 3 s without)."""
    with threadpool_limits(limits=1):
        return _train_all(tables, progress, outcome_grid)


def _train_all(tables: dict[str, pd.DataFrame], progress: Progress | None,
               outcome_grid: list[dict] | None) -> list[Model]:
    games = games_frame(tables["dim_schedule"])
    roster = roster_frame(tables["fact_gameroster"], games)
    shots = (shots_frame(tables["fact_shots"], tables.get("fact_events"), tables.get("fact_zone_entries"),
                         tables.get("dim_rinkcoordzones")) if tables.get("fact_shots") is not None else None)
    out: list[Model] = []
    done = 0

    def step(name: str, too_little: str | None, fit: Callable[[], Model]) -> Model | None:
        nonlocal done
        if progress:
            progress(name, done, len(MODELS))
        start = time.monotonic()
        model = None if too_little else fit()
        done += 1
        if model is not None:
            model.metrics["train_seconds"] = round(time.monotonic() - start, 3)
            out.append(model)
            log.info("ml.trained", model=name, n_train=model.n_train, beats_baseline=model.beats_baseline)
        else:
            log.info("ml.skipped", model=name, reason=too_little)
        return model

    played = int(games["played"].sum())
    few_games = f"{played} played games (at least {MIN_GAMES})" if played < MIN_GAMES else None
    few_lines = f"{len(roster)} skater lines (at least {MIN_LINES})" if len(roster) < MIN_LINES else None
    n_shots, n_goals = (len(shots), int(shots["is_goal"].sum())) if shots is not None else (0, 0)
    few_shots = (f"{n_shots} tracked shots with {n_goals} goals (at least {MIN_SHOTS} and {MIN_GOALS})"
                 if n_shots < MIN_SHOTS or n_goals < MIN_GOALS else None)
    outcome = step(game_outcome.NAME, few_games,
                   lambda: game_outcome.train(games, outcome_grid or game_outcome.GRID)[0])
    step(win_probability.NAME, few_games, lambda: win_probability.train(games))
    step(projections.NAME, few_lines, lambda: projections.train(roster, games))
    step(xg.NAME, few_shots, lambda: xg.train(shots)[0])
    step(playoffs.NAME, few_games or (None if outcome else "no game_outcome model"),
         lambda: playoffs.train(games, outcome))
    step(similarity.NAME, few_lines, lambda: similarity.train(roster))
    if progress:
        progress("done", done, len(MODELS))
    return out
