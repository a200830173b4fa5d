"""The admin portal's whole path over HTTP: trigger an ETL with upload, follow it on the live stream through
processing and uploading to completed, then read the loaded warehouse tables and the job's history."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon.http import create_app
from daemon_harness import running_daemon
from etl import synth
from test_api_sse import _events


@pytest.fixture(scope="module")
def season(tmp_path_factory: pytest.TempPathFactory) -> synth.SynthSet:
    return synth.generate(tmp_path_factory.mktemp("synth"), games=4, seed=11, formats=("xlsx", "json"),
                          partial_fraction=0.25)


@pytest.fixture
async def client(pool, settings, db_url, season) -> AsyncIterator[TestClient]:
    settings.raw_dir.mkdir(parents=True)
    shutil.copy(season.blb, settings.raw_dir / "BLB_Tables.xlsx")
    shutil.copytree(season.tracking, settings.raw_dir / "tracking")
    app = create_app(pool, settings.model_copy(update={"api_auth": "off"}), db_url)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_etl_triggered_over_http_is_followed_live_to_loaded_tables(client, pool, settings, season):
    created = await client.post("/api/etl/trigger", json={"mode": "full", "options": {"upload_to_supabase": True}})
    assert created.status == 202
    job = await created.json()
    assert created.headers["Location"] == f"/api/jobs/{job['job_id']}"
    again = await client.post("/api/etl/trigger", json={"mode": "full", "options": {"upload_to_supabase": True}})
    assert again.status == 200 and (await again.json())["job_id"] == job["job_id"]  # the active twin

    statuses: list[str] = []
    async with client.get(f"/api/jobs/{job['job_id']}/stream") as stream:
        events = _events(stream)
        name, snapshot = await anext(events)
        assert name == "snapshot" and snapshot["status"] == "pending"
        async with running_daemon(settings):
            async with asyncio.timeout(120):
                async for name, data in events:  # ends after the job's final change
                    if name == "job" and (not statuses or statuses[-1] != data["status"]):
                        statuses.append(data["status"])
    assert statuses[0] == "running" and statuses[-1] == "completed"
    assert statuses.index("processing") < statuses.index("uploading") < statuses.index("completed")

    final = await (await client.get(f"/api/etl/status/{job['job_id']}")).json()
    assert final["status"] == "completed" and final["progress"] == 100 and final["completed_at"]
    assert set(final["table_names"]) >= {"fact_goals", "fact_player_game_stats", "qa_game_completeness"}
    assert final["tables_created"] == len(final["table_names"])
    for game in season.complete_game_ids:
        official = season.official_goals[game]
        tracked = await pool.fetchval("select count(*) from fact_goals where game_id = $1", game)
        assert tracked == official["home"] + official["away"]
    statuses_in_db = dict(await pool.fetch("select game_id, status from qa_game_completeness"))
    assert all(statuses_in_db[g] == "partial" for g in season.partial_game_ids)
    assert all(statuses_in_db[g] == "complete" for g in season.complete_game_ids)
    history = await (await client.get(f"/api/jobs/{job['job_id']}/events")).json()
    assert [e["status"] for e in history["events"]][-1] == "completed"
