"""The validate job: clean output passes; repeated keys and dangling references fail it, in output and database."""

from __future__ import annotations

import pandas as pd

from daemon import queries
from daemon_harness import running_daemon, wait_for_status
from etl.catalog import TABLES
from handlers_output import write_catalog_output


async def _run(pool, params: dict, timeout: float = 60):
    job = await queries.enqueue_job(pool, "validate", params)
    return await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=timeout)


async def test_consistent_output_validates_and_broken_output_fails_naming_the_problem(settings, pool):
    out = settings.output_dir
    write_catalog_output(out, rows=15)
    completeness = pd.read_csv(out / "qa_game_completeness.csv")
    mismatched = completeness[
        (completeness.status != "untracked")
        & ((completeness.tracked_home_goals != completeness.official_home_goals)
           | (completeness.tracked_away_goals != completeness.official_away_goals))]
    async with running_daemon(settings):
        good = await _run(pool, {})
        events = pd.read_csv(out / "fact_events.csv")
        pd.concat([events, events.head(2)]).to_csv(out / "fact_events.csv", index=False)
        roster = pd.read_csv(out / "fact_gameroster.csv")
        roster.loc[0, "player_id"] = "P-nobody"
        roster.to_csv(out / "fact_gameroster.csv", index=False)
        bad = await _run(pool, {"target": "output"})
    assert good["status"] == "completed", good["error"]
    assert good["result"]["ok"] and good["result"]["tables_checked"] == list(TABLES)
    assert good["result"]["warning_count"] == len(mismatched)
    assert bad["status"] == "failed"
    assert "fact_events: primary key ['game_id', 'event_id'] repeats (2)" in bad["error"]
    assert "fact_gameroster.player_id has values missing from dim_player.player_id (1)" in bad["error"]
    report = await pool.fetchval("select data from job_events where job_id = $1 and message = 'validation report'",
                                 bad["id"])
    assert report["error_count"] == 2
    assert {e["check"] for e in report["errors"]} == {"primary_key", "foreign_key"}
    assert ["P-nobody"] in [e["sample"] for e in report["errors"]]


async def test_loaded_database_validates_until_a_referenced_row_is_removed(settings, pool):
    write_catalog_output(settings.output_dir, rows=10)
    async with running_daemon(settings):
        upload = await queries.enqueue_job(pool, "upload", {})
        assert (await wait_for_status(pool, upload["id"], {"completed", "failed"}, timeout=60))["status"] == "completed"
        good = await _run(pool, {"target": "database"})
        gone = await pool.fetchval("delete from dim_team where team_id = (select min(team_id) from dim_team) "
                                   "returning team_id")
        await pool.execute("alter table fact_events drop constraint fact_events_pkey")
        await pool.execute("insert into fact_events select * from fact_events limit 1")
        bad = await _run(pool, {"target": "database", "tables": ["dim_team", "fact_events", "fact_gameroster"]})
    assert good["status"] == "completed", good["error"]
    assert good["result"]["ok"] and good["result"]["error_count"] == 0
    assert bad["status"] == "failed"
    assert "fact_events: primary key ['game_id', 'event_id'] repeats (1)" in bad["error"]
    assert "fact_gameroster.team_id has values missing from dim_team.team_id" in bad["error"]
    report = await pool.fetchval("select data from job_events where job_id = $1 and message = 'validation report'",
                                 bad["id"])
    assert [gone] in [e["sample"] for e in report["errors"] if e["check"] == "foreign_key"]


async def test_validate_missing_output_fails(settings, pool):
    async with running_daemon(settings):
        row = await _run(pool, {"tables": ["dim_player"]})
    assert row["status"] == "failed" and "dim_player.csv does not exist" in row["error"]


async def test_unresolved_schedule_season_loads_under_the_not_valid_key_and_validate_reports_it(settings, pool):
    """The dashboard embeds dim_season from dim_schedule through a NOT VALID foreign key: a schedule row whose
    season is unknown still loads, and validate names it."""
    out = settings.output_dir
    write_catalog_output(out, rows=10)
    schedule = pd.read_csv(out / "dim_schedule.csv")
    schedule.loc[3, "season_id"] = "S-unknown"
    schedule.to_csv(out / "dim_schedule.csv", index=False)
    async with running_daemon(settings):
        upload = await queries.enqueue_job(pool, "upload", {})
        loaded = await wait_for_status(pool, upload["id"], {"completed", "failed"}, timeout=60)
        bad = await _run(pool, {"target": "database", "tables": ["dim_schedule"]})
    assert loaded["status"] == "completed", loaded["error"]
    fk = await pool.fetchrow("select convalidated, confrelid::regclass::text as ref from pg_constraint "
                             "where conrelid = 'public.dim_schedule'::regclass and contype = 'f'")
    assert (fk["convalidated"], fk["ref"]) == (False, "dim_season")
    assert bad["status"] == "failed"
    assert "dim_schedule.season_id has values missing from dim_season.season_id (1)" in bad["error"]
