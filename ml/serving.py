"""Answering predictions from the latest recorded models, in memory.

`Predictors` is built from registry records (the ml_models rows: params are plain JSON) once per new version,
and each `predict(model, inputs)` is a few numpy operations. Inputs are pydantic models (unknown fields are
refused); UnknownEntity (an unseen team, player or season) and InvalidInput (an impossible state) tell the API
to answer 404 and 422.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from ml import game_outcome, playoffs, projections, similarity, win_probability, xg
from ml.model import UnknownEntity


class _Inputs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GameOutcomeInputs(_Inputs):
    home_team_id: str
    away_team_id: str
    season_id: str | None = Field(default=None, description="Default: the home team's latest season.")


class WinProbabilityInputs(_Inputs):
    home_score: int = Field(ge=0)
    away_score: int = Field(ge=0)
    period: int = Field(ge=1, le=3, description="Regulation period 1-3.")
    seconds_left: float = Field(ge=0, description="Seconds left in the period.")


class PlayerProjectionInputs(_Inputs):
    player_id: str
    season_id: str
    games_remaining: int | None = Field(default=None, ge=0, description="Default: his team's unplayed games.")


class XgInputs(_Inputs):
    strength: Literal["even", "special", "unknown"] = "unknown"
    zone: Literal["offensive", "other", "unknown"] = "offensive"
    danger: Literal["high", "mid", "low", "unknown"] = "unknown"
    rebound: bool = False
    rush: bool = False
    distance_ft: float | None = Field(default=None, ge=0, le=200)
    angle_deg: float | None = Field(default=None, ge=0, le=180)


class PlayoffInputs(_Inputs):
    team_id: str
    season_id: str
    as_of: str | None = Field(default=None, description="Simulate from this date (default: after the last game).")


class SimilarPlayersInputs(_Inputs):
    player_id: str
    season_id: str
    limit: int = Field(default=10, ge=1, le=100)
    min_similarity: float = Field(default=0.0, ge=0, le=100)


INPUTS: dict[str, type[_Inputs]] = {
    game_outcome.NAME: GameOutcomeInputs, win_probability.NAME: WinProbabilityInputs,
    projections.NAME: PlayerProjectionInputs, xg.NAME: XgInputs, playoffs.NAME: PlayoffInputs,
    similarity.NAME: SimilarPlayersInputs,
}


class Predictors:
    """The latest version of each model, loaded for answering."""

    def __init__(self, records: list[dict]) -> None:
        self.records = {r["model"]: r for r in records}
        go = self.records.get(game_outcome.NAME)
        self.strengths = game_outcome.load(go["params"]) if go else None
        po = self.records.get(playoffs.NAME)
        self.schedule = playoffs.schedule_frame(po["params"]) if po else None

    def _record(self, name: str) -> dict:
        if name not in self.records:
            raise LookupError(f"model {name!r} has not been trained yet (run an ml_train job)")
        return self.records[name]

    def predict(self, name: str, inputs: _Inputs) -> dict:
        record = self._record(name)
        params = record["params"]
        if name == game_outcome.NAME:
            season = inputs.season_id or params["latest_season"].get(inputs.home_team_id)
            if season is None:
                raise UnknownEntity(f"team {inputs.home_team_id!r} has no games in the model's data")
            out = {"season_id": season, **game_outcome.predict(self.strengths, inputs.home_team_id,
                                                              inputs.away_team_id, season)}
        elif name == win_probability.NAME:
            p = win_probability.probs(params, inputs.home_score, inputs.away_score, inputs.period,
                                      inputs.seconds_left)[0]
            out = {"home_win_probability": float(p[0]), "tie_probability": float(p[1]),
                   "away_win_probability": float(p[2])}
        elif name == projections.NAME:
            out = projections.predict(params, inputs.player_id, inputs.season_id, inputs.games_remaining)
        elif name == xg.NAME:
            shot = {**inputs.model_dump(), "rebound": int(inputs.rebound), "rush": int(inputs.rush)}
            value = (params["base_rate"] if xg_method(record) == "base rate" else xg.predict_one(params, shot))
            out = {"xg": float(value), "method": xg_method(record),
                   "fitted_regression": xg.predict_one(params, shot) if params.get("coef") else None}
        elif name == playoffs.NAME:
            if self.strengths is None:
                raise LookupError("the playoff simulation needs the game_outcome model (run an ml_train job)")
            out = playoffs.predict(params, self.schedule, self.strengths, inputs.team_id, inputs.season_id,
                                   inputs.as_of)
        elif name == similarity.NAME:
            out = similarity.nearest(params, inputs.player_id, inputs.season_id, inputs.limit, inputs.min_similarity)
            out["note"] = "a similarity of scoresheet profiles, not a prediction"
        else:
            raise LookupError(f"unknown model {name!r}")
        return {"model": name, "version": record["version"], "beats_baseline": record["beats_baseline"],
                "prediction": out}


def xg_method(record: dict) -> str:
    """The fitted regression only where it beat the base rate on held-out games; otherwise the base rate."""
    return "logistic regression" if record["beats_baseline"] else "base rate"


def served_xg(record: dict, shots: pd.DataFrame) -> np.ndarray:
    params = record["params"]
    if xg_method(record) == "base rate":
        return np.full(len(shots), params["base_rate"], dtype=float)
    return xg.predict(params, shots)
