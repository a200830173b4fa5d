"""Two hosts on one database: inputs and outputs live in the database, so any daemon runs any job.

Host A serves the API (its own data dir); host B runs the jobs (another data dir, never host A's files). A
tracker file uploaded to A is staged, built and loaded by B; an upload job run on A loads B's run; a second
version of a game's file replaces the first in the next ETL, and pinning the old one brings its numbers back.
"""

from __future__ import annotations

import io
import json
import shutil
import uuid

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon import queries
from daemon.filestore import FileStore
from daemon.http import create_app
from daemon_harness import running_daemon, wait_for_status
from etl import synth

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def season(tmp_path_factory):
    return synth.generate(tmp_path_factory.mktemp("synth"), games=3, seed=11, formats=("json",))


def _host(settings, tmp_path, name):
    return settings.model_copy(update={"data_dir": tmp_path / name, "worker_id": f"{name}:{uuid.uuid4().hex[:4]}",
                                       "api_auth": "off", "watch": False})


def _form(path) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(path.read_bytes()), filename=path.name)
    return form


async def _goals(pool, game_id: int) -> int:
    return await pool.fetchval("select count(*) from fact_goals where game_id = $1", game_id)


async def test_a_file_uploaded_to_host_a_is_staged_built_and_loaded_by_host_b(settings, pool, db_url, tmp_path,
                                                                           season):
    host_a, host_b = _host(settings, tmp_path, "host-a"), _host(settings, tmp_path, "host-b")
    store_a = FileStore.from_settings(pool, host_a)
    await store_a.put(season.blb.read_bytes(), name="BLB_Tables.xlsx", role="league_workbook", format="xlsx",
                      uploaded_by="admin", source="cli")
    game = season.complete_game_ids[0]
    tracker = next(p for p in season.tracking.rglob("*.json") if p.name.startswith(str(game)))

    app = create_app(pool, host_a, db_url)
    async with TestClient(TestServer(app)) as client:
        resp = await client.post("/api/upload/tracking", data=_form(tracker))
        assert resp.status == 202, await resp.text()
        staging = await resp.json()
        async with running_daemon(host_b) as daemon_b:
            staged = await wait_for_status(pool, uuid.UUID(staging["job_id"]), {"completed", "failed"}, timeout=60)
            assert staged["status"] == "completed", staged["error"]
            assert staged["locked_by"] is None or staged["locked_by"] == daemon_b.worker
            etl = await queries.enqueue_job(pool, "etl", {"options": {"upload_to_supabase": True}})
            built = await wait_for_status(pool, etl["id"], {"completed", "failed"}, timeout=120)
        assert built["status"] == "completed", built["error"]
        assert built["result"]["games"][str(game)]["status"] == "ok"
        events = await pool.fetch("select worker from job_events where job_id = any($1::uuid[]) and worker is not null",
                                  [staged["id"], etl["id"]])
        assert {e["worker"] for e in events} == {host_b.worker_id}
        run = await pool.fetchrow("select * from etl_runs order by id desc limit 1")
        assert run["job_id"] == etl["id"] and run["worker"] == host_b.worker_id and run["output_sha256"]
        assert await _goals(pool, game) == sum(season.official_goals[game].values())
        assert not (host_a.data_dir / "output").exists()  # host A never built anything

        await pool.execute("delete from fact_goals")  # so the next load must come from B's run
        upload = await queries.enqueue_job(pool, "upload", {"mode": "all"})
        async with running_daemon(host_a):
            loaded = await wait_for_status(pool, upload["id"], {"completed", "failed"}, timeout=60)
        assert loaded["status"] == "completed", loaded["error"]
        assert loaded["result"]["etl_run_id"] == run["id"]
        assert await _goals(pool, game) == sum(season.official_goals[game].values())


async def test_a_second_version_replaces_the_first_and_a_pin_brings_it_back(settings, pool, tmp_path, season):
    host = _host(settings, tmp_path, "host")
    store = FileStore.from_settings(pool, host)
    await store.put(season.blb.read_bytes(), name="BLB_Tables.xlsx", role="league_workbook", format="xlsx",
                    uploaded_by="admin", source="cli")
    game = season.complete_game_ids[0]
    tracker = next(p for p in season.tracking.rglob("*.json") if p.name.startswith(str(game)))
    first = await store.put(tracker.read_bytes(), name=tracker.name, role="tracker", game_id=game, format="json",
                            uploaded_by="t", source="api")
    doc = json.loads(tracker.read_bytes())
    goals = [e for e in doc["events"] if str(e.get("type", "")).lower() == "goal"]
    assert goals, "the synthetic game has goals"
    doc["events"] = [e for e in doc["events"] if e is not goals[0]]  # the second version lost one goal
    await store.put(json.dumps(doc).encode(), name=tracker.name, role="tracker", game_id=game, format="json",
                    uploaded_by="t", source="api")

    async def etl_goals() -> int:
        job = await queries.enqueue_job(pool, "etl", {"options": {"upload_to_supabase": True}})
        done = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=120)
        assert done["status"] == "completed", done["error"]
        return await _goals(pool, game)

    official = sum(season.official_goals[game].values())
    async with running_daemon(host):
        assert await etl_goals() == official - 1  # only the newest version is read
        await store.pin(first.id, pinned_by="admin")
        assert await etl_goals() == official  # the pinned older version brings its numbers back
    linked = sorted(p.name for p in (host.data_dir / "inputs" / "current" / "tracking").iterdir())
    assert linked == [f"{game}.json"]
    shutil.rmtree(host.data_dir / "cache", ignore_errors=True)
