"""ETL runs as data: inputs linked from the store, output archives stored by content and unpacked, verified,
on any host."""

from __future__ import annotations

import pytest

from daemon import etl_runs
from daemon.filestore import FileStore, register_folder

pytestmark = pytest.mark.db


@pytest.fixture
def store(pool, tmp_path) -> FileStore:
    return FileStore(pool, tmp_path / "cache", limit_bytes=10_000_000)


def _output(folder, rows: int):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dim_team.csv").write_text("team_id\n" + "".join(f"T{i}\n" for i in range(rows)))
    (folder / "manifest.json").write_text('{"tables": {"dim_team": %d}}' % rows)
    return folder


def test_archives_are_byte_identical_for_identical_tables(tmp_path):
    a = etl_runs.archive_folder(_output(tmp_path / "a", 3))
    b = etl_runs.archive_folder(_output(tmp_path / "b", 3))
    assert a == b and a != etl_runs.archive_folder(_output(tmp_path / "c", 4))


async def test_a_recorded_run_is_loaded_on_another_host_from_the_store(store, pool, tmp_path):
    inputs = await etl_runs.current_inputs_folder(store, tmp_path / "host-a" / "inputs")
    run_id = await etl_runs.record_start(pool, None, "host-a", inputs)
    sha = await etl_runs.record_finish(pool, store, run_id, _output(tmp_path / "host-a" / "out", 5),
                                       {"status": "ok", "games": {"1": {"status": "ok"}}, "duration_seconds": 1.0},
                                       uploaded_by="test")
    other_host = FileStore(pool, tmp_path / "host-b" / "cache", limit_bytes=10_000_000)
    run = await etl_runs.find_run(pool, None)
    assert (run["id"], run["output_sha256"], run["status"]) == (run_id, sha, "ok")
    folder = await etl_runs.output_of(other_host, run, tmp_path / "host-b" / "runs")
    assert (folder / "dim_team.csv").read_text().count("\n") == 6
    assert run["manifest"] == {"tables": {"dim_team": 5}}


async def test_a_failed_run_has_no_output_and_is_never_the_default(store, pool, tmp_path):
    inputs = await etl_runs.current_inputs_folder(store, tmp_path / "inputs")
    ok = await etl_runs.record_start(pool, None, "w", inputs)
    await etl_runs.record_finish(pool, store, ok, _output(tmp_path / "out", 2), {"status": "ok"}, uploaded_by=None)
    bad = await etl_runs.record_start(pool, None, "w", inputs)
    await etl_runs.record_failure(pool, bad, "league workbook unusable")
    assert (await etl_runs.find_run(pool, None))["id"] == ok
    with pytest.raises(etl_runs.NoRun, match="has no output"):
        await etl_runs.find_run(pool, bad)
    with pytest.raises(etl_runs.NoRun, match="no ETL run 999"):
        await etl_runs.find_run(pool, 999)


async def test_raw_folder_files_are_registered_once(store, tmp_path):
    raw = tmp_path / "raw"
    (raw / "tracking").mkdir(parents=True)
    (raw / "BLB_Tables.xlsx").write_bytes(b"league")
    (raw / "tracking" / "18969_tracking.xlsx").write_bytes(b"tracker")
    (raw / "tracking" / "~$18969_tracking.xlsx").write_bytes(b"lock")
    added = await register_folder(store, raw)
    assert sorted((v.role, v.game_id) for v in added) == [("league_workbook", None), ("tracker", 18969)]
    assert await register_folder(store, raw) == []  # a restart registers nothing again
    inputs = await etl_runs.current_inputs_folder(store, tmp_path / "inputs")
    assert inputs.blb.read_bytes() == b"league"
    assert [p.name for p in inputs.tracking.iterdir()] == ["18969_tracking.xlsx"]
