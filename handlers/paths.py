"""Params that name a file: a path relative to the data dir inside the folder its job reads, judged by name
alone (no '..', not absolute, no backslashes), so a request naming any other file is refused by the params
model itself, in the API, the CLI and the job alike."""

from __future__ import annotations

from pathlib import PurePosixPath

MAX_PATH_LENGTH = 500


def relative_file_under(value: str, folder: str, extensions: tuple[str, ...]) -> str:
    """value when it names a file under folder/ (relative to the data dir) with one of extensions, else
    ValueError saying what is accepted."""
    path = PurePosixPath(value)
    if "\\" in value or path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError(f"{value!r} is not under {folder}/: give a path relative to the data dir, without '..'")
    if path.parts[: len(PurePosixPath(folder).parts)] != PurePosixPath(folder).parts or len(path.parts) <= len(
            PurePosixPath(folder).parts):
        raise ValueError(f"{value!r} is not under {folder}/ (relative to the data dir)")
    if path.suffix.lower() not in extensions:
        raise ValueError(f"{value!r}: the file must end in {' or '.join(extensions)}")
    return value
