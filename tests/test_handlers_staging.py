"""staging_tracking and staging_blb: tracker files stored safely and staged per game; league sheets staged."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon import queries
from daemon_harness import running_daemon, wait_for_status
from etl import synth
from handlers.staging_blb import read_sheet_rows
from handlers.staging_tracking import InvalidTrackerFile, read_tracker_file, store_tracker_file


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> synth.SynthSet:
    return synth.generate(tmp_path_factory.mktemp("synth"), games=2, seed=3, formats=("xlsx", "json"))


def test_stored_tracker_file_has_safe_hashed_name_under_tracking(tmp_path):
    stored = store_tracker_file(tmp_path, "../../etc/18969 tracking (v2).xlsx", b"PK-bytes")
    assert stored.path.parent == tmp_path / "raw" / "tracking"
    assert stored.path.read_bytes() == b"PK-bytes"
    assert stored.relative == f"raw/tracking/{stored.path.name}"
    assert stored.sha256[:12] in stored.path.name and " " not in stored.path.name
    assert stored.game_id == 18969
    again = store_tracker_file(tmp_path, "18969 tracking (v2).xlsx", b"PK-bytes")
    assert again.path == stored.path
    assert len(list((tmp_path / "raw" / "tracking").iterdir())) == 1


def test_tracker_file_with_other_extension_is_refused(tmp_path):
    with pytest.raises(InvalidTrackerFile, match="extension"):
        store_tracker_file(tmp_path, "18969.csv", b"a,b")
    with pytest.raises(InvalidTrackerFile, match="empty"):
        store_tracker_file(tmp_path, "18969.json", b"")
    assert not (tmp_path / "raw" / "tracking").exists() or not any((tmp_path / "raw" / "tracking").iterdir())


async def test_staged_tracker_file_replaces_its_games_rows(settings, pool, synth_set):
    game_id = synth_set.game_ids[0]
    source = synth_set.files[game_id][0]
    stored = store_tracker_file(settings.data_dir, source.name, source.read_bytes())
    expected = read_tracker_file(source)
    async with running_daemon(settings):
        for _ in range(2):  # staging twice must not double the rows
            job = await queries.enqueue_job(pool, "staging_tracking", {"file": stored.relative, "sha256": stored.sha256})
            row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
            assert row["status"] == "completed", row["error"]
    assert row["result"]["game_id"] == game_id
    counts = {t: await pool.fetchval(f"select count(*) from {t} where game_id = $1", game_id)
              for t in ("stage_events", "stage_event_players", "stage_shifts", "stage_shift_players")}
    assert counts == {"stage_events": len(expected.events), "stage_event_players": len(expected.event_players),
                      "stage_shifts": len(expected.shifts), "stage_shift_players": len(expected.shift_players)}
    assert counts["stage_events"] > 0
    staged = await pool.fetchrow("select file, sha256 from stage_tracking_files where game_id = $1", game_id)
    assert (staged["file"], staged["sha256"]) == (stored.relative, stored.sha256)


async def test_bad_tracker_upload_fails_naming_the_problem_and_keeps_staged_games(settings, pool, synth_set):
    good_game = synth_set.game_ids[0]
    good = synth_set.files[good_game][0]
    stored_good = store_tracker_file(settings.data_dir, good.name, good.read_bytes())
    stored_bad = store_tracker_file(settings.data_dir, f"{good_game}_tracking.xlsx", b"this is not a workbook")
    async with running_daemon(settings):
        ok = await queries.enqueue_job(pool, "staging_tracking", {"file": stored_good.relative})
        assert (await wait_for_status(pool, ok["id"], {"completed", "failed"}, timeout=60))["status"] == "completed"
        before = await pool.fetchval("select count(*) from stage_events where game_id = $1", good_game)
        bad = await queries.enqueue_job(pool, "staging_tracking", {"file": stored_bad.relative})
        row = await wait_for_status(pool, bad["id"], {"completed", "failed"}, timeout=60)
    assert row["status"] == "failed"
    assert stored_bad.path.name in row["error"] and "cannot be opened" in row["error"]
    assert row["attempts"] == 1  # a bad file is not retried
    assert await pool.fetchval("select count(*) from stage_events where game_id = $1", good_game) == before > 0
    assert not stored_bad.path.exists()  # moved aside so the next ETL does not read it
    assert (settings.data_dir / "rejected" / stored_bad.path.name).exists()
    assert stored_good.path.exists()


async def test_tracker_file_outside_tracking_folder_is_refused(settings, pool):
    job = await queries.enqueue_job(pool, "staging_tracking", {"file": "../../etc/passwd.json"})
    async with running_daemon(settings):
        row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=30)
    assert row["status"] == "failed" and "not under raw/tracking" in row["error"]


async def test_league_sheet_is_staged_and_replace_really_replaces(settings, pool, synth_set):
    raw = settings.data_dir / "raw"
    raw.mkdir(parents=True)
    (raw / "BLB_Tables.xlsx").write_bytes(Path(synth_set.blb).read_bytes())
    sheet = read_sheet_rows(synth_set.blb, "dim_player")
    async with running_daemon(settings):
        job = await queries.enqueue_job(pool, "staging_blb", {"table": "dim_player"})
        row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
        assert row["status"] == "completed", row["error"]
        assert await pool.fetchval("select count(*) from stage_dim_player") == len(sheet) > 0
        first_id = await pool.fetchval("select data->>'player_id' from stage_dim_player order by row_no limit 1")
        assert first_id == str(sheet[0]["player_id"])

        rows = [{"player_id": "P1", "full_name": "A"}, {"player_id": "P2", "full_name": "B"}]
        job = await queries.enqueue_job(pool, "staging_blb", {"table": "dim_player", "rows": rows})
        assert (await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=30))["status"] == "completed"
        assert await pool.fetchval("select array_agg(data->>'player_id' order by row_no) from stage_dim_player") == ["P1", "P2"]

        job = await queries.enqueue_job(pool, "staging_blb", {"table": "dim_player", "rows": rows[:1], "replace": False})
        assert (await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=30))["status"] == "completed"
        assert await pool.fetchval("select count(*) from stage_dim_player") == 3


async def test_unknown_league_table_is_invalid_params(settings, pool):
    job = await queries.enqueue_job(pool, "staging_blb", {"table": "pg_authid", "rows": []})
    async with running_daemon(settings):
        row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=30)
    assert row["status"] == "failed" and row["error"].startswith("invalid params") and "unknown league table" in row["error"]
    assert await pool.fetchval("select to_regclass('public.stage_pg_authid')") is None


@pytest.mark.parametrize("check", ["sha256", "game_id"])
async def test_failed_client_check_fails_the_job_and_moves_nothing(settings, pool, synth_set, check):
    """A wrong expected hash or game is the client's mistake, not the file's: staged rows and the file stay."""
    game_id = synth_set.game_ids[0]
    source = synth_set.files[game_id][0]
    stored = store_tracker_file(settings.data_dir, source.name, source.read_bytes())
    wrong = {"sha256": "0" * 64, "game_id": game_id + 1}[check]
    async with running_daemon(settings):
        ok = await queries.enqueue_job(pool, "staging_tracking", {"file": stored.relative})
        assert (await wait_for_status(pool, ok["id"], {"completed", "failed"}, timeout=60))["status"] == "completed"
        before = await pool.fetchval("select count(*) from stage_events where game_id = $1", game_id)
        job = await queries.enqueue_job(pool, "staging_tracking", {"file": stored.relative, check: wrong})
        row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
    assert row["status"] == "failed" and row["attempts"] == 1
    assert stored.path.exists(), "a file that is fine stays in raw/tracking/ for the next ETL"
    assert stored.path.name in row["error"] and "nothing was staged or moved" in row["error"]
    assert not (settings.data_dir / "rejected").exists() or not any((settings.data_dir / "rejected").iterdir())
    assert await pool.fetchval("select count(*) from stage_events where game_id = $1", game_id) == before > 0
