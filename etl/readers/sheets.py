"""Reading worksheets with python-calamine: one open per file, only the sheets asked for."""

from __future__ import annotations

import math
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import python_calamine

from etl.canonical import per_distinct
from etl.readers.errors import InputError
from etl.readers.limits import check_workbook

__all__ = ["InputError", "numeric", "open_workbook", "read_sheet", "require_columns", "sheet_records", "text"]


def open_workbook(path: Path) -> python_calamine.CalamineWorkbook:
    """The workbook, once its zip members and declared sheet dimensions are within etl.readers.limits."""
    check_workbook(path)
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several types for corrupt / truncated zips
        raise InputError(f"workbook {path.name}: cannot be opened ({type(exc).__name__}: {exc})") from exc


def read_sheet(
    wb: python_calamine.CalamineWorkbook, path: Path, sheet: str, *, required: bool = True,
    wanted: set[str] | None = None,
) -> pd.DataFrame | None:
    """A sheet as a DataFrame: first row is the header, '' cells become NaN, blank headers are dropped.

    The frame keeps an ``_row`` column with the 1-based spreadsheet row number for issue messages.
    ``wanted`` limits the columns kept (others are never converted).
    """
    if sheet not in wb.sheet_names:
        if required:
            raise InputError(f"workbook {path.name}: sheet {sheet!r} is missing (has {wb.sheet_names})")
        return None
    try:
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:
        raise InputError(f"workbook {path.name}: sheet {sheet!r} cannot be read ({exc})") from exc
    if not rows:
        return pd.DataFrame({"_row": pd.Series([], dtype="int64")})
    header = [str(h).strip() for h in rows[0]]
    keep = [i for i, h in enumerate(header) if h and h not in header[:i] and (wanted is None or h in wanted)]
    width = len(header)
    body = [r if len(r) == width else (list(r) + [""] * width)[:width] for r in rows[1:]]
    arr = np.array(body, dtype=object).reshape(len(body), width) if body else np.empty((0, width), object)
    df = pd.DataFrame(arr[:, keep], columns=[header[i] for i in keep])
    df = df.replace({"": np.nan})
    df["_row"] = np.arange(2, len(df) + 2)
    return df


def sheet_records(path: Path, sheet: str) -> list[dict]:
    """One sheet as a list of {header: value} with JSON-ready values, blank cells left out, blank rows skipped
    (the staging_blb job's rows)."""
    path = Path(path)
    wb = open_workbook(path)
    if sheet not in wb.sheet_names:
        raise InputError(f"workbook {path.name}: sheet {sheet!r} is missing")
    try:
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:
        raise InputError(f"workbook {path.name}: sheet {sheet!r} cannot be read ({exc})") from exc
    if not rows:
        return []
    header = [str(h).strip() for h in rows[0]]
    out = []
    for raw in rows[1:]:
        row = {h: _jsonable(v) for h, v in zip(header, raw) if h and v not in ("", None)}
        if row:
            out.append(row)
    return out


def _jsonable(value: object) -> object:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def require_columns(df: pd.DataFrame, columns: list[str], path: Path, sheet: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"workbook {path.name}: sheet {sheet!r} lacks column{'s' if len(missing) > 1 else ''} "
            + ", ".join(repr(m) for m in missing)
        )


def numeric(df: pd.DataFrame, column: str) -> pd.Series:
    """Column as float; text that is not a number becomes NaN (callers flag it)."""
    if column not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype="float64")
    return pd.to_numeric(df[column], errors="coerce").astype("float64")


def text(df: pd.DataFrame, column: str) -> pd.Series:
    """Column as stripped text; blank cells become NaN. Worked out once per distinct cell value."""
    if column not in df.columns:
        return pd.Series(np.nan, index=df.index, dtype="str")
    return per_distinct(df[column], _text)


def _text(values: pd.Series) -> pd.Series:
    s = values.astype("str").str.strip()
    return s.where(~s.isin(["", "nan", "None"]))
