"""`schema`: write <data dir>/generated/reset_supabase.sql from the catalog (and the views in sql/views/), and
with `apply: true` run it against the job's database. The checkout's sql/reset_supabase.sql is the
repository's copy (a test keeps it current); the job never writes into the checkout, which is read-only under
the systemd unit.

Applying drops and re-creates every warehouse table (empty), in one transaction; run an upload after it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from daemon.context import JobContext
from daemon.registry import handler
from etl.catalog import TABLES
from etl.schema_sql import reset_script
from handlers.options import report_ignored

RESET_FILE = "reset_supabase.sql"


class SchemaOptions(BaseModel):
    """The old API's free options dict: no key acts; each is kept and reported as ignored."""

    model_config = ConfigDict(extra="allow")


class SchemaParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apply: bool = Field(default=False, description="Also run the script (drops and re-creates the warehouse tables).")
    options: SchemaOptions = Field(default_factory=SchemaOptions)


def views_sql(sql_dir: Path) -> str | None:
    """sql/views/*.sql in name order, as one script (None when there are no views)."""
    views = sorted((sql_dir / "views").glob("*.sql")) if (sql_dir / "views").is_dir() else []
    if not views:
        return None
    return "\n".join(f"-- {v.name}\n{v.read_text(encoding='utf-8').strip()}\n" for v in views)


def schema_script(sql_dir: Path, *, transaction: bool = True) -> str:
    """The reset script: every catalog table, then sql/views/*.sql in name order."""
    script = reset_script()
    views = views_sql(sql_dir)
    if views:
        script = script.replace("\ncommit;\n", f"\n{views}\ncommit;\n")
    if not transaction:
        script = script.replace("\nbegin;\n", "\n").replace("\ncommit;\n", "\n")
    return script


def write_schema_file(sql_dir: Path, out_dir: Path) -> Path:
    """Write out_dir/reset_supabase.sql with the views of sql_dir (only when its content changed)."""
    path = out_dir / RESET_FILE
    script = schema_script(sql_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != script:
        tmp = path.with_suffix(".sql.part")
        tmp.write_text(script, encoding="utf-8")
        tmp.replace(path)
    return path


@handler("schema", SchemaParams)
async def run(params: SchemaParams, ctx: JobContext) -> dict:
    """Writes reset_supabase.sql (under the data dir) from the catalog; apply=true also runs it (drops the
    warehouse tables)."""
    await report_ignored(ctx, params.options)
    path = write_schema_file(ctx.settings.sql_dir, ctx.settings.generated_dir)
    await ctx.progress(50, f"wrote {path.name}")
    if params.apply:
        async with ctx.pool.acquire() as conn, conn.transaction():
            await conn.execute(schema_script(ctx.settings.sql_dir, transaction=False))
        ctx.log.info("schema.applied", tables=len(TABLES))
    return {"file": str(path), "tables": list(TABLES), "tables_created": list(TABLES), "applied": params.apply}
