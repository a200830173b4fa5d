"""Writing the output folder atomically: every table as CSV plus manifest.json, swapped in by rename.

The run writes into ``<out>.tmp-<pid>`` next to ``out``; when everything is written the old folder is
renamed away, the new one renamed to ``out`` and the old one deleted. A reader therefore sees either the
previous complete output or the new complete output, never half a run.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from etl.catalog import TableSpec


def staging_dir(out: Path) -> Path:
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def _csv_ready(spec: TableSpec, df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=False)  # date columns are replaced, not changed in place: the data need not be copied
    for col in spec.columns:
        if col.type == "date":
            out[col.name] = out[col.name].dt.strftime("%Y-%m-%d")
        elif col.type == "timestamp":
            out[col.name] = out[col.name].dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return out


def table_csv(spec: TableSpec, df: pd.DataFrame) -> bytes:
    """A conformed table as CSV bytes: header row, empty field for null, ISO dates."""
    return _csv_ready(spec, df).to_csv(index=False, na_rep="", lineterminator="\n").encode()


def write_table(folder: Path, spec: TableSpec, df: pd.DataFrame) -> None:
    """The bytes of ``table_csv``, streamed to the file (a season's largest table is ~100 MB of text)."""
    _csv_ready(spec, df).to_csv(folder / f"{spec.name}.csv", index=False, na_rep="", lineterminator="\n",
                                encoding="utf-8")


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str))


def swap_in(tmp: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def discard(tmp: Path) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
