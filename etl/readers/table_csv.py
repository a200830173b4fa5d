"""An output table's CSV as sent to the API: readable (UTF-8, quoting, no ragged rows) and its header."""

from __future__ import annotations

import csv
import io

from etl.readers.errors import InputError


def csv_header(content: bytes, table: str) -> tuple[list[str], int]:
    """The header's column names (stripped) and the number of data rows; InputError saying what is wrong when
    the bytes are no usable CSV.

    Every row is parsed (a ragged row names its line), so untrusted content is read through
    etl.readers.guard."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"CSV for {table} is not UTF-8 text: {exc}") from None
    try:
        rows = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(rows, None)
        if not header or not any(h.strip() for h in header):
            raise InputError(f"CSV for {table} is empty (no header row)")
        data_rows = 0
        for line, row in enumerate(rows, start=2):
            if row and len(row) != len(header):
                raise InputError(f"CSV for {table}: line {line} has {len(row)} fields, the header has {len(header)}")
            data_rows += bool(row)
    except csv.Error as exc:
        raise InputError(f"CSV for {table} is not readable: {exc}") from None
    return [h.strip() for h in header], data_rows
