"""End-to-end HTTP tests of the REST API on the real test database: every create route inserts a job the
daemon would run, reads give it back, cancel/duplicate/limit/validation answers are what the portal sees."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon.http import create_app
from daemon.http.app_keys import CHANGES
from daemon_harness import running_daemon, wait_for_status

pytestmark = pytest.mark.db


@pytest.fixture
def settings(settings):
    """Credentials are tested in test_api_auth.py and below; here every caller is the local admin."""
    return settings.model_copy(update={"api_auth": "off"})


@pytest.fixture
async def client(pool, settings, db_url) -> AsyncIterator[TestClient]:
    app = create_app(pool, settings, db_url)
    async with TestClient(TestServer(app)) as client:
        yield client


async def _job_row(pool, job_id: str):
    return await pool.fetchrow("select * from job_requests where id = $1", uuid.UUID(job_id))


def _form(filename: str, content: bytes, **fields: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    form.add_field("file", io.BytesIO(content), filename=filename)
    return form


async def test_created_job_is_answered_202_with_location_and_read_back(client, pool):
    resp = await client.post("/api/upload/to-supabase", json={"mode": "dims", "dry_run": True})
    assert resp.status == 202
    job = await resp.json()
    assert resp.headers["Location"] == f"/api/jobs/{job['job_id']}"
    assert resp.headers["Job-Existing"] == "false"
    row = await _job_row(pool, job["job_id"])
    assert (row["kind"], row["status"]) == ("upload", "pending")
    assert row["params"]["mode"] == "dims" and row["params"]["dry_run"] is True

    read = await client.get(resp.headers["Location"])
    assert read.status == 200
    again = await read.json()
    assert again == job
    assert set(again) >= {"job_id", "kind", "status", "progress", "current_step", "result", "error", "errors",
                          "created_at", "started_at", "completed_at", "tables_created"}


@pytest.mark.parametrize(("path", "body", "kind"), [
    ("/api/upload/to-supabase", {"mode": "tables", "tables": ["dim_player"], "schema": "public"}, "upload"),
    ("/api/upload/schema", {"apply": True}, "schema"),
    ("/api/upload/generate-schema", None, "schema"),
    ("/api/etl/validate", {"target": "output"}, "validate"),
    ("/api/etl/trigger", {"mode": "single", "game_ids": [18969]}, "etl"),
    ("/api/staging/blb", {"table": "dim_player", "rows": [{"player_id": "P1"}]}, "staging_blb"),
    ("/api/staging/tracking", {"file": "raw/tracking/18969_tracking.xlsx"}, "staging_tracking"),
])
async def test_each_create_route_inserts_its_kind_of_job(client, pool, settings, path, body, kind):
    tracker = settings.data_dir / "raw" / "tracking" / "18969_tracking.xlsx"  # the API checks files exist
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.touch()
    resp = await client.post(path, json=body) if body is not None else await client.post(path)
    assert resp.status == 202, await resp.text()
    job = await resp.json()
    row = await _job_row(pool, job["job_id"])
    assert row["kind"] == kind and job["kind"] == kind
    assert row["requested_by"] == "api"
    for key, value in (body or {}).items():
        assert row["params"][key] == value


async def test_duplicate_request_returns_the_active_job(client, pool):
    first = await client.post("/api/upload/to-supabase", json={"mode": "facts"})
    second = await client.post("/api/upload/to-supabase", json={"mode": "facts"})
    assert first.status == 202 and second.status == 200
    assert second.headers["Job-Existing"] == "true"
    assert (await first.json())["job_id"] == (await second.json())["job_id"]
    assert await pool.fetchval("select count(*) from job_requests where kind = 'upload'") == 1
    # other params are another job
    third = await client.post("/api/upload/to-supabase", json={"mode": "dims"})
    assert third.status == 202


async def test_cancel_answers_202_then_409_and_404(client, pool):
    job = await (await client.post("/api/upload/to-supabase", json={"mode": "all"})).json()
    resp = await client.delete(f"/api/jobs/{job['job_id']}")
    assert resp.status == 202
    assert (await resp.json())["status"] == "cancelled"
    assert (await _job_row(pool, job["job_id"]))["status"] == "cancelled"

    again = await client.delete(f"/api/jobs/{job['job_id']}")
    assert again.status == 409
    assert "already ended" in (await again.json())["detail"]

    unknown = await client.delete(f"/api/jobs/{uuid.uuid4()}")
    assert unknown.status == 404
    assert "detail" in await unknown.json()


async def test_cancel_of_a_running_job_flags_it_and_the_daemon_ends_it(client, pool, settings):
    job = await (await client.post("/api/staging/blb", json={"table": "dim_player", "rows": []})).json()
    sleeper = await pool.fetchrow("select id from enqueue_job('sleep', '{\"seconds\": 30}'::jsonb)")
    async with running_daemon(settings):
        await wait_for_status(pool, sleeper["id"], "running")
        resp = await client.delete(f"/api/jobs/{sleeper['id']}")
        assert resp.status == 202
        body = await resp.json()
        assert body["status"] == "running" and body["cancel_requested"] is True
        await wait_for_status(pool, sleeper["id"], "cancelled")
        await wait_for_status(pool, uuid.UUID(job["job_id"]), {"completed", "failed"})
    ended = await (await client.get(f"/api/jobs/{sleeper['id']}")).json()
    assert ended["status"] == "cancelled" and ended["completed_at"] is not None


async def test_failed_job_shows_its_error_messages(client, pool, settings):
    job_id = await pool.fetchval("select id from enqueue_job('sleep', '{\"fail\": true}'::jsonb, max_attempts => 1)")
    async with running_daemon(settings):
        await wait_for_status(pool, job_id, "failed")
    job = await (await client.get(f"/api/jobs/{job_id}")).json()
    assert job["status"] == "failed"
    assert job["error"] and job["errors"] == [job["error"]]
    events = await (await client.get(f"/api/jobs/{job_id}/events")).json()
    assert [e["status"] for e in events["events"]][-1] == "failed"


async def test_job_list_filters_and_pages_with_a_cursor(client, pool):
    ids = [await pool.fetchval("select id from enqueue_job('sleep', $1::jsonb)", {"seconds": i}) for i in range(5)]
    await pool.fetchval("select id from enqueue_job('validate', '{}'::jsonb)")
    seen = []
    cursor = None
    while True:
        resp = await client.get("/api/jobs", params={"kind": "sleep", "limit": 2, **({"cursor": cursor} if cursor else {})})
        assert resp.status == 200
        page = await resp.json()
        seen += [j["job_id"] for j in page["jobs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(i) for i in reversed(ids)]
    pending = await (await client.get("/api/jobs", params={"status": "completed"})).json()
    assert pending["jobs"] == []


async def test_bad_json_is_400_and_unknown_field_is_422_with_field_errors(client, pool):
    bad = await client.post("/api/upload/to-supabase", data=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status == 400
    assert "malformed JSON" in (await bad.json())["detail"]

    # our own routes' models stay strict (the seed-shaped ones are tested in test_api_seed_contract.py)
    unknown = await client.post("/api/etl/validate", json={"target": "output", "colour": "red"})
    assert unknown.status == 422
    body = await unknown.json()
    assert {"loc": ["body", "colour"], "msg": "Extra inputs are not permitted", "type": "extra_forbidden"} in body["errors"]
    assert body["detail"] == "Invalid request: body.colour: Extra inputs are not permitted."

    wrong = await client.post("/api/etl/validate", json={"target": "sometimes"})
    assert wrong.status == 422
    assert (await wrong.json())["errors"][0]["loc"] == ["body", "target"]
    assert await pool.fetchval("select count(*) from job_requests") == 0


async def test_malformed_ids_and_unknown_routes_answer_detail(client):
    assert (await client.get("/api/jobs/not-a-uuid")).status == 422
    missing = await client.get(f"/api/jobs/{uuid.uuid4()}")
    assert missing.status == 404 and "no job" in (await missing.json())["detail"]
    nowhere = await client.get("/api/nowhere")
    assert nowhere.status == 404 and await nowhere.json() == {"detail": "not found"}
    wrong_method = await client.put("/api/jobs")
    assert wrong_method.status == 405 and "detail" in await wrong_method.json()


async def test_json_body_over_the_upload_limit_is_413(pool, settings, db_url):
    small = settings.model_copy(update={"upload_limit_bytes": 1000})
    async with TestClient(TestServer(create_app(pool, small, db_url))) as client:
        resp = await client.post("/api/staging/blb", json={"table": "dim_player", "rows": [{"x": "y" * 2000}]})
        assert resp.status == 413
        assert "detail" in await resp.json()


async def test_tracker_upload_over_the_limit_is_413_and_stores_nothing(pool, settings, db_url):
    small = settings.model_copy(update={"upload_limit_bytes": 10_000})
    async with TestClient(TestServer(create_app(pool, small, db_url))) as client:
        resp = await client.post("/api/upload/tracking", data=_form("18969_tracking.json", b"{" + b" " * 20_000 + b"}"))
        assert resp.status == 413
    assert not (settings.data_dir / "raw" / "tracking").exists() or not any((settings.data_dir / "raw" / "tracking").iterdir())
    assert await pool.fetchval("select count(*) from job_requests") == 0


async def test_streamed_upload_without_length_is_refused_once_over_the_limit(pool, settings, db_url):
    """A chunked body declares no length: the limit is enforced while reading the parts."""
    small = settings.model_copy(update={"upload_limit_bytes": 10_000})
    head = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="18969.json"\r\n'
            b"Content-Type: application/json\r\n\r\n{")

    async def chunks():
        yield head
        for _ in range(40):
            yield b" " * 1000
        yield b"}\r\n--b--\r\n"

    async with TestClient(TestServer(create_app(pool, small, db_url))) as client:
        resp = await client.post("/api/staging/tracking/upload", data=chunks(),
                                 headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert resp.status == 413
        assert "limit" in (await resp.json())["detail"]
    assert await pool.fetchval("select count(*) from job_requests") == 0


async def test_tracker_upload_stores_the_file_and_enqueues_staging_once(client, pool, settings):
    content = json.dumps({"gameId": 18969, "events": []}).encode()
    first = await client.post("/api/staging/tracking/upload", data=_form("18969_tracking.json", content))
    assert first.status == 202, await first.text()
    job = await first.json()
    stored = settings.data_dir / job["params"]["file"]
    assert stored.read_bytes() == content
    assert job["params"]["game_id"] == 18969
    row = await _job_row(pool, job["job_id"])
    assert row["dedupe_key"] == f"staging_tracking:{job['params']['sha256']}"

    again = await client.post("/api/upload/tracking", data=_form("renamed.json", content))
    assert again.status == 200 and (await again.json())["job_id"] == job["job_id"]

    wrong = await client.post("/api/upload/tracking", data=_form("notes.txt", b"hello"))
    assert wrong.status == 422
    assert (await wrong.json())["errors"][0]["loc"] == ["body", "file"]

    not_multipart = await client.post("/api/upload/tracking", json={"file": "x"})
    assert not_multipart.status == 400


async def test_table_csv_upload_checks_columns_then_writes_and_enqueues(client, pool, settings):
    from etl.catalog import TABLES

    columns = TABLES["dim_team"].column_names
    good = (",".join(columns) + "\n" + ",".join("" for _ in columns) + "\n").encode()
    resp = await client.post("/api/upload/tables", data=_form("teams.csv", good, table="dim_team"))
    assert resp.status == 202, await resp.text()
    job = await resp.json()
    assert job["kind"] == "upload" and job["params"]["mode"] == "tables" and job["params"]["tables"] == ["dim_team"]
    assert (settings.output_dir / "dim_team.csv").read_bytes() == good

    bad_header = (",".join(columns[1:] + ["colour"]) + "\n").encode()
    resp = await client.post("/api/upload/tables", data=_form("teams.csv", bad_header, table="dim_team"))
    assert resp.status == 422
    messages = " ".join(e["msg"] for e in (await resp.json())["errors"])
    assert columns[0] in messages and "colour" in messages

    unreadable = await client.post("/api/upload/tables", data=_form("teams.csv", b"\xff\xfe\x00bad", table="dim_team"))
    assert unreadable.status == 400
    unknown = await client.post("/api/upload/tables", data=_form("x.csv", good, table="dim_nothing"))
    assert unknown.status == 422
    assert (settings.output_dir / "dim_team.csv").read_bytes() == good


async def test_health_reports_database_queue_and_daemons(client, pool, settings):
    assert await (await client.get("/api/health")).json() == {"status": "ok", "daemon": None}
    await pool.fetchval("select id from enqueue_job('validate', '{}'::jsonb)")
    await pool.execute("select worker_seen('api-test', '{}'::jsonb)")
    resp = await client.get("/api/health/db")
    assert resp.status == 200
    db = await resp.json()
    newest = await pool.fetchval("select max(version) from supabase_migrations.schema_migrations")
    assert db["database"] == "ok" and db["migration_version"] == newest
    assert db["queue"] == {"pending": 1}
    assert db["oldest_pending_seconds"] >= 0
    assert [w["worker"] for w in db["workers"]] == ["api-test"]


async def test_staging_status_lists_every_staging_table(client):
    resp = await client.get("/api/staging/status")
    assert resp.status == 200
    status = await resp.json()
    names = {t["table"] for t in status["tables"]}
    assert {"stage_events", "stage_shifts", "stage_dim_player"} <= names
    assert status["tracking_games"] == 0


async def test_cors_allows_the_configured_origin_only(pool, settings, db_url):
    configured = settings.model_copy(update={"cors_origins": "https://portal.example"})
    async with TestClient(TestServer(create_app(pool, configured, db_url))) as client:
        pre = await client.options("/api/etl/trigger", headers={
            "Origin": "https://portal.example", "Access-Control-Request-Method": "POST"})
        assert pre.status == 204 and "POST" in pre.headers["Access-Control-Allow-Methods"]
        ok = await client.get("/api/health", headers={"Origin": "https://portal.example"})
        assert ok.headers["Access-Control-Allow-Origin"] == "https://portal.example"
        other = await client.get("/api/health", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers


async def test_openapi_document_uses_the_handlers_params_models(client):
    from handlers.upload import UploadParams

    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    body = doc["paths"]["/api/upload/to-supabase"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    name = body["$ref"].rsplit("/", 1)[-1]
    assert set(doc["components"]["schemas"][name]["properties"]) == set(
        UploadParams.model_json_schema()["properties"])
    docs = await client.get("/api/docs")
    assert docs.status == 200 and "/api/openapi.json" in await docs.text()


async def test_signed_in_user_creates_jobs_as_itself_and_sees_only_its_own(pool, settings, db_url):
    import time

    import jwt
    from pydantic import SecretStr

    secret = "api-test-secret-" + uuid.uuid4().hex
    required = settings.model_copy(update={"api_auth": "required", "supabase_jwt_secret": SecretStr(secret)})

    def as_user(sub: str) -> dict:
        claims = {"sub": sub, "role": "authenticated", "aud": "authenticated", "exp": int(time.time()) + 600}
        return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}

    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    async with TestClient(TestServer(create_app(pool, required, db_url))) as client:
        assert (await client.get("/api/jobs")).status == 401
        assert (await client.get("/api/health")).status == 200
        created = await client.post("/api/upload/to-supabase", json={"mode": "dims"}, headers=as_user(alice))
        assert created.status == 202
        job = await created.json()
        assert job["requested_by"] == alice
        assert (await client.get(f"/api/jobs/{job['job_id']}", headers=as_user(alice))).status == 200
        assert (await client.get(f"/api/jobs/{job['job_id']}", headers=as_user(bob))).status == 404
        assert (await client.delete(f"/api/jobs/{job['job_id']}", headers=as_user(bob))).status == 404
        assert (await (await client.get("/api/jobs", headers=as_user(bob))).json())["jobs"] == []
        mine = await (await client.get("/api/jobs", headers=as_user(alice))).json()
        assert [j["job_id"] for j in mine["jobs"]] == [job["job_id"]]


async def test_large_json_rows_are_accepted_and_stored_whole(client, pool):
    rows = [{"player_id": f"P{i}", "player_full_name": "x" * 40} for i in range(5000)]
    resp = await client.post("/api/staging/blb", json={"table": "dim_player", "rows": rows})
    assert resp.status == 202
    job = await resp.json()
    assert (await _job_row(pool, job["job_id"]))["params"]["rows"] == rows


async def test_repeated_reads_see_every_change_made_behind_the_api(client, pool):
    """GET /api/jobs/{id} is served from a cache while LISTEN job_changes is up; changes made with plain SQL
    (a cancel flag, progress, the end) must show on the next read after their notification."""
    job = await (await client.post("/api/etl/trigger", json={"mode": "full"})).json()
    job_id = uuid.UUID(job["job_id"])
    await client.app[CHANGES].listener.connected.wait()

    async def read_until(check, what: str) -> dict:
        for _ in range(200):
            body = await (await client.get(f"/api/jobs/{job_id}")).json()
            if check(body):
                return body
            await asyncio.sleep(0.01)
        raise AssertionError(f"the API never showed {what}: {body}")

    await read_until(lambda b: b["status"] == "pending", "pending")
    cache = client.app[CHANGES].cache
    for _ in range(100):  # the insert's own notification may land during the first read (not cached then)
        if cache.get(str(job_id)) is not None:
            break
        await client.get(f"/api/jobs/{job_id}")
        await asyncio.sleep(0.01)
    assert cache.get(str(job_id)) is not None  # reads are served from the cache from here on
    await pool.execute("select claim_jobs('w', array['etl'], 1, 30)")
    await read_until(lambda b: b["status"] == "running", "running")
    await pool.execute("select request_cancel($1)", job_id)
    await read_until(lambda b: b["cancel_requested"] is True, "the cancel flag")
    await pool.execute("select report_progress($1, 'w', 'processing', 42, 'game 18969', null)", job_id)
    await read_until(lambda b: (b["progress"], b["current_step"]) == (42, "game 18969"), "progress")
    await pool.execute("select finish_job($1, 'w', 'cancelled', null, 'cancelled on request')", job_id)
    ended = await read_until(lambda b: b["status"] == "cancelled", "the end")
    assert ended["error"] == "cancelled on request" and ended["completed_at"] is not None
