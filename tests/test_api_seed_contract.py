"""The old BenchSight API's clients against `benchsight up` (embedded database, auth off on loopback): every
request the seed's admin portal (ui/portal/js/api.js, etl.js, schema.js, sync.js) and its api/test_routes.py
make, with the status codes and the response fields and types those clients read."""

from __future__ import annotations

import itertools
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from etl.catalog import TABLES
from handlers.upload import mode_tables
from seed_server import SeedServer, running_up, wait_for_end

pytestmark = pytest.mark.slow

JSON = {"Content-Type": "application/json"}  # api.js sends it on every request, GET and bodiless POST too
SEED_STATUSES = {"queued", "pending", "running", "processing", "uploading", "completed", "failed", "cancelled"}


@pytest.fixture(scope="module")
def server() -> Iterator[SeedServer]:
    with running_up(prefix="benchsight-seed-contract-") as server:
        yield server


def post(server: SeedServer, path: str, body: object = None) -> requests.Response:
    return requests.post(server.url(path), json=body, headers=JSON, timeout=30)


def get(server: SeedServer, path: str, **params) -> requests.Response:
    return requests.get(server.url(path), params=params, headers=JSON, timeout=30)


def assert_job_response(job: dict) -> None:
    """The seed's JobResponse, field by field, with the types its portal reads."""
    assert isinstance(job["job_id"], str) and job["job_id"]
    assert job["status"] in SEED_STATUSES
    assert job["progress"] is None or (isinstance(job["progress"], int) and 0 <= job["progress"] <= 100)
    assert job["current_step"] is None or isinstance(job["current_step"], str)
    assert job["tables_created"] is None or (isinstance(job["tables_created"], int)
                                             and not isinstance(job["tables_created"], bool))
    assert isinstance(job["errors"], list) and all(isinstance(e, str) for e in job["errors"])
    for key in ("started_at", "completed_at"):
        assert job[key] is None or isinstance(job[key], str)
    assert isinstance(job["created_at"], str)


def assert_readable_error(resp: requests.Response, status: int) -> dict:
    """api.js shows `error.detail` as text: it must be a sentence, never a list."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert isinstance(body["detail"], str) and len(body["detail"]) >= 9
    return body


def cancel_all_active(server: SeedServer) -> None:
    for job in get(server, "/api/etl/history", limit=500).json():
        if job["status"] not in ("completed", "failed", "cancelled"):
            post(server, f"/api/etl/cancel/{job['job_id']}")


# ---------------------------------------------------------------------------- api/test_routes.py

def test_test_routes_script_health_and_trigger(server):
    health = requests.get(server.url("/api/health"))
    assert health.status_code == 200 and isinstance(health.json(), dict)
    resp = requests.post(server.url("/api/etl/trigger"), json={"mode": "full"}, headers=JSON)
    assert resp.status_code == 202
    assert_job_response(resp.json())
    cancel_all_active(server)


# ---------------------------------------------------------------------------- etl.js: runETL in every form

def portal_trigger_body(mode: str, game_ids, exclude, source, clean: bool, verify: bool) -> dict:
    """What api.js triggerETL sends for the ETL form: exclude_game_ids and source lifted out of the options."""
    return {"mode": mode, "game_ids": game_ids, "exclude_game_ids": exclude, "source": source,
            "options": {"wipe": clean, "validate": verify}}


@pytest.mark.parametrize("source", ["excel", "supabase", None])
def test_every_combination_of_the_portal_etl_form_is_accepted(server, source):
    game = server.game_ids[0]
    seen = set()
    for mode, games, exclude, clean, verify in itertools.product(
            ("full", "incremental", "single", "test"), (None, [game]), (None, [server.game_ids[-1]]),
            (True, False), (True, False)):
        if mode == "single" and games is None:
            continue  # etl.js refuses this before sending (and the API answers 400, below)
        resp = post(server, "/api/etl/trigger", portal_trigger_body(mode, games, exclude, source, clean, verify))
        assert resp.status_code in (200, 202), resp.text  # 200: the same request's job is still active
        job = resp.json()
        assert_job_response(job)
        assert job["kind"] == "etl" and job["params"]["mode"] == mode
        assert job["params"]["source"] == ("staging" if source == "supabase" else "excel")
        assert job["params"]["options"]["validate"] is verify
        seen.add(job["job_id"])
    assert len(seen) > 20
    cancel_all_active(server)


def test_old_api_refusals_are_400_with_a_sentence(server):
    assert_readable_error(post(server, "/api/etl/trigger", {"mode": "single", "game_ids": None}), 400)
    assert_readable_error(post(server, "/api/etl/trigger", {"mode": "sometimes"}), 400)
    assert_readable_error(post(server, "/api/etl/trigger", {"mode": "full", "source": "ftp"}), 400)
    assert_readable_error(post(server, "/api/upload/to-supabase", {"mode": "everything"}), 400)


def test_validation_errors_are_a_sentence_with_the_field_list_beside_it(server):
    body = assert_readable_error(post(server, "/api/etl/trigger", {"game_ids": ["x"]}), 422)
    assert "mode" in body["detail"] and "game_ids" in body["detail"]
    assert {tuple(e["loc"]) for e in body["errors"]} >= {("body", "mode"), ("body", "game_ids", 0)}
    wrong_option = assert_readable_error(post(server, "/api/etl/trigger", {"mode": "full", "options": {"wipe": "yes"}}), 422)
    assert wrong_option["errors"][0]["loc"] == ["body", "options", "wipe"]


def test_unknown_fields_are_ignored_as_before_and_unknown_options_reported_in_the_job_history(server):
    resp = post(server, "/api/etl/trigger", {"mode": "test", "colour": "red", "options": {"turbo": True}})
    assert resp.status_code == 202, resp.text
    job = wait_for_end(server, "/api/etl/status", resp.json()["job_id"])
    assert job["status"] == "completed", job
    assert job["params"]["options"]["turbo"] is True  # kept in the job's params
    events = get(server, f"/api/jobs/{job['job_id']}/events").json()["events"]
    assert any(e["message"] and "ignored options: turbo" in e["message"] for e in events)


def test_full_run_with_the_portal_options_completes_with_a_table_count(server):
    resp = post(server, "/api/etl/trigger", portal_trigger_body("full", None, None, "excel", True, True))
    assert resp.status_code == 202
    first = resp.json()
    assert first["status"] == "pending" and first["progress"] == 0
    job = wait_for_end(server, "/api/etl/status", first["job_id"])
    assert_job_response(job)
    assert job["status"] == "completed" and job["progress"] == 100 and job["completed_at"]
    assert job["tables_created"] == len(job["table_names"]) == len(TABLES)
    assert job["errors"] == []
    assert job["result"]["validation"]["ok"] is True  # options.validate ran in the same job


def test_run_without_options_completes(server):
    resp = post(server, "/api/etl/trigger", {"mode": "full", "game_ids": None, "exclude_game_ids": None,
                                             "source": None})
    job = wait_for_end(server, "/api/etl/status", resp.json()["job_id"])
    assert job["status"] == "completed" and "validation" not in job["result"]


def test_incremental_rebuilds_only_changed_inputs(server):
    done = wait_for_end(server, "/api/etl/status",
                        post(server, "/api/etl/trigger", {"mode": "full"}).json()["job_id"])
    assert done["status"] == "completed"
    same = wait_for_end(server, "/api/etl/status",
                        post(server, "/api/etl/trigger", {"mode": "incremental"}).json()["job_id"])
    assert same["status"] == "completed" and same["tables_created"] == 0
    assert same["result"]["status"] == "unchanged"

    tracking = server.data_dir / "raw" / "tracking"
    game = server.game_ids[1]
    original = next(p for p in sorted(tracking.iterdir()) if p.name.startswith(str(game)))
    changed_copy = tracking / f"{game}_copy{original.suffix}"  # a new version of that game's file
    shutil.copy(original, changed_copy)
    if original.suffix == ".json":
        changed_copy.write_bytes(original.read_bytes() + b"\n")
    else:
        with zipfile.ZipFile(changed_copy, "a") as book:  # same sheets, other bytes (a zip comment)
            book.comment = b"second version"
    changed = wait_for_end(server, "/api/etl/status",
                           post(server, "/api/etl/trigger", {"mode": "incremental"}).json()["job_id"])
    assert changed["status"] == "completed", changed
    assert changed["result"]["changed_games"] == [game]
    assert changed["tables_created"] == len(TABLES)


def test_test_mode_builds_game_99999_beside_the_real_output(server):
    manifest = server.data_dir / "output" / "manifest.json"
    before = manifest.stat().st_mtime_ns if manifest.exists() else None
    body = portal_trigger_body("test", None, None, "excel", True, True)
    body["options"]["upload_to_supabase"] = True  # never for the test game: reported, not done
    job = wait_for_end(server, "/api/etl/status", post(server, "/api/etl/trigger", body).json()["job_id"])
    assert job["status"] == "completed", job
    assert job["result"]["test_game"]["game_id"] == 99999
    assert "99999" in job["result"]["games"] and job["result"]["validation"]["ok"] is True
    assert "uploaded" not in job["result"]
    assert (server.data_dir / "test" / "output" / "fact_events.csv").is_file()
    assert (manifest.stat().st_mtime_ns if manifest.exists() else None) == before
    events = get(server, f"/api/jobs/{job['job_id']}/events").json()["events"]
    assert any(e["message"] and "upload_to_supabase: mode 'test' never loads" in e["message"] for e in events)


# ---------------------------------------------------------------------------- etl.js: stopETL

def test_stop_cancels_a_queued_and_a_running_run_and_says_why(server):
    running = post(server, "/api/etl/trigger", {"mode": "full", "options": {"wipe": True, "validate": True}}).json()
    queued = post(server, "/api/etl/trigger", {"mode": "full", "options": {"wipe": True}}).json()

    stopped = post(server, f"/api/etl/cancel/{queued['job_id']}")
    assert stopped.status_code == 200, stopped.text
    assert_job_response(stopped.json())
    assert stopped.json()["status"] == "cancelled"
    assert stopped.json()["errors"] == ["cancelled before start"]

    resp = post(server, f"/api/etl/cancel/{running['job_id']}")
    if resp.status_code == 200:  # still active when the Stop arrived
        final = wait_for_end(server, "/api/etl/status", running["job_id"])
        assert final["status"] == "cancelled" and final["errors"][-1].startswith("cancelled")
    else:  # it had already finished: the old API's answer for that
        assert_readable_error(resp, 400)

    again = assert_readable_error(post(server, f"/api/etl/cancel/{queued['job_id']}"), 400)
    assert "cancelled" in again["detail"]
    assert_readable_error(post(server, "/api/etl/cancel/00000000-0000-0000-0000-000000000000"), 404)
    assert_readable_error(post(server, "/api/etl/cancel/abc123"), 404)  # the old API's short ids


# ---------------------------------------------------------------------------- schema.js

def test_schema_generation_with_status_polling(server):
    resp = post(server, "/api/upload/generate-schema", {"options": {}})
    assert resp.status_code in (200, 202)
    assert_job_response(resp.json())
    job = wait_for_end(server, "/api/upload/status", resp.json()["job_id"])
    assert job["status"] == "completed" and job["tables_created"] == len(TABLES)
    assert (Path(job["result"]["file"])).name == "reset_supabase.sql"


# ---------------------------------------------------------------------------- sync.js

@pytest.mark.parametrize("mode", ["all", "dims", "facts", "qa", "basic", "tracking"])
def test_sync_to_supabase_in_each_mode(server, mode):
    if not (server.data_dir / "output" / "manifest.json").exists():
        wait_for_end(server, "/api/etl/status", post(server, "/api/etl/trigger", {"mode": "full"}).json()["job_id"])
    resp = post(server, "/api/upload/to-supabase", {"tables": None, "mode": mode, "options": {"clean": False}})
    assert resp.status_code in (200, 202), resp.text
    assert_job_response(resp.json())
    job = wait_for_end(server, "/api/upload/status", resp.json()["job_id"])
    expected = mode_tables(mode)
    if expected:
        assert job["status"] == "completed", job
        assert job["tables_created"] == len(expected) and job["table_names"] == expected
    else:  # no *_basic table in this catalog yet: a sentence says so
        assert job["status"] == "failed" and "matches no catalog table" in job["errors"][0]


def test_sync_of_named_tables_and_clean(server):
    if not (server.data_dir / "output" / "manifest.json").exists():
        wait_for_end(server, "/api/etl/status", post(server, "/api/etl/trigger", {"mode": "full"}).json()["job_id"])
    resp = post(server, "/api/upload/to-supabase", {"tables": ["dim_team", "dim_player"], "mode": "all",
                                                    "options": {"clean": True}})
    job = wait_for_end(server, "/api/upload/status", resp.json()["job_id"])
    assert job["status"] == "completed" and job["table_names"] == ["dim_team", "dim_player"]
    assert job["result"]["dropped"] == []
    assert_readable_error(post(server, "/api/upload/to-supabase", {"tables": ["dim_nothing"]}), 422)


# ---------------------------------------------------------------------------- history and status reads

def test_history_is_a_plain_list_with_the_next_page_in_a_link_header(server):
    for _ in range(3):
        post(server, "/api/upload/generate-schema", {"options": {"n": _}})
    resp = get(server, "/api/etl/history", limit=2)
    assert resp.status_code == 200
    page = resp.json()
    assert isinstance(page, list) and len(page) == 2
    for job in page:
        assert_job_response(job)
    assert page[0]["created_at"] >= page[1]["created_at"]
    nxt = resp.links["next"]["url"]
    older = requests.get(server.url(nxt), headers=JSON).json()
    assert older and older[0]["job_id"] not in {j["job_id"] for j in page}
    assert len(get(server, "/api/etl/history").json()) == 10  # the old default
    completed = get(server, "/api/etl/history", limit=50, status="completed").json()
    assert completed and all(j["status"] == "completed" for j in completed)
    queued = get(server, "/api/etl/history", limit=50, status="queued").json()
    assert all(j["status"] == "pending" for j in queued)


def test_status_of_an_unknown_job_is_404_with_a_sentence(server):
    for path in ("/api/etl/status", "/api/upload/status"):
        assert_readable_error(get(server, f"{path}/00000000-0000-0000-0000-000000000000"), 404)
        assert_readable_error(get(server, f"{path}/abc123"), 404)


def test_health_status_is_the_old_shape(server):
    body = get(server, "/api/health/status").json()
    assert body["status"] == "healthy" and isinstance(body["version"], str) and body["timestamp"]
    assert set(body["system"]) == {"etl_script_available", "output_directory_exists", "project_root"}
    assert_readable_error(get(server, "/api/status"), 404)  # api.js status(): the old API had no such route


# ---------------------------------------------------------------------------- staging routes

def test_staging_league_rows_list_upload_update_clear(server):
    listed = get(server, "/api/staging/blb-tables/list").json()
    assert "dim_player" in listed["tables"] and listed["count"] == len(listed["tables"])
    rows = [{"player_id": "P1", "first_name": "Ann"}, {"player_id": "P2", "first_name": "Bo"}]
    up = post(server, "/api/staging/blb-tables/upload", {"table_name": "dim_player", "data": rows, "replace": True})
    assert up.status_code == 202, up.text
    body = up.json()
    assert (body["staging_table"], body["rows_uploaded"], body["rows_failed"]) == ("stage_dim_player", 2, 0)
    assert wait_for_end(server, "/api/upload/status", body["job_id"])["status"] == "completed"

    upd = requests.put(server.url("/api/staging/blb-tables/update"), headers=JSON, json={
        "table_name": "dim_player", "filter_column": "player_id", "filter_value": "P2",
        "updates": {"first_name": "Bob"}})
    assert upd.status_code == 202, upd.text
    done = wait_for_end(server, "/api/upload/status", upd.json()["job_id"])
    assert done["status"] == "completed" and done["result"]["rows_updated"] == 1

    assert_readable_error(post(server, "/api/staging/blb-tables/upload", {"table_name": "dim_x", "data": []}), 400)
    assert_readable_error(post(server, "/api/staging/blb-tables/dim_player/clear"), 400)
    assert_readable_error(post(server, "/api/staging/blb-tables/dim_x/clear?confirm=true"), 404)
    cleared = post(server, "/api/staging/blb-tables/dim_player/clear?confirm=true")
    assert cleared.status_code == 202 and cleared.json()["cleared"] is True
    assert wait_for_end(server, "/api/upload/status", cleared.json()["job_id"])["status"] == "completed"


def test_staging_tracking_rows_as_json(server):
    resp = post(server, "/api/staging/tracking/upload", {"game_id": 18969, "events": [{"period": 1}], "shifts": None})
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert (body["game_id"], body["events_uploaded"], body["shifts_uploaded"]) == (18969, 1, 0)
    job = wait_for_end(server, "/api/upload/status", body["job_id"])
    # rows the tracker reader cannot use fail the job with a sentence naming the file and what is missing
    assert job["status"] == "failed" and "18969_tracking" in job["errors"][0]
