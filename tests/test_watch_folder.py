"""The watch folder against a real database: dropped tracker files become staging_tracking + etl jobs once
stable, the same content runs once, unreadable files fail their job and move to incoming/rejected/."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from daemon import service
from daemon.config import Settings
from daemon.dispatcher import Dispatcher
from daemon.registry import load_handlers
from daemon.watch import REJECTED, WatchFolder

STABLE = 0.3


@pytest.fixture(scope="session")
def synth_games(tmp_path_factory: pytest.TempPathFactory):
    """Two synthetic games as tracker JSON exports (etl.synth), generated once per session."""
    from etl.synth import generate

    return generate(tmp_path_factory.mktemp("synth"), games=2, formats=("json",), seed=7)


@pytest.fixture
def tracker_json(synth_games) -> tuple[int, Path]:
    game_id = synth_games.game_ids[0]
    return game_id, synth_games.files[game_id][0]


@asynccontextmanager
async def watching(pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[WatchFolder]:
    watcher = WatchFolder(pool, folder=settings.incoming_dir, data_dir=settings.data_dir, stable_seconds=STABLE,
                          size_limit=settings.upload_limit_bytes)
    task = asyncio.create_task(watcher.run())
    await asyncio.wait_for(watcher.started.wait(), 10)
    try:
        yield watcher
    finally:
        task.cancel()
        [ended] = await asyncio.gather(task, return_exceptions=True)
        if isinstance(ended, Exception):
            raise ended


async def wait_for_outcome(watcher: WatchFolder, name: str, expected: str, timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while watcher.outcomes.get(name) != expected:
        if loop.time() > deadline:
            raise AssertionError(f"{name}: wanted {expected!r} within {timeout}s; outcomes: {watcher.outcomes}")
        await asyncio.sleep(0.05)


def drop(source: Path | bytes, folder: Path, name: str) -> Path:
    """Write like a careful client: to a .tmp name, then rename into place."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{name}.tmp"
    if isinstance(source, Path):
        shutil.copyfile(source, partial)
    else:
        partial.write_bytes(source)
    target = folder / name
    os.replace(partial, target)
    return target


async def jobs_with_key(pool: asyncpg.Pool, key: str) -> list[asyncpg.Record]:
    return await pool.fetch("select * from job_requests where dedupe_key = $1 order by created_at", key)


async def test_dropped_tracker_file_becomes_staging_and_etl_jobs(settings, pool, tracker_json):
    game_id, source = tracker_json
    content = source.read_bytes()
    sha = hashlib.sha256(content).hexdigest()
    async with watching(pool, settings) as watcher:
        drop(source, settings.incoming_dir, source.name)
        await wait_for_outcome(watcher, source.name, "enqueued")

    [staging] = await jobs_with_key(pool, f"staging_tracking:{sha}")
    [etl] = await jobs_with_key(pool, f"etl:game:{game_id}:{sha}")
    assert staging["kind"] == "staging_tracking" and staging["status"] == "pending"
    assert staging["params"]["game_id"] == game_id and staging["params"]["sha256"] == sha
    stored = settings.data_dir / staging["params"]["file"]
    assert stored.parent == settings.raw_dir / "tracking" and stored.read_bytes() == content
    assert etl["kind"] == "etl" and etl["params"]["mode"] == "single" and etl["params"]["game_ids"] == [game_id]
    assert staging["requested_by"] == etl["requested_by"] == "watch"
    assert (settings.incoming_dir / source.name).exists(), "a taken file stays in the folder"


async def test_same_content_twice_makes_one_job(settings, pool, tracker_json):
    game_id, source = tracker_json
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    async with watching(pool, settings) as watcher:
        drop(source, settings.incoming_dir, source.name)
        await wait_for_outcome(watcher, source.name, "enqueued")
        drop(source, settings.incoming_dir, f"copy of {source.name}")
        await wait_for_outcome(watcher, f"copy of {source.name}", "duplicate")

    assert len(await jobs_with_key(pool, f"staging_tracking:{sha}")) == 1
    assert len(await jobs_with_key(pool, f"etl:game:{game_id}:{sha}")) == 1


async def _complete_all(pool: asyncpg.Pool, kinds: list[str]) -> None:
    """Run the jobs through the real contract (claim_jobs, finish_jobs) as a worker that does nothing."""
    jobs = await pool.fetch("select * from claim_jobs('test-worker', $1, 100, 30)", kinds)
    assert jobs
    await pool.fetch("select * from finish_jobs('test-worker', $1::uuid[], $2::text[], $3::jsonb[], $4::text[])",
                     [j["id"] for j in jobs], ["completed"] * len(jobs), [None] * len(jobs), [None] * len(jobs))


async def test_completed_content_is_not_rerun_after_a_restart(settings, pool, tracker_json):
    _, source = tracker_json
    async with watching(pool, settings) as watcher:
        drop(source, settings.incoming_dir, source.name)
        await wait_for_outcome(watcher, source.name, "enqueued")
    await _complete_all(pool, ["staging_tracking", "etl"])

    async with watching(pool, settings) as restarted:  # the start-up scan finds the file again
        await wait_for_outcome(restarted, source.name, "duplicate")
    assert await pool.fetchval("select count(*) from job_requests") == 2


async def test_file_dropped_again_after_its_job_failed_runs_again(settings, pool, tracker_json):
    _, source = tracker_json
    sha = hashlib.sha256(source.read_bytes()).hexdigest()
    async with watching(pool, settings) as watcher:
        drop(source, settings.incoming_dir, source.name)
        await wait_for_outcome(watcher, source.name, "enqueued")
        [etl] = await pool.fetch("select * from claim_jobs('test-worker', array['etl'], 1, 30)")
        await pool.execute("select finish_job($1, 'test-worker', 'failed', null, 'boom', false)", etl["id"])
        del watcher.outcomes[source.name]
        drop(source, settings.incoming_dir, source.name)  # the user drops it again
        await wait_for_outcome(watcher, source.name, "enqueued")

    etl_jobs = await pool.fetch("select status from job_requests where kind = 'etl' order by created_at")
    assert [j["status"] for j in etl_jobs] == ["failed", "pending"]
    assert len(await jobs_with_key(pool, f"staging_tracking:{sha}")) == 1, "the pending staging job is reused"


async def test_file_still_being_written_is_taken_once_stable(settings, pool, tracker_json):
    _, source = tracker_json
    content = source.read_bytes()
    target = settings.incoming_dir / source.name
    async with watching(pool, settings) as watcher:
        chunks = [content[i:i + len(content) // 8 + 1] for i in range(0, len(content), len(content) // 8 + 1)]
        with target.open("wb") as out:  # a slow copy straight into the final name
            for chunk in chunks:
                out.write(chunk)
                out.flush()
                await asyncio.sleep(STABLE / 3)
        await wait_for_outcome(watcher, source.name, "enqueued")

    jobs = await pool.fetch("select params from job_requests where kind = 'staging_tracking'")
    assert [j["params"]["sha256"] for j in jobs] == [hashlib.sha256(content).hexdigest()]


async def test_temporary_and_lock_files_are_ignored(settings, pool, tracker_json):
    _, source = tracker_json
    folder = settings.incoming_dir
    folder.mkdir(parents=True)
    ignored = ["~$90000_tracking.xlsx", ".90000.json.swp", "draft.json.tmp", "90001.json.crdownload", ".hidden.json"]
    for name in ignored:
        (folder / name).write_bytes(source.read_bytes())
    async with watching(pool, settings) as watcher:
        drop(source, folder, source.name)  # a real file after them: once it is taken, they were seen too
        await wait_for_outcome(watcher, source.name, "enqueued")
        await asyncio.sleep(STABLE * 2)
        assert set(watcher.outcomes) == {source.name}
    assert await pool.fetchval("select count(*) from job_requests where kind = 'staging_tracking'") == 1
    assert all((folder / name).exists() for name in ignored)
    assert not any((folder / REJECTED).iterdir())


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("notes.txt", b"not a tracker", "not a tracker file"),
    ("tracker-export.json", json.dumps({"events": []}).encode(), "no game id"),
    ("18969_tracking.xlsx", b"", "empty"),
])
async def test_unreadable_file_fails_its_job_and_moves_to_rejected(settings, pool, name, content, reason):
    async with watching(pool, settings) as watcher:
        drop(content, settings.incoming_dir, name)
        await wait_for_outcome(watcher, name, "rejected")

    [job] = await pool.fetch("select * from job_requests")
    assert job["kind"] == "staging_tracking" and job["status"] == "failed"
    assert name in job["error"] and reason in job["error"]
    events = await pool.fetch("select level, message from job_events where job_id = $1", job["id"])
    assert any(e["level"] == "error" and name in e["message"] for e in events)
    rejected = settings.incoming_dir / REJECTED / name
    assert rejected.read_bytes() == content and not (settings.incoming_dir / name).exists()
    assert reason in (rejected.parent / f"{name}.reason.txt").read_text()
    tracking = settings.raw_dir / "tracking"
    assert not tracking.exists() or not any(tracking.iterdir()), "nothing of a rejected file stays in raw/tracking"


async def test_corrupt_workbook_fails_in_its_job_and_moves_to_rejected(settings, pool):
    """A file only the reader can judge: its staging_tracking job fails, then the watcher moves the file."""
    name = "19001_tracking.xlsx"
    spec = load_handlers()["staging_tracking"]
    async with service.open_pool(settings.database_url, settings) as daemon_pool:
        # a real dispatcher that runs only staging_tracking (the etl job for the game stays pending)
        dispatcher = Dispatcher(daemon_pool, settings, {"staging_tracking": spec}, [])
        stop = asyncio.Event()
        running = asyncio.create_task(dispatcher.run(stop))
        async with watching(pool, settings) as watcher:
            watcher.wake = dispatcher.wake
            drop(b"PK\x03\x04 this is not really a workbook", settings.incoming_dir, name)
            await wait_for_outcome(watcher, name, "rejected", timeout=60)
        stop.set()
        await asyncio.wait_for(running, 30)
    [failed] = await pool.fetch("select * from job_requests where kind = 'staging_tracking'")

    assert failed["status"] == "failed" and name.split("_")[0] in failed["error"]
    assert (settings.incoming_dir / REJECTED / name).exists() and not (settings.incoming_dir / name).exists()
    assert failed["error"] in (settings.incoming_dir / REJECTED / f"{name}.reason.txt").read_text()


async def test_hostile_export_without_game_id_in_its_name_is_rejected_at_the_door(settings, pool):
    """Its gameId is read in a limited child, so a hostile export is rejected with the reason, not retried."""
    from hostile_files import deeply_nested_json

    name = "export-from-tracker.json"
    async with watching(pool, settings) as watcher:
        drop(deeply_nested_json(), settings.incoming_dir, name)
        await wait_for_outcome(watcher, name, "rejected")
    [job] = await pool.fetch("select * from job_requests")
    assert job["status"] == "failed" and name in job["error"] and "nested 100,003 levels deep" in job["error"]
    assert "nested" in (settings.incoming_dir / REJECTED / f"{name}.reason.txt").read_text()
    tracking = settings.raw_dir / "tracking"
    assert not tracking.exists() or not any(tracking.iterdir())


async def _run_staging_only(settings: Settings, pool: asyncpg.Pool, name: str, content: bytes,
                            outcome: str | None) -> asyncpg.Record:
    """Drop a file with a dispatcher that runs only staging_tracking; the staging job's row when it ended."""
    spec = load_handlers()["staging_tracking"]
    async with service.open_pool(settings.database_url, settings) as daemon_pool:
        dispatcher = Dispatcher(daemon_pool, settings, {"staging_tracking": spec}, [])
        stop = asyncio.Event()
        running = asyncio.create_task(dispatcher.run(stop))
        async with watching(pool, settings) as watcher:
            watcher.wake = dispatcher.wake
            drop(content, settings.incoming_dir, name)
            if outcome is not None:
                await wait_for_outcome(watcher, name, outcome, timeout=60)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while not await pool.fetchval("select count(*) from job_requests where kind = 'staging_tracking' "
                                          "and status in ('failed', 'completed')"):
                assert loop.time() < deadline, "the staging job did not end"
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)  # the watcher looks at ended jobs every second
        stop.set()
        await asyncio.wait_for(running, 30)
    [row] = await pool.fetch("select * from job_requests where kind = 'staging_tracking'")
    return row


async def test_file_that_kills_its_reader_fails_its_job_and_moves_to_rejected(settings, pool):
    from hostile_files import lying_dimension_xlsx

    name = "19998_tracking.xlsx"
    failed = await _run_staging_only(settings, pool, name, lying_dimension_xlsx(), "rejected")
    assert failed["status"] == "failed" and failed["attempts"] == 1 and "reader process died" in failed["error"]
    assert (settings.incoming_dir / REJECTED / name).exists() and not (settings.incoming_dir / name).exists()
    assert "reader process died" in (settings.incoming_dir / REJECTED / f"{name}.reason.txt").read_text()


async def test_file_whose_job_failed_for_another_reason_stays_put(settings, pool, tracker_json):
    """The export holds another game than its name says: the job fails, but the file is fine and is kept."""
    game_id, source = tracker_json
    name = f"{game_id + 1}.json"
    failed = await _run_staging_only(settings, pool, name, source.read_bytes(), None)
    assert failed["status"] == "failed" and f"not game {game_id + 1}" in failed["error"]
    assert (settings.incoming_dir / name).exists()
    assert not (settings.incoming_dir / REJECTED / name).exists()
    assert any((settings.raw_dir / "tracking").iterdir())
