"""What an input file may declare before a reader expands it, checked from its headers alone.

A workbook is a zip: its central directory states every member's uncompressed size, and each worksheet states
its used range in ``<dimension ref="A1:BU4000"/>`` near its start. python-calamine trusts the cells (a sheet with
cells at A1 and XFD1048576 makes it allocate 17 billion cells, 512 GiB, and abort the process), so the sizes
and dimensions are checked here first, reading only the directory and the first bytes of each sheet. A JSON
export is checked for its size and nesting depth on the raw bytes (vectorised: ~10 ms per MB) before
``json.loads``, and for the number of events and shifts after. What a file hides from these checks (a sheet
that declares A1:A1 and holds XFD1048576, a member whose stated size lies) is stopped by the memory and time
limits of the reader process (etl.readers.guard).

The defaults are far above the real league's files (largest: 30 MB inflated workbook, 22 MB member, ratio 26,
400,000 cells in a sheet, 4,000 events in a game, JSON depth 6).
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from etl.readers.errors import InputError

MiB = 1024 * 1024
GiB = 1024 * MiB
_SMALL_MEMBER = MiB  # members below this are never judged by their compression ratio
_SHEET_HEAD = 64 * 1024  # the <dimension> element comes before the sheet's data
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([^"]*)"')
_TAG = re.compile(r"<(?:\w+:)?(sheet|Relationship)\b([^>]*)>")
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_CELL = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")


@dataclass(frozen=True)
class Limits:
    """Per input file. The process limits apply to the child that reads one file (etl.readers.guard)."""

    workbook_bytes: int = 256 * MiB  # an .xlsx as stored
    member_bytes: int = 512 * MiB  # one zip member, inflated
    inflated_bytes: int = 1 * GiB  # all members, inflated
    inflation_ratio: int = 200  # inflated / compressed, for members over 1 MiB
    sheet_cells: int = 10_000_000  # declared rows x columns of one worksheet
    json_bytes: int = 64 * MiB
    json_depth: int = 64  # nested arrays and objects
    json_records: int = 200_000  # events, or shifts, in one export
    memory_bytes: int = 3 * GiB  # address space the reader child may add to what it was forked with
    cpu_seconds: int = 120
    wall_seconds: float = 300.0


LIMITS = Limits()


def check_workbook(source: Path | bytes, name: str | None = None, limits: Limits = LIMITS) -> None:
    """InputError naming the workbook when it is no zip, or declares more than the limits allow."""
    name = name or (source.name if isinstance(source, Path) else "upload.xlsx")
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > limits.workbook_bytes:
        raise InputError(f"workbook {name}: {size:,} bytes, over the limit of {limits.workbook_bytes:,}")
    with _open_zip(source, name) as zf:
        members = zf.infolist()
        inflated = 0
        for info in members:
            inflated += info.file_size
            if info.file_size > limits.member_bytes:
                raise InputError(f"workbook {name}: member {info.filename} inflates to {info.file_size:,} bytes, "
                                 f"over the limit of {limits.member_bytes:,} (a zip bomb?)")
            if info.file_size > _SMALL_MEMBER and info.file_size > limits.inflation_ratio * max(info.compress_size, 1):
                raise InputError(f"workbook {name}: member {info.filename} inflates {info.file_size:,} bytes from "
                                 f"{info.compress_size:,}, a ratio over the limit of {limits.inflation_ratio} "
                                 "(a zip bomb?)")
        if inflated > limits.inflated_bytes:
            raise InputError(f"workbook {name}: members inflate to {inflated:,} bytes, over the limit of "
                             f"{limits.inflated_bytes:,} (a zip bomb?)")
        sheets = _sheet_members(zf)
        for info in members:
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            ref = _declared_dimension(zf, info, name)
            cells = _cells(ref) if ref else 0
            if cells > limits.sheet_cells:
                sheet = sheets.get(info.filename, info.filename)
                raise InputError(f"workbook {name}: sheet {sheet!r} declares {ref} ({cells:,} cells), over the limit "
                                 f"of {limits.sheet_cells:,} cells per sheet")


def workbook_sheet_names(path: Path) -> list[str]:
    """The sheet names, from the workbook's directory alone (nothing is expanded); InputError when no zip."""
    with _open_zip(path, path.name) as zf:
        return list(_sheet_members(zf).values())


def check_json_bytes(data: bytes, name: str, limits: Limits = LIMITS) -> None:
    """InputError naming the file when it is larger or nested deeper than the limits."""
    if len(data) > limits.json_bytes:
        raise InputError(f"tracking file {name}: {len(data):,} bytes, over the limit of {limits.json_bytes:,}")
    depth = json_depth(data)
    if depth > limits.json_depth:
        raise InputError(f"tracking file {name}: nested {depth:,} levels deep, over the limit of {limits.json_depth}")


def check_json_records(doc: dict, name: str, limits: Limits = LIMITS) -> None:
    """InputError when the export holds more events or shifts than any game could."""
    for key in ("events", "shifts"):
        value = doc.get(key)
        if isinstance(value, list) and len(value) > limits.json_records:
            raise InputError(f"tracking file {name}: {len(value):,} {key}, over the limit of "
                             f"{limits.json_records:,} per game")


def json_depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text, brackets inside strings not counted."""
    a = np.frombuffer(data, np.uint8)
    quotes = np.flatnonzero(a == ord('"'))
    escaped = quotes[(quotes > 0) & (a[quotes - 1] == ord("\\"))]
    if len(escaped):  # a quote after an odd run of backslashes is inside its string
        run = np.zeros(len(escaped), np.int64)
        active = np.ones(len(escaped), bool)
        k = 1
        while active.any():
            at = escaped - k
            active &= (at >= 0) & (a[np.maximum(at, 0)] == ord("\\"))
            run += active
            k += 1
        quotes = np.setdiff1d(quotes, escaped[run % 2 == 1], assume_unique=True)
    brackets = np.flatnonzero((a == ord("[")) | (a == ord("{")) | (a == ord("]")) | (a == ord("}")))
    brackets = brackets[np.searchsorted(quotes, brackets) % 2 == 0]
    if not len(brackets):
        return 0
    opening = (a[brackets] == ord("[")) | (a[brackets] == ord("{"))
    return int(np.where(opening, 1, -1).astype(np.int32).cumsum().max())


def _open_zip(source: Path | bytes, name: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source if isinstance(source, Path) else io.BytesIO(source))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"workbook {name}: cannot be opened (not an .xlsx zip archive: {exc})") from exc


def _small_member(zf: zipfile.ZipFile, member: str, limit: int = 16 * MiB) -> str:
    """A metadata member's text (workbook.xml and its relationships are a few KB in real files)."""
    try:
        info = zf.getinfo(member)
    except KeyError:
        return ""
    if info.file_size > limit:
        raise InputError(f"workbook {Path(zf.filename or 'upload.xlsx').name}: member {member} inflates to "
                         f"{info.file_size:,} bytes, over the limit of {limit:,}")
    with zf.open(info) as fh:
        return fh.read(limit).decode("utf-8", "replace")


def _sheet_members(zf: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet member path -> sheet name, from xl/workbook.xml and its relationships (document order)."""
    targets = {}
    for kind, attrs in _TAG.findall(_small_member(zf, "xl/_rels/workbook.xml.rels")):
        values = dict(_ATTR.findall(attrs))
        if kind == "Relationship" and "Id" in values and "Target" in values:
            target = html.unescape(values["Target"])
            targets[values["Id"]] = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join("xl", target))
    sheets = {}
    for kind, attrs in _TAG.findall(_small_member(zf, "xl/workbook.xml")):
        values = dict(_ATTR.findall(attrs))
        if kind == "sheet" and "name" in values:
            rid = next((v for k, v in values.items() if k.endswith(":id")), None)
            sheets[targets.get(rid, f"?{len(sheets)}")] = html.unescape(values["name"])
    return sheets


def _declared_dimension(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> str | None:
    try:
        with zf.open(info) as fh:
            head = fh.read(_SHEET_HEAD)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise InputError(f"workbook {name}: cannot be opened (member {info.filename}: {exc})") from exc
    match = _DIMENSION.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def _cells(ref: str) -> int:
    """Cells in a range like 'A1:XFD1048576' (a single cell 'A1' is 1; unreadable refs count 0)."""
    corners = [_CELL.fullmatch(part.strip().upper()) for part in ref.split(":")]
    if not corners or any(c is None for c in corners):
        return 0
    cols = [_column_number(c.group(1)) for c in corners]
    rows = [int(c.group(2)) for c in corners]
    return (max(cols) - min(cols) + 1) * (max(rows) - min(rows) + 1)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n
