"""Limits and early validation, on the real database: oversized params are refused at the door, lists answer
summaries, and what the API can check (games in the schedule, files in their folder, upload patterns, system
schemas, empty CSVs) is a 422 before any job exists; the CLI and the etl job agree."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import xlsxwriter
from aiohttp.test_utils import TestClient, TestServer

from daemon.http import create_app
from daemon_harness import running_daemon, wait_for_status
from test_cli import _env, benchsight

pytestmark = pytest.mark.db

SCHEDULED = (18969, 18977)


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"api_auth": "off"})


@pytest.fixture
async def client(pool, settings, db_url) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(pool, settings, db_url))) as client:
        yield client


def write_league_workbook(path: Path, games: tuple[int, ...] = SCHEDULED) -> Path:
    """A workbook whose dim_schedule sheet lists `games` (the only sheet the game check reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("dim_schedule")
    sheet.write_row(0, 0, ["game_id", "season_id"])
    for i, game in enumerate(games, start=1):
        sheet.write_row(i, 0, [game, "S1"])
    book.close()
    return path


async def _jobs(pool) -> int:
    return await pool.fetchval("select count(*) from job_requests")


async def test_five_million_game_ids_are_refused_at_the_door(client, pool):
    ids = ",".join(["18969"] * 5_000_000)
    resp = await client.post("/api/etl/trigger", data=f'{{"mode": "single", "game_ids": [{ids}]}}',
                             headers={"Content-Type": "application/json"})
    assert resp.status == 413
    over_list_limit = await client.post("/api/etl/trigger", json={"mode": "single", "game_ids": [1] * 10_001})
    assert over_list_limit.status == 422
    assert "10000" in str(await over_list_limit.json())
    assert await _jobs(pool) == 0


async def test_job_list_answers_summaries_without_params_or_result(client, pool):
    big = {"rows": [{"x": "y" * 1000} for _ in range(300)]}
    await pool.execute("insert into job_requests (kind, params, status, result, finished_at) "
                       "values ('staging_blb', $1, 'completed', $1, now())", big)
    for path in ("/api/jobs", "/api/etl/history"):
        resp = await client.get(path)
        assert resp.status == 200
        assert len(await resp.read()) < 5_000, path
    listed = (await (await client.get("/api/jobs")).json())["jobs"][0]
    assert "params" not in listed and "result" not in listed
    assert {"job_id", "kind", "status", "progress", "current_step", "error", "requested_by", "created_at",
            "started_at", "completed_at"} <= set(listed)
    whole = await (await client.get(f"/api/jobs/{listed['job_id']}")).json()
    assert whole["params"] == big


@pytest.mark.parametrize("where", ["workbook", "database"])
async def test_unknown_game_ids_are_422_before_enqueueing(client, pool, settings, where):
    if where == "workbook":
        write_league_workbook(settings.data_dir / "raw" / "BLB_Tables.xlsx")
    else:
        await pool.execute("create table public.dim_schedule (game_id bigint)")
        await pool.executemany("insert into public.dim_schedule values ($1)", [(g,) for g in SCHEDULED])
    for body in ({"mode": "single", "game_ids": [99999]}, {"exclude_game_ids": [18969, 424242]},
                 {"mode": "single", "game_ids": [-5]}):
        resp = await client.post("/api/etl/trigger", json=body)
        assert resp.status == 422, body
    detail = await (await client.post("/api/etl/trigger", json={"mode": "single", "game_ids": [99999]})).json()
    assert "99999" in str(detail) and "schedule" in str(detail)
    assert await _jobs(pool) == 0
    ok = await client.post("/api/etl/trigger", json={"mode": "single", "game_ids": [18977]})
    assert ok.status == 202


async def test_etl_job_inserted_directly_with_unknown_games_fails_clearly(pool, settings):
    write_league_workbook(settings.data_dir / "raw" / "BLB_Tables.xlsx")
    job_id = await pool.fetchval("insert into job_requests (kind, params) values ('etl', $1) returning id",
                                 {"mode": "single", "game_ids": [99999]})
    async with running_daemon(settings):
        row = await wait_for_status(pool, job_id, {"completed", "failed"}, timeout=30)
    assert row["status"] == "failed"
    assert "99999" in row["error"] and "schedule" in row["error"]


def test_cli_refuses_unknown_games(db_url, tmp_path):
    env = _env(db_url, tmp_path)
    workbook = write_league_workbook(tmp_path / "data" / "raw" / "BLB_Tables.xlsx")
    enqueued = benchsight("enqueue", "etl", "--params", '{"mode": "single", "game_ids": [99999]}', env=env)
    assert enqueued.returncode == 2, enqueued.stderr
    assert "99999" in enqueued.stderr
    etl = benchsight("etl", "--blb", str(workbook), "--tracking", str(tmp_path), "--out", str(tmp_path / "out"),
                     "--games", "99999", env=env)
    assert etl.returncode == 2, etl.stderr
    assert "99999" in etl.stderr and "schedule" in etl.stderr


@pytest.mark.parametrize("path, body", [
    ("/api/staging/tracking", {"file": "../../etc/passwd.json"}),
    ("/api/staging/tracking", {"file": "/etc/passwd.json"}),
    ("/api/staging/tracking", {"file": "raw/other/18969.json"}),
    ("/api/staging/tracking", {"file": "raw/tracking/18969.csv"}),
    ("/api/staging/tracking", {"file": "raw/tracking/missing.json"}),
    ("/api/staging/blb", {"table": "dim_player", "file": "../BLB_Tables.xlsx", "replace": False}),
    ("/api/staging/blb", {"table": "dim_player", "file": "raw/missing.xlsx", "replace": False}),
    ("/api/upload/to-supabase", {"mode": "pattern", "pattern": "nothing_*"}),
    ("/api/upload/to-supabase", {"schema": "information_schema"}),
    ("/api/upload/to-supabase", {"schema": "pg_catalog"}),
    ("/api/upload/to-supabase", {"schema": "pg_temp_3"}),
    ("/api/upload/to-supabase", {"schema": "auth"}),
    ("/api/upload/to-supabase", {"schema": "storage"}),
    ("/api/upload/to-supabase", {"schema": "supabase_migrations"}),
])
async def test_params_the_api_can_check_are_422(client, pool, path, body):
    resp = await client.post(path, json=body)
    assert resp.status == 422, await resp.text()
    assert await _jobs(pool) == 0


async def test_header_only_csv_does_not_empty_a_table_unless_asked(client, pool, settings):
    from etl.catalog import TABLES

    header_only = (",".join(TABLES["dim_team"].column_names) + "\n").encode()

    def form(**fields: str) -> aiohttp.FormData:
        data = aiohttp.FormData()
        for name, value in {"table": "dim_team", **fields}.items():
            data.add_field(name, value)
        data.add_field("file", io.BytesIO(header_only), filename="teams.csv")
        return data

    refused = await client.post("/api/upload/tables", data=form())
    assert refused.status == 422
    assert "allow_empty" in str(await refused.json())
    assert not (settings.output_dir / "dim_team.csv").exists()
    assert await _jobs(pool) == 0
    allowed = await client.post("/api/upload/tables", data=form(allow_empty="true"))
    assert allowed.status == 202


async def test_openapi_states_the_limits(client):
    doc = await (await client.get("/api/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    def body_schema(path: str) -> dict:
        ref = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schemas[ref.rsplit("/", 1)[-1]]

    etl = body_schema("/api/etl/trigger")
    game_ids = etl["properties"]["game_ids"]
    assert 10_000 in (game_ids.get("maxItems"), *(a.get("maxItems") for a in game_ids.get("anyOf", [])))
    upload = body_schema("/api/upload/to-supabase")
    assert "information_schema" in upload["properties"]["schema"]["description"]
    trigger = doc["paths"]["/api/etl/trigger"]["post"]["responses"]
    assert {"413", "415", "422"} <= set(trigger)
