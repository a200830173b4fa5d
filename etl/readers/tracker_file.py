"""One tracker file, workbook or JSON export, by its extension: the reader every caller uses."""

from __future__ import annotations

from pathlib import Path

from etl.canonical import TrackedGame
from etl.readers.tracker_json import read_tracker_json
from etl.readers.tracker_workbook import read_tracker_workbook


def read_tracker_file(path: Path) -> TrackedGame:
    """The file's canonical frames; InputError naming the file when it cannot be used. Unguarded: untrusted
    files go through etl.readers.guard (a child process with limits)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        return read_tracker_json(path)
    return read_tracker_workbook(path)
