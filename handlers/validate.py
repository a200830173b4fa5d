"""`validate`: check the ETL output (<data dir>/output) or the loaded warehouse against the catalog.

Errors (the job fails): a table missing or with other columns, duplicate primary keys, nulls in required
columns, foreign keys that do not resolve. Warnings (reported, the job completes): tracked goals that differ
from the official scoresheet in a tracked game (from the ETL's qa_game_completeness). A failed validation
still leaves its full report: in the job's error text (summary) and as a job_events row (data = report).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import asyncpg
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from daemon.context import JobContext
from daemon.registry import PermanentJobError, handler
from etl.catalog import TABLES, TableSpec, read_table_csv
from etl.schema_sql import qualified

SAMPLE = 5  # offending values listed per finding


class ValidateParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: Literal["output", "database"] = Field(default="output", description="The output CSVs or the database.")
    tables: list[str] = Field(default_factory=list, max_length=len(TABLES),
                              description="Catalog tables to check (default: all).")

    @field_validator("tables")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in TABLES]
        if unknown:
            raise ValueError(f"unknown tables {unknown}; the catalog has {', '.join(TABLES)}")
        return value


@dataclass
class Finding:
    table: str
    check: str  # table | primary_key | not_null | foreign_key | tracked_vs_official
    message: str
    count: int = 0
    column: str | None = None
    sample: list = field(default_factory=list)


@dataclass
class Report:
    target: str
    tables: list[str]
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"target": self.target, "tables_checked": self.tables, "ok": not self.errors,
                "error_count": len(self.errors), "warning_count": len(self.warnings),
                "errors": [asdict(f) for f in self.errors], "warnings": [asdict(f) for f in self.warnings]}


# ------------------------------------------------------------------------------------------- output

def validate_output(output_dir: Path, specs: Iterable[TableSpec]) -> Report:
    """Check the output CSVs with pandas (each referenced table read once)."""
    specs = list(specs)
    report = Report("output", [s.name for s in specs])
    frames: dict[str, pd.DataFrame | None] = {}

    def frame(name: str) -> pd.DataFrame | None:
        """The table's CSV, read once; a missing or unreadable file is an error (reported once)."""
        if name not in frames:
            path = output_dir / f"{name}.csv"
            frames[name] = None
            if not path.is_file():
                report.errors.append(Finding(name, "table", f"{name}.csv does not exist in {output_dir}"))
            else:
                try:
                    frames[name] = read_table_csv(path, TABLES[name])
                except (ValueError, KeyError) as exc:
                    report.errors.append(Finding(name, "table", f"{name}.csv cannot be read: {exc}"))
        return frames[name]

    for spec in specs:
        df = frame(spec.name)
        if df is None:
            continue
        key = list(spec.primary_key)
        dup = df[df.duplicated(key, keep=False)]
        if len(dup):
            report.errors.append(Finding(spec.name, "primary_key", f"{spec.name}: primary key {key} repeats",
                                         int(dup.duplicated(key).sum()), None, _sample(dup[key])))
        for column in spec.columns:
            if not column.nullable:
                nulls = int(df[column.name].isna().sum())
                if nulls:
                    report.errors.append(Finding(spec.name, "not_null", f"{spec.name}.{column.name} is null",
                                                 nulls, column.name))
        for column, (ref_table, ref_column) in spec.foreign_keys.items():
            ref = frame(ref_table)
            if ref is None:
                continue
            values = df[column].dropna()
            missing = values[~values.isin(set(ref[ref_column].dropna()))]
            if len(missing):
                report.errors.append(_fk_finding(spec.name, column, ref_table, ref_column, len(missing),
                                                 sorted(set(missing.tolist()))))
    if "qa_game_completeness" in report.tables and frames.get("qa_game_completeness") is not None:
        _tracked_vs_official(report, frames["qa_game_completeness"].to_dict("records"))
    return report


def _sample(df: pd.DataFrame) -> list:
    return [list(map(_plain, row)) for row in df.drop_duplicates().head(SAMPLE).itertuples(index=False)]


def _plain(value: object) -> object:
    return value.item() if hasattr(value, "item") else value


def _fk_finding(table: str, column: str, ref_table: str, ref_column: str, count: int, values: list) -> Finding:
    return Finding(table, "foreign_key", f"{table}.{column} has values missing from {ref_table}.{ref_column}",
                   count, column, [_plain(v) for v in values[:SAMPLE]])


def _tracked_vs_official(report: Report, games: list[dict]) -> None:
    for game in games:
        if game.get("status") == "untracked":
            continue
        official = (game.get("official_home_goals"), game.get("official_away_goals"))
        tracked = (game.get("tracked_home_goals"), game.get("tracked_away_goals"))
        if any(pd.isna(v) for v in official + tracked) or official == tracked:
            continue
        report.warnings.append(Finding(
            "qa_game_completeness", "tracked_vs_official",
            f"game {game['game_id']} ({game.get('status')}): tracked {tracked[0]}-{tracked[1]}, "
            f"official {official[0]}-{official[1]}", 1, None, [_plain(game["game_id"])]))


# ----------------------------------------------------------------------------------------- database

async def validate_database(conn: asyncpg.Connection, specs: Iterable[TableSpec], schema: str = "public") -> Report:
    """The same checks as SQL over the loaded tables."""
    specs = list(specs)
    report = Report("database", [s.name for s in specs])
    present = {r["table_name"]: set(r["columns"]) for r in await conn.fetch(
        "select table_name, array_agg(column_name::text) as columns from information_schema.columns "
        "where table_schema = $1 group by table_name", schema)}

    def usable(spec: TableSpec) -> bool:
        return spec.name in present and set(spec.column_names) <= present[spec.name]

    for spec in specs:
        if spec.name not in present:
            report.errors.append(Finding(spec.name, "table", f"table {schema}.{spec.name} does not exist"))
            continue
        if not usable(spec):
            missing = sorted(set(spec.column_names) - present[spec.name])
            report.errors.append(Finding(spec.name, "table", f"{spec.name} lacks columns {missing}"))
            continue
        table = qualified(schema, spec.name)
        key = ", ".join(f'"{c}"' for c in spec.primary_key)
        repeats = f"select {key}, count(*) as n from {table} group by {key} having count(*) > 1"
        extra = await conn.fetchval(f"select coalesce(sum(n - 1), 0) from ({repeats}) d")
        if extra:
            dup = await conn.fetch(f"{repeats} order by n desc limit {SAMPLE}")
            report.errors.append(Finding(spec.name, "primary_key", f"{spec.name}: primary key {list(spec.primary_key)} repeats",
                                         int(extra), None, [[r[c] for c in spec.primary_key] for r in dup]))
        required = [c.name for c in spec.columns if not c.nullable]
        if required:
            counts = await conn.fetchrow(
                "select " + ", ".join(f'count(*) filter (where "{c}" is null) as "{c}"' for c in required) + f" from {table}")
            for c in required:
                if counts[c]:
                    report.errors.append(Finding(spec.name, "not_null", f"{spec.name}.{c} is null", counts[c], c))
        for column, (ref_table, ref_column) in spec.foreign_keys.items():
            if not usable(TABLES[ref_table]):
                continue
            rows = await conn.fetch(
                f'select distinct t."{column}"::text as v, count(*) over () as n from {table} t '
                f'where t."{column}" is not null and not exists (select 1 from {qualified(schema, ref_table)} r '
                f'where r."{ref_column}" = t."{column}") order by 1 limit {SAMPLE}')
            if rows:
                total = await conn.fetchval(
                    f'select count(*) from {table} t where t."{column}" is not null and not exists '
                    f'(select 1 from {qualified(schema, ref_table)} r where r."{ref_column}" = t."{column}")')
                report.errors.append(_fk_finding(spec.name, column, ref_table, ref_column, total, [r["v"] for r in rows]))
    if "qa_game_completeness" in report.tables and usable(TABLES["qa_game_completeness"]):
        games = await conn.fetch(f"select * from {qualified(schema, 'qa_game_completeness')}")
        _tracked_vs_official(report, [dict(g) for g in games])
    return report


# ------------------------------------------------------------------------------------------ handler

@handler("validate", ValidateParams)
async def run(params: ValidateParams, ctx: JobContext) -> dict:
    """Checks keys, required columns, foreign keys and tracked vs official goals; fails when errors exist."""
    specs = [TABLES[t] for t in (params.tables or TABLES)]
    await ctx.progress(10, f"validate {params.target}")
    if params.target == "output":
        report = await asyncio.to_thread(validate_output, ctx.settings.output_dir, specs)
    else:
        async with ctx.pool.acquire() as conn:
            report = await validate_database(conn, specs)
    await fail_on_errors(ctx, report, params.target)
    return report.to_dict()


async def fail_on_errors(ctx: JobContext, report: Report, what: str) -> None:
    """A report with errors fails the job: the full report as a job_events row, a summary as the error."""
    if not report.errors:
        return
    await ctx.pool.execute(
        "insert into public.job_events (job_id, status, level, message, worker, data) "
        "values ($1, $2, 'error', 'validation report', $3, $4)",
        ctx.job_id, ctx.status, ctx.worker, report.to_dict())
    summary = "; ".join(f.message + (f" ({f.count})" if f.count else "") for f in report.errors[:5])
    more = f"; and {len(report.errors) - 5} more" if len(report.errors) > 5 else ""
    raise PermanentJobError(f"validation of {what} found {len(report.errors)} errors: {summary}{more} "
                            "(full report in job_events)")
