"""Output tables shaped by the catalog, for upload and validate tests that do not need a full ETL run.

Every table gets `rows` rows of values of its catalog types, with unique primary keys; `tag` is written into
every text column so a test can tell which load a table came from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from etl.catalog import TABLES, TableSpec, conform


def catalog_frame(spec: TableSpec, rows: int, tag: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {}
    for i, column in enumerate(spec.columns):
        key = column.name in spec.primary_key
        # primary key columns: the row number spread over the key columns so the key is unique
        if column.type == "int":
            data[column.name] = np.arange(rows) if key else rng.integers(0, 100, rows)
        elif column.type == "float":
            data[column.name] = np.arange(rows, dtype=float) if key else rng.random(rows) * 100
        elif column.type == "bool":
            data[column.name] = rng.random(rows) < 0.5
        elif column.type == "date":
            data[column.name] = pd.Timestamp("2025-09-01") + pd.to_timedelta(rng.integers(0, 200, rows), "D")
        elif column.type == "timestamp":
            data[column.name] = pd.Timestamp("2025-09-01", tz="UTC") + pd.to_timedelta(np.arange(rows), "s")
        else:
            data[column.name] = [f"{tag}-{column.name}-{n}" for n in range(rows)] if key else \
                [f"{tag}, \"{i}\"" if n % 7 else None for n in range(rows)]
    return conform(pd.DataFrame(data), spec)


def write_catalog_output(out: Path, rows: int = 50, tag: str = "a", seed: int = 0,
                         tables: dict[str, TableSpec] | None = None) -> dict[str, int]:
    """Write <out>/<table>.csv for every catalog table, foreign keys resolving; returns rows per table.

    Every table has the same number of rows and row i references row i of each referenced table, so keys
    that include foreign-key columns stay unique.
    """
    out.mkdir(parents=True, exist_ok=True)
    tables = tables or TABLES
    frames = {name: catalog_frame(spec, rows, tag, seed) for name, spec in tables.items()}
    for name, spec in tables.items():
        for column, (ref_table, ref_column) in spec.foreign_keys.items():
            if ref_table in frames:
                values = frames[ref_table][ref_column].to_numpy()
                frames[name][column] = pd.Series(values, dtype=frames[name][column].dtype)
    for name, df in frames.items():
        df.to_csv(out / f"{name}.csv", index=False)
    return {name: rows for name in frames}


async def table_tags(pool, tables) -> dict[str, set[str]]:
    """Which load (tag) each table's rows came from, read from its first text primary-key column."""
    tags = {}
    for name in tables:
        spec = TABLES[name]
        key = next((c.name for c in spec.columns if c.name in spec.primary_key and c.type == "text"), None)
        if key is None:
            continue
        values = await pool.fetch(f'select distinct split_part("{key}", \'-\', 1) as tag from public."{name}"')
        tags[name] = {v["tag"] for v in values}
    return tags
