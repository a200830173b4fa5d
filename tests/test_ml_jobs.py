"""ml_train and ml_predict on the real database, the model registry's access rules, and the /api/ml routes:
a warehouse load trains every model once, records versions, writes the prediction tables and xG columns, and
the API answers from the latest version (and picks up a new one)."""

from __future__ import annotations


import asyncpg
import numpy as np
import pandas as pd
import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon import queries
from daemon.http import create_app, routes_ml
from daemon_harness import running_daemon, wait_for_status
from handlers import ml_store
from test_ml_models import synth_league, synth_models  # noqa: F401  (fixtures)

pytestmark = pytest.mark.db


def _cell(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


async def _load(conn: asyncpg.Connection, name: str, frame: pd.DataFrame, extra: str = "") -> None:
    """A warehouse table with the frame's columns as text (the ml frames parse types themselves)."""
    cols = ", ".join(f'"{c}" text' for c in frame.columns)
    await conn.execute(f'drop table if exists public."{name}"; create table public."{name}" ({cols}{extra})')
    rows = [tuple(_cell(v) for v in row) for row in frame.astype(object).itertuples(index=False)]
    await conn.copy_records_to_table(name, records=rows, columns=list(frame.columns), schema_name="public")


@pytest.fixture
async def warehouse(pool, synth_league):  # noqa: F811
    async with pool.acquire() as conn:
        for name, frame in synth_league.tables.items():
            if name != "dim_rinkcoordzones":
                await _load(conn, name, frame, ", xg double precision" if name == "fact_shots" else "")
    return synth_league


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"api_auth": "off"})


async def test_a_warehouse_load_trains_every_model_once_then_writes_predictions_and_xg(settings, pool, warehouse):
    for _ in range(2):  # two loads while the first job is pending: one ml_train job
        await pool.execute("insert into warehouse_loads (db_schema, tables, rows) values ('public', '{}', 0)")
    [train] = await pool.fetch("select * from job_requests where kind = 'ml_train'")
    assert train["dedupe_key"] == "ml_train:auto"
    async with running_daemon(settings):
        done = await wait_for_status(pool, train["id"], {"completed", "failed"}, timeout=240)
        assert done["status"] == "completed", done["error"]
        predict_id = done["result"]["ml_predict_job"]
        predicted = await wait_for_status(pool, predict_id, {"completed", "failed"}, timeout=120)
        assert predicted["status"] == "completed", predicted["error"]
        again = await queries.enqueue_job(pool, "ml_train", {"predict": False})
        second = await wait_for_status(pool, again["id"], {"completed", "failed"}, timeout=240)
    models = await pool.fetch("select model, version, data_hash, metrics, params from ml_models order by model")
    assert [m["model"] for m in models] == sorted(["game_outcome", "win_probability", "player_projection", "xg",
                                                  "playoff_probability", "similar_players"])
    assert {m["version"] for m in models} == {1}
    assert all(len(m["data_hash"]) == 64 and m["params"] for m in models)
    steps = {r["step"] for r in await pool.fetch("select step from job_events where job_id = $1", train["id"])}
    # progress per model (writes are throttled, so quick models may share a write; the slow first one cannot)
    assert "model game_outcome" in steps and len({s for s in steps if s and s.startswith("model ")}) >= 2
    # the same data again: same versions, nothing new recorded
    assert second["status"] == "completed", second["error"]
    assert all(not m["new_version"] for m in second["result"]["models"])
    # predictions: every shot has its xG, in the ml table and in fact_shots
    shots = await pool.fetchval("select count(*) from fact_shots")
    assert predicted["result"]["tables"]["ml_shot_xg"] == shots > 0
    assert predicted["result"]["xg_columns_filled"] == {"fact_shots.xg": shots}
    assert await pool.fetchval("select count(*) from fact_shots where xg is null") == 0
    xg_sum = await pool.fetchval("select sum(xg) from fact_shots")
    assert xg_sum == pytest.approx(await pool.fetchval("select sum(xg) from ml_shot_xg"))
    assert await pool.fetchval("select count(*) from ml_player_projections") > 20
    assert await pool.fetchval("select count(*) from ml_team_strengths") > 4
    assert await pool.fetchval("select count(*) from pg_tables where tablename like 'ml\\_%\\_\\_new'") == 0


async def test_ml_train_on_a_warehouse_without_the_contract_columns_fails_once_and_says_why(settings, pool,
                                                                                         warehouse):
    await pool.execute('alter table fact_gameroster rename column "assist" to "assists"')
    job = await queries.enqueue_job(pool, "ml_train", {})
    async with running_daemon(settings):
        done = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
    assert done["status"] == "failed" and done["attempts"] == 1
    assert "fact_gameroster" in done["error"] and "assist" in done["error"]


async def test_the_model_registry_is_read_by_users_and_written_by_the_daemon_only(pool):
    await pool.execute("select * from record_ml_model('m', now(), 'h', 1, '{}', '{}', true, '{\"a\": 1}', '', null)")
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("set local role authenticated")
            assert await conn.fetchval("select count(*) from ml_models") == 1
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.execute("insert into ml_models (model, version, trained_at, data_hash, n_train, params) "
                                   "values ('x', 1, now(), 'h', 1, '{}')")
        async with conn.transaction():
            await conn.execute("set local role anon")
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetchval("select count(*) from ml_models")


@pytest.fixture
async def served(pool, settings, db_url, synth_models, monkeypatch):  # noqa: F811
    monkeypatch.setattr(routes_ml, "RELOAD_CHECK_SECONDS", 0.0)
    async with pool.acquire() as conn:
        await ml_store.record_models(conn, [m.record() for m in synth_models], None)
    app = create_app(pool, settings, db_url)
    async with TestClient(TestServer(app)) as client:
        yield client


def _a_game(synth_models):  # noqa: F811
    params = {m.name: m for m in synth_models}["game_outcome"].params
    home, season = params["teams"][0].split("|")
    away = next(t.split("|")[0] for t in params["teams"] if t.endswith("|" + season) and not t.startswith(home))
    return home, away, season


async def test_api_lists_models_with_backtests_and_predicts_from_memory(served, synth_models, pool):  # noqa: F811
    listing = await (await served.get("/api/ml/models")).json()
    by_name = {m["model"]: m for m in listing["models"]}
    assert len(by_name) == 6 and by_name["player_projection"]["metrics"]["baselines"]["season-to-date rate"]
    assert by_name["similar_players"]["beats_baseline"] is None
    home, away, season = _a_game(synth_models)
    resp = await served.post("/api/ml/predict", json={"model": "game_outcome", "inputs": {
        "home_team_id": home, "away_team_id": away, "season_id": season}})
    assert resp.status == 200
    body = await resp.json()
    p = body["prediction"]
    assert body["version"] == 1
    assert p["home_win_probability"] + p["tie_probability"] + p["away_win_probability"] == pytest.approx(1)
    # old route, old fields
    old = await (await served.post("/api/ml/predict/game-outcome", json={
        "home_team_id": home, "away_team_id": away, "season_id": season})).json()
    assert old["home_win_probability"] == p["home_win_probability"] and old["model_version"] == "game_outcome:v1"
    assert {"over_under_line", "key_factors", "confidence"} <= set(old)
    # a new version is served without a restart
    rec = {m.name: m for m in synth_models}["game_outcome"].record()
    rec["data_hash"], rec["params"]["home"] = "0" * 64, rec["params"]["home"] + 0.5
    async with pool.acquire() as conn:
        await ml_store.record_models(conn, [rec], None)
    newer = await (await served.post("/api/ml/predict", json={"model": "game_outcome", "inputs": {
        "home_team_id": home, "away_team_id": away, "season_id": season}})).json()
    assert newer["version"] == 2 and newer["prediction"]["home_win_probability"] > p["home_win_probability"]


async def test_api_answers_404_for_unknown_entities_422_for_impossible_states_501_for_unsupported(served):
    unknown = await served.post("/api/ml/predict", json={"model": "game_outcome", "inputs": {
        "home_team_id": "NOPE", "away_team_id": "NOPE2", "season_id": "S1"}})
    assert unknown.status == 404 and "NOPE" in (await unknown.json())["detail"]
    player = await served.post("/api/ml/predict/player-stats", json={"player_id": "P0", "season_id": "S1"})
    assert player.status == 404
    impossible = await served.post("/api/ml/predict", json={"model": "win_probability", "inputs": {
        "home_score": -1, "away_score": 0, "period": 2, "seconds_left": 10}})
    assert impossible.status == 422
    assert (await impossible.json())["errors"][0]["loc"][:2] == ["body", "home_score"]
    period = await served.post("/api/ml/predict/real-time-win-probability", json={
        "game_id": 1, "current_score_home": 1, "current_score_away": 0, "current_period": 5,
        "time_remaining_seconds": 10})
    assert period.status == 422
    model = await served.post("/api/ml/predict", json={"model": "injury", "inputs": {}})
    assert model.status == 422
    for method, path in (("GET", "/api/ml/assess/injury-risk"), ("POST", "/api/ml/optimize/lineup"),
                         ("POST", "/api/ml/predict/line-chemistry"), ("GET", "/api/ml/compare/player-value"),
                         ("GET", "/api/ml/detect/breakout-players")):
        resp = await served.request(method, path)
        assert resp.status == 501, path
        assert "data" in (await resp.json())["detail"]
    ok = await served.post("/api/ml/predict/real-time-win-probability", json={
        "game_id": 1, "current_score_home": 2, "current_score_away": 0, "current_period": 3,
        "time_remaining_seconds": 60})
    body = await ok.json()
    assert ok.status == 200 and body["home_win_probability"] > 0.9 and body["momentum_score"] is None
