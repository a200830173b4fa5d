"""Models trained on the league's data (ml/, registry ml_models): what is trained and how well it did, and
predictions answered at once from the latest versions held in memory.

`POST /api/ml/predict` is the one way in; the old API's sub-routes (`/api/ml/predict/game-outcome`, ...) are
adapters that translate its request and response fields onto it. Routes whose model the league's data cannot
support answer 501 and say what is missing. The served models are reloaded when a new version is recorded
(the registry is checked at most once every RELOAD_CHECK_SECONDS).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from daemon.http import inputs
from daemon.http.app_keys import POOL
from daemon.http.errors import ApiError, json_response
from daemon.http.routing import Routes
from handlers import ml_store
from ml import game_outcome, playoffs, projections, similarity, win_probability
from ml.model import InvalidInput, UnknownEntity
from ml.serving import INPUTS, Predictors

routes = Routes("ml")

RELOAD_CHECK_SECONDS = 1.0
ModelName = Literal["game_outcome", "win_probability", "player_projection", "xg", "playoff_probability",
                    "similar_players"]
NOT_FOUND = {404: "Unknown team, player or season, or the model is not trained yet."}


# ---------------------------------------------------------------------------------------- served models

class _Served:
    """The latest model versions of one application, reloaded when the registry changes."""

    def __init__(self) -> None:
        self.state: int | None = None
        self.checked = 0.0
        self.predictors = Predictors([])
        self.lock = asyncio.Lock()

    async def get(self, pool) -> Predictors:
        if time.monotonic() - self.checked < RELOAD_CHECK_SECONDS:
            return self.predictors
        async with self.lock:
            if time.monotonic() - self.checked >= RELOAD_CHECK_SECONDS:
                state = await ml_store.registry_state(pool)
                if state != self.state:
                    records = await ml_store.latest_models(pool)
                    self.predictors = await asyncio.to_thread(Predictors, records)
                    self.state = state
                self.checked = time.monotonic()
        return self.predictors


_SERVED: weakref.WeakKeyDictionary[web.Application, _Served] = weakref.WeakKeyDictionary()


def _served(request: web.Request) -> _Served:
    return _SERVED.setdefault(request.app, _Served())


async def predict(request: web.Request, model: str, raw_inputs: dict, where: str = "body") -> dict:
    """Validate the inputs for the model and answer from memory: 404 unknown entity or untrained model,
    422 impossible inputs."""
    parsed = inputs.validate(INPUTS[model], raw_inputs, where)
    predictors = await _served(request).get(request.app[POOL])
    try:
        return predictors.predict(model, parsed)
    except UnknownEntity as exc:
        raise ApiError(404, str(exc).strip("'\"")) from None
    except InvalidInput as exc:
        raise ApiError(422, [{"loc": [where], "msg": str(exc), "type": "value_error"}]) from None
    except LookupError as exc:
        raise ApiError(404, str(exc).strip("'\"")) from None


# ---------------------------------------------------------------------------------------------- shapes

class ModelOut(BaseModel):
    model: str
    version: int
    trained_at: str
    data_hash: str
    n_train: int = Field(description="Rows the model was fitted on.")
    hyperparameters: dict[str, Any]
    metrics: dict[str, Any] = Field(description="Held-out backtest: the model's scores beside its baselines.")
    beats_baseline: bool | None = Field(description="Better than every baseline on held-out data (null: not a prediction).")
    notes: str
    versions: int


class ModelsOut(BaseModel):
    models: list[ModelOut]


class PredictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: ModelName
    inputs: dict[str, Any] = Field(default_factory=dict, description="The model's inputs (see the README).")


class PredictOut(BaseModel):
    model: str
    version: int
    beats_baseline: bool | None
    prediction: dict[str, Any]


class OldAnswer(BaseModel):
    """An old-API answer: its fields plus model_version."""

    model_config = ConfigDict(extra="allow")
    model_version: str


@routes.get("/api/ml/models", summary="Trained models, versions and backtests", scope="jobs:read",
            responses={200: ModelsOut})
async def list_models(request: web.Request) -> web.Response:
    """The latest version of each model with its training date, data size and held-out metrics beside the
    baselines."""
    pool = request.app[POOL]
    rows = await ml_store.latest_models(pool, with_params=False)
    counts = dict(await pool.fetch("select model, count(*)::int from public.ml_models group by model"))
    return json_response({"models": [{
        "model": r["model"], "version": r["version"], "trained_at": r["trained_at"].isoformat(),
        "data_hash": r["data_hash"], "n_train": r["n_train"], "hyperparameters": r["hyperparameters"],
        "metrics": r["metrics"], "beats_baseline": r["beats_baseline"], "notes": r["notes"],
        "versions": counts.get(r["model"], 1)} for r in rows]})


@routes.post("/api/ml/predict", summary="Predict with a trained model", scope="jobs:read", body=PredictIn,
             responses={200: PredictOut, **NOT_FOUND})
async def predict_route(request: web.Request, body: PredictIn) -> web.Response:
    """Answered at once from the latest version in memory."""
    return json_response(await predict(request, body.model, body.inputs, "body"))


# ------------------------------------------------------------------------------- the old API's sub-routes

def _version(answer: dict) -> str:
    return f"{answer['model']}:v{answer['version']}"


class OldPlayerStatsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    player_id: str
    season_id: str
    games_remaining: int | None = None


def _player_stats(answer: dict, player_id: str, season_id: str) -> dict:
    p = answer["prediction"]
    return {"player_id": player_id, "season_id": season_id, "games_remaining": p["games_remaining"],
            "predicted_goals": p["goals"]["mean"], "predicted_assists": p["assists"]["mean"],
            "predicted_points": p["points"]["mean"], "predicted_war": None,
            "confidence": projections.LEVEL, "model_version": _version(answer),
            "goals_lower_bound": p["goals"]["low"], "goals_upper_bound": p["goals"]["high"],
            "points_lower_bound": p["points"]["low"], "points_upper_bound": p["points"]["high"]}


@routes.post("/api/ml/predict/player-stats", summary="Old API: rest-of-season player projection",
             scope="jobs:read", body=OldPlayerStatsIn, responses={200: OldAnswer, **NOT_FOUND})
async def old_player_stats(request: web.Request, body: OldPlayerStatsIn) -> web.Response:
    """player_projection; predicted_war is null (see the README: no WAR model), confidence is the interval's
    level."""
    answer = await predict(request, projections.NAME, body.model_dump(), "body")
    return json_response(_player_stats(answer, body.player_id, body.season_id))


class OldNextGameQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    player_id: str
    opponent_team_id: str | None = None
    home_away: Literal["Home", "Away", "home", "away"] | None = None


@routes.post("/api/ml/predict/player-next-game", summary="Old API: one-game player projection",
             scope="jobs:read", query=OldNextGameQuery, responses={200: OldAnswer, **NOT_FOUND})
async def old_player_next_game(request: web.Request, query: OldNextGameQuery) -> web.Response:
    """player_projection over one game of the player's latest season; the opponent and venue are not used
    (the projection has no opponent term)."""
    predictors = await _served(request).get(request.app[POOL])
    record = predictors.records.get(projections.NAME)
    season = record and record["params"].get("latest_season", {}).get(query.player_id)
    if not season:
        raise ApiError(404, f"player {query.player_id!r} has no games as a skater in the model's data")
    answer = await predict(request, projections.NAME,
                           {"player_id": query.player_id, "season_id": season, "games_remaining": 1}, "query")
    return json_response(_player_stats(answer, query.player_id, season))


class OldGameOutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    home_team_id: str
    away_team_id: str
    season_id: str
    game_date: str | None = None


@routes.post("/api/ml/predict/game-outcome", summary="Old API: game outcome", scope="jobs:read",
             body=OldGameOutcomeIn, responses={200: OldAnswer, **NOT_FOUND})
async def old_game_outcome(request: web.Request, body: OldGameOutcomeIn) -> web.Response:
    """game_outcome (plus tie_probability, which the league has); confidence is the largest of the three
    probabilities; key_factors name the fitted strengths behind the answer."""
    answer = await predict(request, game_outcome.NAME, {"home_team_id": body.home_team_id,
                                                        "away_team_id": body.away_team_id,
                                                        "season_id": body.season_id}, "body")
    p = answer["prediction"]
    probs = (p["home_win_probability"], p["tie_probability"], p["away_win_probability"])
    factors = [f"expected goals {p['predicted_home_goals']:.2f} (home) vs {p['predicted_away_goals']:.2f} (away) "
               f"from team-season attack and defence strengths", "home advantage fitted on the league's games"]
    return json_response({"home_team_id": body.home_team_id, "away_team_id": body.away_team_id,
                          **{k: p[k] for k in ("home_win_probability", "tie_probability", "away_win_probability",
                                               "predicted_home_goals", "predicted_away_goals",
                                               "predicted_total_goals", "over_under_line", "over_probability",
                                               "under_probability")},
                          "confidence": max(probs), "key_factors": factors, "model_version": _version(answer)})


class OldWinProbabilityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    game_id: int
    current_score_home: int
    current_score_away: int
    current_period: int
    time_remaining_seconds: int
    power_play_status: str | None = None


@routes.post("/api/ml/predict/real-time-win-probability", summary="Old API: in-game win probability",
             scope="jobs:read", body=OldWinProbabilityIn, responses={200: OldAnswer, **NOT_FOUND})
async def old_win_probability(request: web.Request, body: OldWinProbabilityIn) -> web.Response:
    """win_probability; next-goal shares come from the fitted scoring rates of the period; momentum is null
    (no model) and power_play_status is not used (the scoresheet has no power-play states by period)."""
    answer = await predict(request, win_probability.NAME, {
        "home_score": body.current_score_home, "away_score": body.current_score_away,
        "period": body.current_period, "seconds_left": body.time_remaining_seconds}, "body")
    p = answer["prediction"]
    rates = (await _served(request).get(request.app[POOL])).records[win_probability.NAME]["params"]["rates"]
    rh, ra = rates["home"][body.current_period - 1], rates["away"][body.current_period - 1]
    margin = body.current_score_home - body.current_score_away
    comeback = p["away_win_probability"] if margin > 0 else p["home_win_probability"] if margin < 0 else None
    return json_response({"game_id": body.game_id, "home_win_probability": p["home_win_probability"],
                          "tie_probability": p["tie_probability"], "away_win_probability": p["away_win_probability"],
                          "next_goal_home_probability": rh / (rh + ra), "next_goal_away_probability": ra / (rh + ra),
                          "momentum_score": None, "momentum_team": None, "comeback_probability": comeback,
                          "model_version": _version(answer)})


class OldSimilarIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    player_id: str
    season_id: str
    limit: int | None = 10
    min_similarity: float | None = 70.0


@routes.post("/api/ml/find/similar-players", summary="Old API: similar players (a similarity, not a prediction)",
             scope="jobs:read", body=OldSimilarIn, responses={200: OldAnswer, **NOT_FOUND})
async def old_similar(request: web.Request, body: OldSimilarIn) -> web.Response:
    answer = await predict(request, similarity.NAME, {
        "player_id": body.player_id, "season_id": body.season_id, "limit": body.limit or 10,
        "min_similarity": body.min_similarity if body.min_similarity is not None else 70.0}, "body")
    p = answer["prediction"]
    return json_response({"player_id": p["player_id"], "player_name": p["player_name"],
                          "similar_players": p["similar_players"], "note": p["note"],
                          "model_version": _version(answer)})


class OldPlayoffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: str
    season_id: str


@routes.get("/api/ml/predict/playoff-probability", summary="Old API: playoff probability", scope="jobs:read",
            query=OldPlayoffQuery, responses={200: OldAnswer, **NOT_FOUND})
async def old_playoffs(request: web.Request, query: OldPlayoffQuery) -> web.Response:
    answer = await predict(request, playoffs.NAME, query.model_dump(), "query")
    p = answer["prediction"]
    return json_response({"team_id": query.team_id, "season_id": query.season_id,
                          "playoff_probability": p["playoff_probability"],
                          "first_place_probability": p["first_place_probability"],
                          "expected_rank": p["expected_rank"], "playoff_spots": p["playoff_spots"],
                          "remaining_games": p["remaining_games"], "model_version": _version(answer)})


@routes.get("/api/ml/health", summary="Old API: which models are served", scope="jobs:read",
            responses={200: OldAnswer})
async def old_health(request: web.Request) -> web.Response:
    predictors = await _served(request).get(request.app[POOL])
    models = {n: {"version": r["version"], "beats_baseline": r["beats_baseline"]}
              for n, r in predictors.records.items()}
    return json_response({"status": "ok" if models else "no models trained", "models": models,
                          "model_version": ",".join(f"{n}:v{m['version']}" for n, m in sorted(models.items()))})


# ------------------------------------------------------------------- routes the league's data cannot support

UNSUPPORTED = (
    ("POST", "/api/ml/predict/line-chemistry", "line chemistry",
     "needs on-ice results of player combinations; shifts are tracked in 5 games, far too few to measure a line"),
    ("POST", "/api/ml/optimize/lineup", "lineup optimisation",
     "needs a measured value of every line combination (see line chemistry) and the opponent's lines"),
    ("GET", "/api/ml/compare/player-value", "player value",
     "needs a value scale (WAR, salary or trade data); the league has none, and WAR needs shift-level data for most games"),
    ("GET", "/api/ml/detect/breakout-players", "breakout detection",
     "needs several seasons of development per player with labelled breakouts; no such labels exist"),
    ("GET", "/api/ml/assess/injury-risk", "injury risk",
     "needs injury records; the league's data has none"),
    ("POST", "/api/ml/predict/next-goal-scorer", "next goal scorer",
     "needs who is on the ice at each moment; shifts are tracked in 5 games only"),
    ("POST", "/api/ml/predict/goalie-stats", "goalie projections",
     "needs shots against per game; they are tracked in 7 games only (goals against alone cannot give save %)"),
)


def _unsupported(what: str, missing: str):
    async def answer(request: web.Request) -> web.Response:
        raise ApiError(501, f"{what}: not available, the league's data cannot support this model: {missing}")

    answer.__name__ = "unsupported_" + what.replace(" ", "_")
    answer.__doc__ = f"Always 501: {missing}."
    return answer


for _method, _path, _what, _missing in UNSUPPORTED:
    routes.add(_method, _path, summary=f"Old API: {_what} (501, not supported by the data)", scope="jobs:read",
               responses={501: _missing})(_unsupported(_what, _missing))
