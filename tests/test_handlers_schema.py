"""The schema job: sql/reset_supabase.sql from the catalog, applied on request."""

from __future__ import annotations

from daemon import queries
from daemon.config import PROJECT_ROOT
from daemon_harness import running_daemon, wait_for_status
from etl.catalog import TABLES
from handlers.schema import RESET_FILE, schema_script
from handlers_output import write_catalog_output


def test_committed_reset_script_matches_the_catalog():
    committed = (PROJECT_ROOT / "sql" / RESET_FILE).read_text(encoding="utf-8")
    assert committed == schema_script(PROJECT_ROOT / "sql"), (
        "sql/reset_supabase.sql is stale: regenerate it with python -c \"from daemon.config import PROJECT_ROOT as r; "
        "from handlers.schema import write_schema_file; write_schema_file(r / 'sql', r / 'sql')\" and commit it")


async def test_schema_job_writes_the_script_and_apply_creates_every_table(settings, pool, tmp_path):
    settings = settings.model_copy(update={"sql_dir": tmp_path / "sql"})
    (tmp_path / "sql" / "views").mkdir(parents=True)
    (tmp_path / "sql" / "views" / "v_games.sql").write_text(
        "create or replace view public.v_games as select game_id, date from public.dim_schedule;")
    async with running_daemon(settings):
        written = await queries.enqueue_job(pool, "schema", {})
        row = await wait_for_status(pool, written["id"], {"completed", "failed"}, timeout=30)
        assert row["status"] == "completed", row["error"]
        assert await pool.fetchval("select to_regclass('public.dim_player')") is None  # not applied
        applied = await queries.enqueue_job(pool, "schema", {"apply": True})
        row = await wait_for_status(pool, applied["id"], {"completed", "failed"}, timeout=30)
    assert row["status"] == "completed", row["error"]
    # written under the data dir, never into the (read-only under systemd) folder the views come from
    assert row["result"]["file"] == str(settings.generated_dir / RESET_FILE)
    assert sorted(p.name for p in (tmp_path / "sql").iterdir()) == ["views"]
    script = (settings.generated_dir / RESET_FILE).read_text()
    assert "v_games" in script
    found = await pool.fetch(
        "select c.relname, pg_get_constraintdef(k.oid) as pk from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public' "
        "join pg_constraint k on k.conrelid = c.oid and k.contype = 'p' where c.relname = any($1::text[])",
        list(TABLES))
    assert {r["relname"]: r["pk"] for r in found} == {
        name: f"PRIMARY KEY ({', '.join(spec.primary_key)})" for name, spec in TABLES.items()}
    assert await pool.fetchval("select count(*) from public.v_games") == 0


async def test_upload_recreates_the_dashboard_views_on_the_new_tables(settings, pool, tmp_path):
    settings = settings.model_copy(update={"sql_dir": tmp_path / "sql"})
    (tmp_path / "sql" / "views").mkdir(parents=True)
    (tmp_path / "sql" / "views" / "v_games.sql").write_text(
        "create or replace view public.v_games as select game_id, date from public.dim_schedule;")
    async with running_daemon(settings):
        for rows in (3, 8):
            write_catalog_output(settings.output_dir, rows=rows)
            job = await queries.enqueue_job(pool, "upload", {})
            row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
            assert row["status"] == "completed", row["error"]
            assert await pool.fetchval("select count(*) from public.v_games") == rows
