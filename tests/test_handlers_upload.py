"""The upload job: COPY into new tables, one swap, old tables intact on failure."""

from __future__ import annotations

import asyncio
import time

from daemon import queries
from daemon_harness import running_daemon, wait_for_status
from etl.catalog import TABLES
from handlers_output import table_tags as _tags, write_catalog_output


async def test_upload_replaces_every_table_with_the_output(settings, pool):
    write_catalog_output(settings.output_dir, rows=30, tag="a")
    job = await queries.enqueue_job(pool, "upload", {})
    async with running_daemon(settings):
        first = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
        assert first["status"] == "completed", first["error"]
        write_catalog_output(settings.output_dir, rows=12, tag="b", seed=1)
        job2 = await queries.enqueue_job(pool, "upload", {"mode": "all"})
        second = await wait_for_status(pool, job2["id"], {"completed", "failed"}, timeout=60)
    assert second["status"] == "completed", second["error"]
    assert first["result"]["tables"] == {name: 30 for name in TABLES}
    assert second["result"]["tables"] == {name: 12 for name in TABLES}
    for name in TABLES:
        assert await pool.fetchval(f'select count(*) from public."{name}"') == 12
    assert set().union(*(await _tags(pool, TABLES)).values()) == {"b"}
    pk = await pool.fetchval(
        "select pg_get_constraintdef(oid) from pg_constraint where conrelid = 'public.fact_events'::regclass "
        "and contype = 'p'")
    assert pk == "PRIMARY KEY (game_id, event_id)"
    loads = await pool.fetch("select job_id, rows from warehouse_loads order by id")
    assert [r["job_id"] for r in loads] == [job["id"], job2["id"]]
    steps = await pool.fetch("select distinct status from job_events where job_id = $1", job2["id"])
    assert "uploading" in {s["status"] for s in steps}


async def test_failed_upload_leaves_every_old_table(settings, pool):
    write_catalog_output(settings.output_dir, rows=20, tag="a")
    job = await queries.enqueue_job(pool, "upload", {})
    async with running_daemon(settings):
        assert (await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60))["status"] == "completed"
        write_catalog_output(settings.output_dir, rows=25, tag="b", seed=2)
        last = list(TABLES)[-1]
        with open(settings.output_dir / f"{last}.csv", "a") as fh:  # a row whose key is not a number
            fh.write("not-a-number" + "," * (len(TABLES[last].columns) - 1) + "\n")
        bad = await queries.enqueue_job(pool, "upload", {}, max_attempts=1)
        failed = await wait_for_status(pool, bad["id"], {"completed", "failed"}, timeout=60)
    assert failed["status"] == "failed"
    assert "not-a-number" in failed["error"] or "invalid input" in failed["error"]
    for name in TABLES:
        assert await pool.fetchval(f'select count(*) from public."{name}"') == 20
    assert set().union(*(await _tags(pool, TABLES)).values()) == {"a"}
    leftovers = await pool.fetchval("select count(*) from pg_tables where tablename like '%\\_\\_new'")
    assert leftovers == 0


async def test_upload_dry_run_counts_rows_and_changes_nothing(settings, pool):
    write_catalog_output(settings.output_dir, rows=7, tag="a")
    job = await queries.enqueue_job(pool, "upload", {"mode": "dims", "dry_run": True})
    async with running_daemon(settings):
        row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=30)
    assert row["status"] == "completed", row["error"]
    assert row["result"]["tables"] == {n: 7 for n, s in TABLES.items() if s.kind == "dim"}
    assert await pool.fetchval("select to_regclass('public.dim_player')") is None


async def test_upload_pattern_loads_only_matching_tables_into_schema(settings, pool):
    write_catalog_output(settings.output_dir, rows=5, tag="a")
    job = await queries.enqueue_job(pool, "upload", {"mode": "pattern", "pattern": "fact_*_season_stats",
                                                     "schema": "analytics"})
    async with running_daemon(settings):
        row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=30)
    assert row["status"] == "completed", row["error"]
    expected = sorted(n for n in TABLES if n.startswith("fact_") and n.endswith("_season_stats"))
    assert sorted(row["result"]["tables"]) == expected
    found = await pool.fetch("select tablename from pg_tables where schemaname = 'analytics' order by 1")
    assert [r["tablename"] for r in found] == expected


async def test_upload_of_unknown_table_fails_as_invalid_params(settings, pool):
    job = await queries.enqueue_job(pool, "upload", {"mode": "tables", "tables": ["dim_player; drop table x"]})
    async with running_daemon(settings):
        row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=30)
    assert row["status"] == "failed"
    assert row["error"].startswith("invalid params") and "unknown tables" in row["error"]


async def test_cancelled_upload_stops_within_two_seconds_and_keeps_old_tables(settings, pool):
    write_catalog_output(settings.output_dir, rows=20, tag="a")
    async with running_daemon(settings):
        first = await queries.enqueue_job(pool, "upload", {})
        assert (await wait_for_status(pool, first["id"], {"completed", "failed"}, timeout=60))["status"] == "completed"
        write_catalog_output(settings.output_dir, rows=12_000, tag="b", seed=1)
        job = await queries.enqueue_job(pool, "upload", {})
        deadline = time.monotonic() + 60
        while True:  # cancel once some tables are loaded into their new copies
            row = await queries.get_job(pool, job["id"])
            if row["status"] == "uploading" and row["progress"] >= 10 or row["status"] in ("completed", "failed"):
                break
            assert time.monotonic() < deadline, "upload never got going"
            await asyncio.sleep(0.02)
        assert row["status"] == "uploading"
        asked = time.monotonic()
        await queries.request_cancel(pool, job["id"])
        row = await wait_for_status(pool, job["id"], {"cancelled", "completed", "failed"}, timeout=10)
        took = time.monotonic() - asked
    assert row["status"] == "cancelled"
    assert took < 2.0, f"cancel took {took:.2f}s"
    for name in TABLES:
        assert await pool.fetchval(f'select count(*) from public."{name}"') == 20
    assert await pool.fetchval("select count(*) from pg_tables where tablename like '%\\_\\_new'") == 0


async def test_views_are_rebuilt_in_the_swap_and_a_failed_upload_keeps_the_old_ones(settings, pool):
    """The dashboard's views (materialised ones included) follow the tables they read in the same
    transaction: a successful upload refreshes them, a failed one leaves tables and views as they were."""
    write_catalog_output(settings.output_dir, rows=20, tag="a")
    async with running_daemon(settings):
        first = await queries.enqueue_job(pool, "upload", {})
        assert (await wait_for_status(pool, first["id"], {"completed", "failed"}, timeout=60))["status"] == "completed"
        before = await pool.fetchval("select sum(total_goals) from v_summary_league")
        hot_before = await pool.fetchval("select count(*) from v_recent_hot_players")
        write_catalog_output(settings.output_dir, rows=30, tag="b", seed=3)
        with open(settings.output_dir / "fact_video.csv", "a") as fh:  # the last table fails its COPY
            fh.write("key-x,not-a-number" + "," * (len(TABLES["fact_video"].columns) - 2) + "\n")
        bad = await queries.enqueue_job(pool, "upload", {}, max_attempts=1)
        assert (await wait_for_status(pool, bad["id"], {"completed", "failed"}, timeout=60))["status"] == "failed"
        kept = await pool.fetchval("select sum(total_goals) from v_summary_league")
        write_catalog_output(settings.output_dir, rows=30, tag="b", seed=3)
        good = await queries.enqueue_job(pool, "upload", {})
        assert (await wait_for_status(pool, good["id"], {"completed", "failed"}, timeout=60))["status"] == "completed"
    goals = await pool.fetchval("select sum(goals) from fact_gameroster where season_id is not null")
    assert kept == before and hot_before > 0
    assert await pool.fetchval("select sum(total_goals) from v_summary_league") == goals != before
    kinds = dict(await pool.fetch("select relname::text, relkind::text from pg_class where relkind in ('v', 'm') "
                                  "and relnamespace = 'public'::regnamespace"))
    assert len(kinds) == 18 and kinds["v_recent_hot_players"] == "m" and kinds["v_standings_current"] == "v"
