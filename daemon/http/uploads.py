"""Files that arrive over HTTP: checked, then stored where the jobs read them (tracker files through
handlers.staging_tracking.store_tracker_file, output CSVs and league workbooks written atomically), each with
its content hash. Everything here is blocking file work: routes call it through asyncio.to_thread. Content is
parsed only in a child process with memory and time limits (etl.readers.guard), never in the daemon."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from daemon.http.errors import ApiError, field_error
from etl.readers import guard
from etl.readers.errors import InputError
from etl.readers.limits import check_workbook
from etl.readers.table_csv import csv_header

WORKBOOK_SUBDIR = Path("raw") / "uploads"


@dataclass(frozen=True)
class StoredFile:
    relative: str  # to the data dir
    sha256: str


def write_atomically(path: Path, content: bytes) -> None:
    """Readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_table_csv(content: bytes, table: str, columns: list[str], *, allow_empty: bool = False) -> None:
    """400 when the bytes are not a readable CSV (encoding, quoting, ragged rows); 422 naming the columns that
    are missing from, or not in, the catalog table; 422 for a header without rows unless allow_empty (loading
    it would silently empty the warehouse table)."""
    try:
        names, data_rows = guard.run_guarded(csv_header, content, table, name=f"CSV for {table}")
    except InputError as exc:
        raise ApiError(400, str(exc)) from None
    problems = []
    missing = [c for c in columns if c not in names]
    extra = [n for n in names if n not in columns]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if missing:
        problems.append(field_error(["body", "file", "columns"], f"missing columns: {', '.join(missing)}",
                                    "missing_columns"))
    if extra:
        problems.append(field_error(["body", "file", "columns"],
                                    f"columns not in table {table}: {', '.join(extra)}", "extra_columns"))
    if duplicated:
        problems.append(field_error(["body", "file", "columns"], f"duplicated columns: {', '.join(duplicated)}",
                                    "duplicated_columns"))
    if not data_rows and not allow_empty and not problems:
        problems.append(field_error(["body", "file"], f"CSV for {table} has a header and no rows: loading it "
                                    "would empty the table; send allow_empty=true to mean that", "empty_table"))
    if problems:
        raise ApiError(422, problems)


def store_table_csv(output_dir: Path, table: str, content: bytes) -> str:
    """Write <output dir>/<table>.csv (table is a catalog name, never user text); returns the content hash."""
    write_atomically(output_dir / f"{table}.csv", content)
    return hashlib.sha256(content).hexdigest()


def store_workbook(data_dir: Path, filename: str, content: bytes) -> StoredFile:
    """Store a league workbook as raw/uploads/<safe stem>-<hash12>.xlsx: content-addressed, so a pending
    staging job keeps reading the file it was given when another upload arrives."""
    base = Path(filename.replace("\\", "/")).name
    stem, ext = os.path.splitext(base)
    if ext.lower() != ".xlsx":
        raise ApiError(422, [field_error(["body", "file"], f"workbook {base!r}: extension must be .xlsx")])
    if not content.startswith(b"PK\x03\x04"):
        raise ApiError(400, f"workbook {base!r} is not an .xlsx file (not a zip archive)")
    try:  # what the zip declares (member sizes, sheet dimensions), before any job expands it
        check_workbook(content, base)
    except InputError as exc:
        raise ApiError(422, [field_error(["body", "file"], str(exc), "over_limits")]) from None
    sha256 = hashlib.sha256(content).hexdigest()
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in stem).strip("._")[:80] or "workbook"
    relative = WORKBOOK_SUBDIR / f"{safe}-{sha256[:12]}.xlsx"
    path = data_dir / relative
    if not path.exists():
        write_atomically(path, content)
    return StoredFile(str(relative), sha256)
