"""CREATE TABLE statements for the warehouse, from the catalog (pure text, no database access).

One definition of every table's columns, types and primary key: the upload creates its tables with these
statements and the schema job writes them to sql/reset_supabase.sql. Foreign keys are documented in comments
only: the league's data has references that do not resolve (the validate job reports them), and a load must
not fail on them.
"""

from __future__ import annotations

import re

from etl.catalog import EMBED_FOREIGN_KEYS, TABLES, TableSpec, pg_type

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def identifier(name: str) -> str:
    """A quoted SQL identifier; only lower-case names of letters, digits and '_' are accepted."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{name!r} is not a valid table, column or schema name (lower-case letters, digits, _)")
    return f'"{name}"'


def qualified(schema: str, table: str) -> str:
    return f"{identifier(schema)}.{identifier(table)}"


def create_table(spec: TableSpec, *, schema: str = "public", name: str | None = None,
                 if_not_exists: bool = False) -> str:
    """CREATE TABLE for a catalog table (optionally under another name, e.g. '<table>__new')."""
    lines = []
    for column in spec.columns:
        null = "" if column.nullable else " not null"
        lines.append(f"    {identifier(column.name)} {pg_type(column)}{null}")
    pk_name = identifier(f"{name or spec.name}_pkey")
    lines.append(f"    constraint {pk_name} primary key ({', '.join(identifier(c) for c in spec.primary_key)})")
    exists = "if not exists " if if_not_exists else ""
    return f"create table {exists}{qualified(schema, name or spec.name)} (\n" + ",\n".join(lines) + "\n);"


def read_only_access(schema: str, table: str) -> str:
    """Row-level security and grants of a warehouse table: readable by Supabase's anon and authenticated roles
    (the league's public stats), written only by the daemon (SQL function warehouse_access, migrations)."""
    target = qualified(schema, table).replace("'", "''")
    return f"select public.warehouse_access('{target}', true);"


def embed_foreign_keys(schema: str = "public") -> str:
    """(Re)declare the foreign keys the dashboard embeds through (catalog.EMBED_FOREIGN_KEYS), NOT VALID so
    rows that do not resolve stay (the validate job reports them); run after the tables are in place."""
    parts = []
    for table, column, ref_table, ref_column in EMBED_FOREIGN_KEYS:
        name = identifier(f"{table}_{column}_fkey")
        parts.append(f"alter table {qualified(schema, table)} drop constraint if exists {name};")
        parts.append(f"alter table {qualified(schema, table)} add constraint {name} foreign key "
                     f"({identifier(column)}) references {qualified(schema, ref_table)} ({identifier(ref_column)}) "
                     "not valid;")
    return "\n".join(parts)


def reset_script(schema: str = "public", tables: dict[str, TableSpec] | None = None) -> str:
    """The whole warehouse schema: drop and re-create every catalog table, in one transaction."""
    tables = TABLES if tables is None else tables
    parts = [
        "-- Generated from etl/catalog.py by the `schema` job (etl/schema_sql.py). Do not edit by hand.",
        "-- Drops and re-creates every warehouse table (the data is lost; run an upload afterwards).",
        "begin;",
        f"create schema if not exists {identifier(schema)};",
    ]
    for spec in tables.values():
        parts.append("")
        parts.append(f"-- {spec.kind} {spec.name}: {spec.description}".rstrip(": "))
        for column, (ref_table, ref_column) in spec.foreign_keys.items():
            parts.append(f"--   {column} references {ref_table}({ref_column}) (checked by the validate job)")
        parts.append(f"drop table if exists {qualified(schema, spec.name)} cascade;")
        parts.append(create_table(spec, schema=schema))
        parts.append(read_only_access(schema, spec.name))
    parts.append("")
    parts.append(embed_foreign_keys(schema))
    parts.append("")
    parts.append("commit;")
    return "\n".join(parts) + "\n"
