"""Hostile files (tests/hostile_files.py) cannot crash anything: each is a rejection of that one file.

A staging_tracking job on one fails once (no retry) naming the file and the reason, moves the file to rejected/
with the reason beside it, never stalls the daemon's event loop, and the daemon goes on running the next job.
In raw/ the same files fail their own game of an ETL run, and the next run works as well.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from etl_fixtures import copy_tracking, etl_cache, sample_data  # noqa: F401

import etl
import hostile_files
from daemon import queries
from daemon_harness import running_daemon, wait_for_status
from etl import synth
from etl.readers.sheets import InputError
from handlers.staging_tracking import store_tracker_file

MiB = 1024 * 1024

GAME = hostile_files.HOSTILE_GAME_ID
HOSTILE = [  # (file name, bytes, what the error says)
    (f"{GAME}_tracking.xlsx", lambda: hostile_files.huge_dimension_xlsx(), "declares A1:XFD1048576"),
    (f"{GAME}_tracking.xlsx", lambda: hostile_files.lying_dimension_xlsx(), "reader process died"),
    (f"{GAME}_tracking.xlsx", lambda: hostile_files.zip_bomb_xlsx(64 * MiB), "zip bomb"),
    (f"{GAME}.json", lambda: hostile_files.million_event_json(), "1,000,000 events, over the limit"),
    (f"{GAME}.json", lambda: hostile_files.deeply_nested_json(), "nested 100,003 levels deep"),
    (f"{GAME}.json", lambda: hostile_files.invalid_utf8_json(), "not UTF-8"),
]
IDS = ["huge-dimension", "lying-dimension", "zip-bomb", "million-events", "deeply-nested", "invalid-utf8"]


@pytest.fixture(scope="module")
def good_game(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = synth.generate(tmp_path_factory.mktemp("synth"), games=1, seed=5, formats=("json",))
    return made.files[made.game_ids[0]][0]


@contextlib.asynccontextmanager
async def loop_lag():
    """The longest the event loop went without running a 20 ms ticker, in seconds (lag[0])."""
    lag = [0.0]
    loop = asyncio.get_running_loop()

    async def tick() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.02)
            now = loop.time()
            lag[0] = max(lag[0], now - last - 0.02)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        yield lag
    finally:
        ticker.cancel()


@pytest.mark.parametrize(("name", "make", "reason"), HOSTILE, ids=IDS)
async def test_hostile_tracker_file_is_rejected_once_and_the_daemon_carries_on(settings, pool, good_game, name,
                                                                               make, reason):
    stored = store_tracker_file(settings.data_dir, name, make())
    good = store_tracker_file(settings.data_dir, good_game.name, good_game.read_bytes())
    async with running_daemon(settings):
        async with loop_lag() as lag:
            job = await queries.enqueue_job(pool, "staging_tracking", {"file": stored.relative})
            row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=120)
        after = await queries.enqueue_job(pool, "staging_tracking", {"file": good.relative})
        after_row = await wait_for_status(pool, after["id"], {"completed", "failed"}, timeout=60)

    assert row["status"] == "failed" and row["attempts"] == 1, (row["status"], row["attempts"], row["error"])
    assert stored.path.name in row["error"] and reason in row["error"], row["error"]
    rejected = settings.data_dir / "rejected" / stored.path.name
    assert not stored.path.exists() and rejected.exists()
    assert reason in (rejected.parent / f"{rejected.name}.reason.txt").read_text()
    assert lag[0] < 1.0, f"the event loop stalled {lag[0]:.2f} s while the file was read"
    assert await pool.fetchval("select count(*) from stage_events where game_id = $1", GAME) == 0
    assert after_row["status"] == "completed", after_row["error"]


def test_declared_dimension_is_refused_before_the_reader_expands_it(tmp_path):
    """The 1.9 KB workbook is refused from its headers in a few ms, in the calling process."""
    from etl.readers.limits import check_workbook

    path = tmp_path / f"{GAME}_tracking.xlsx"
    path.write_bytes(hostile_files.huge_dimension_xlsx())
    assert path.stat().st_size < 2500
    with pytest.raises(InputError, match=r"sheet 'events' declares A1:XFD1048576 \(17,179,869,184 cells\)"):
        check_workbook(path)


def test_untrusted_json_without_game_id_in_its_name_is_refused_at_the_door(tmp_path):
    """store_tracker_file reads a JSON export's gameId in a limited child: a hostile one is refused, not stored."""
    from handlers.staging_tracking import InvalidTrackerFile

    with pytest.raises(InvalidTrackerFile, match="nested 100,003 levels deep"):
        store_tracker_file(tmp_path, "export.json", hostile_files.deeply_nested_json())
    assert not any((tmp_path / "raw" / "tracking").iterdir())


@pytest.mark.sample_data
def test_hostile_files_in_raw_fail_only_their_games_run_after_run(sample_data, tmp_path, etl_cache):
    tracking = copy_tracking(sample_data, tmp_path / "tracking", games=(18981,))
    (tracking / "18991_tracking.xlsx").write_bytes(hostile_files.lying_dimension_xlsx())
    (tracking / "18993_tracking.xlsx").write_bytes(hostile_files.zip_bomb_xlsx(64 * MiB))
    (tracking / "19032.json").write_bytes(hostile_files.deeply_nested_json())
    for _ in range(2):  # the next run works too (no broken reader pool)
        report = etl.run(sample_data / "blb" / "BLB_Tables.xlsx", [tracking], tmp_path / "out",
                         cache_dir=etl_cache, workers=2)
        assert report.status == "partial", report.error
        assert report.games[18981].status == "ok"
        assert "reader process died" in report.games[18991].error
        assert "zip bomb" in report.games[18993].error
        assert "nested" in report.games[19032].error
        assert {report.games[g].status for g in (18991, 18993, 19032)} == {"failed"}


async def test_hostile_league_workbook_upload_is_refused_at_the_door(pool, settings, db_url):
    import io

    import aiohttp
    from aiohttp.test_utils import TestClient, TestServer

    from daemon.http import create_app

    app = create_app(pool, settings.model_copy(update={"api_auth": "off"}), db_url)
    form = aiohttp.FormData()
    form.add_field("table", "dim_player")
    form.add_field("file", io.BytesIO(hostile_files.huge_dimension_xlsx(sheet="dim_player")), filename="BLB_Tables.xlsx")
    async with TestClient(TestServer(app)) as client:
        resp = await client.post("/api/staging/blb-tables/upload", data=form)
        body = await resp.text()
    assert resp.status == 422 and "declares A1:XFD1048576" in body, body
    assert await pool.fetchval("select count(*) from job_requests") == 0


async def test_hostile_uploaded_league_workbook_fails_its_staging_job_once(settings, pool):
    """A workbook already under raw/uploads/ (stored before the door checked it): rejected like a tracker file."""
    path = settings.data_dir / "raw" / "uploads" / "league-0123456789ab.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(hostile_files.lying_dimension_xlsx(sheet="dim_player"))
    async with running_daemon(settings):
        job = await queries.enqueue_job(pool, "staging_blb", {"table": "dim_player",
                                                              "file": "raw/uploads/league-0123456789ab.xlsx"})
        row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
    assert row["status"] == "failed" and row["attempts"] == 1 and "reader process died" in row["error"], row["error"]
    assert not path.exists() and (settings.data_dir / "rejected" / path.name).exists()


def test_json_depth_counts_brackets_outside_strings_only():
    from etl.readers.limits import json_depth

    assert json_depth(b'{"a": "x\\"[[[", "b": [[1]], "c": "\\\\", "d": [[[2]]]}') == 4
    assert json_depth(b'{"events": []}') == 2
    assert json_depth(hostile_files.deeply_nested_json(depth=500)) == 503


def test_reader_past_its_wall_clock_is_killed_and_the_file_refused():
    import time

    from etl.readers import guard
    from etl.readers.limits import Limits

    started = time.monotonic()
    with pytest.raises(InputError, match=r"slow.json: reading it took longer than 0.5 s; the file was refused"):
        guard.run_guarded(time.sleep, 30, name="tracking file slow.json", limits=Limits(wall_seconds=0.5))
    assert time.monotonic() - started < 10
