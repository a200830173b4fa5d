"""Which games an incremental run must rebuild: the tracker files whose content differs from what the cache's
index remembers for them (etl.cache: path, as given and not through symlinks, since the daemon links the
current inputs under stable names -> sha256 of the last run that published its output).

Pure and cheap: it hashes the inputs, reads no workbook. `None` means "everything": there is no previous run,
the league workbook changed (every table depends on it), a file without a game id changed, or a remembered
file went away (its game's rows must go too).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from etl.cache import ReadCache, file_hash
from etl.pipeline import discover


def changed_games(blb: Path, tracking: Sequence[Path], cache_dir: Path) -> list[int] | None:
    """Games whose tracker files are new or changed since the last run, sorted; None when all must be rebuilt."""
    index = ReadCache(cache_dir).load_index()
    league = index.get(str(Path(blb).absolute()))
    if not index or league is None or league.get("sha256") != file_hash(Path(blb)):
        return None
    inputs = discover(tracking, Path(blb))
    current = {str(item.path.absolute()) for item in inputs}
    remembered = {path for path, entry in index.items() if entry.get("role") == "tracking"}
    if remembered - current:
        return None
    changed: set[int] = set()
    for item in inputs:
        entry = index.get(str(item.path.absolute()))
        if entry is not None and entry.get("sha256") == file_hash(item.path):
            continue
        if item.game_id is None:
            return None
        changed.add(item.game_id)
    return sorted(changed)
