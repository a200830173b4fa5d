"""What the old API's options and modes do inside the jobs, on the real database: upload sets from the
catalog, options.clean, unknown options reported as ignored, and staged-row updates."""

from __future__ import annotations

from daemon import queries
from daemon_harness import running_daemon, wait_for_status
from etl.catalog import TABLES
from handlers.upload import mode_tables
from handlers_output import write_catalog_output


async def _run(settings, pool, kind: str, params: dict) -> dict:
    job = await queries.enqueue_job(pool, kind, params, max_attempts=1)
    async with running_daemon(settings):
        return await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)


async def test_upload_modes_load_exactly_their_catalog_sets(settings, pool):
    write_catalog_output(settings.output_dir, rows=3)
    for mode, expected in (("qa", ["qa_game_completeness", "qa_data_issues"]),
                           ("tracking", [n for n, s in TABLES.items() if s.kind == "fact" and "game_id" in s.primary_key
                                         and n != "fact_gameroster"])):
        done = await _run(settings, pool, "upload", {"mode": mode})
        assert done["status"] == "completed", done["error"]
        assert expected == mode_tables(mode)
        assert sorted(done["result"]["tables"]) == sorted(expected)  # jsonb keeps object keys sorted
        assert done["result"]["tables_created"] == expected
    assert "fact_gameroster" not in mode_tables("tracking") and "fact_events" in mode_tables("tracking")
    # dims were never in a set: the swap creates every catalog table, but dim_player was never loaded
    assert await pool.fetchval("select count(*) from public.dim_player") == 0


async def test_upload_clean_drops_leftover_warehouse_tables_but_keeps_what_a_view_needs(settings, pool):
    write_catalog_output(settings.output_dir, rows=3)
    await pool.execute("create table public.fact_old_season (x int); create table public.lookup_old (x int); "
                       "create table public.dim_kept (x int); create view public.v_kept as select x from public.dim_kept; "
                       "create table public.notes_mine (x int)")
    done = await _run(settings, pool, "upload", {"mode": "dims", "options": {"clean": True}})
    assert done["status"] == "completed", done["error"]
    assert done["result"]["dropped"] == ["fact_old_season", "lookup_old"]
    assert await pool.fetchval("select to_regclass('public.dim_kept')") is not None
    assert await pool.fetchval("select to_regclass('public.notes_mine')") is not None  # not warehouse-named
    warnings = await pool.fetch("select message from job_events where job_id = $1 and level = 'warning'", done["id"])
    assert any("kept public.dim_kept" in w["message"] for w in warnings)


async def test_unknown_options_are_kept_and_reported_as_ignored(settings, pool):
    write_catalog_output(settings.output_dir, rows=3)
    done = await _run(settings, pool, "upload", {"mode": "qa", "options": {"turbo": True, "colour": "red"}})
    assert done["status"] == "completed", done["error"]
    assert done["params"]["options"] == {"turbo": True, "colour": "red"}  # kept as sent
    events = await pool.fetch("select message, data from job_events where job_id = $1 and message like 'ignored%'",
                              done["id"])
    assert len(events) == 1 and set(events[0]["data"]["ignored_options"]) == {"colour", "turbo"}


async def test_staged_rows_update_matches_by_json_or_text(settings, pool):
    staged = await _run(settings, pool, "staging_blb", {"table": "dim_player", "rows": [
        {"player_id": "P1", "skill": 3}, {"player_id": "P2", "skill": 4}, {"player_id": 18969, "skill": 5}]})
    assert staged["status"] == "completed", staged["error"]
    by_text = await _run(settings, pool, "staging_blb_update", {
        "table": "dim_player", "filter_column": "player_id", "filter_value": "P2", "updates": {"skill": 9}})
    by_number = await _run(settings, pool, "staging_blb_update", {
        "table": "dim_player", "filter_column": "player_id", "filter_value": "18969", "updates": {"skill": 1}})
    assert (by_text["result"]["rows_updated"], by_number["result"]["rows_updated"]) == (1, 1)
    rows = await pool.fetch("select data from stage_dim_player order by row_no")
    assert [r["data"]["skill"] for r in rows] == [3, 9, 1]
