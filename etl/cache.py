"""Per-input cache: what a reader produced for one file, keyed by the file's content hash.

Layout: ``<cache_dir>/reads/<sha256>.pkl`` holds a pickled ``CachedRead`` (the TrackedGame, or the error the
reader raised); ``<league sha>.league.pkl`` the league workbook's build; ``<league sha>-<file sha>.game.pkl`` one
game's built frames; ``<sha>-<sha>-<0|1>.compare.pkl`` the comparison of two files of a game;
``<file sha>.summary.pkl`` a file's tracked summary (files of games read from two files). ``index.json``
remembers which hash each input path had in the last run, so games left out of a ``games=[...]`` run keep
their previous result. After each run, entries naming a hash that is no longer an input are pruned. Pickle is fine: the cache is
written and read only by this library on the same machine; a corrupt or incompatible entry is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CACHE_VERSION = 5  # 3: TrackedGame.summary computed on first use (pickles hold _summary); 4: league tables in
# the league workbook's column names (the dashboard contract); 5: TrackedGame.xy (coordinates)
_HASH = re.compile(r"[0-9a-f]{64}")


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class CachedRead:
    version: int
    value: Any  # TrackedGame | League | None
    error: str | None


class ReadCache:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.reads = self.root / "reads"

    def clear(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def get(self, digest: str) -> CachedRead | None:
        path = self.reads / f"{digest}.pkl"
        try:
            with open(path, "rb") as fh:
                entry = pickle.load(fh)
        except Exception:
            return None
        return entry if isinstance(entry, CachedRead) and entry.version == CACHE_VERSION else None

    def put(self, digest: str, value: Any, error: str | None = None) -> None:
        self.reads.mkdir(parents=True, exist_ok=True)
        tmp = self.reads / f".{digest}.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            pickle.dump(CachedRead(CACHE_VERSION, value, error), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, self.reads / f"{digest}.pkl")

    def prune(self, keep: set[str]) -> int:
        """Delete entries that name a content hash not in ``keep`` (inputs that changed or went away)."""
        removed = 0
        if not self.reads.is_dir():
            return 0
        for path in self.reads.glob("*.pkl"):
            hashes = set(_HASH.findall(path.name))
            if hashes and not hashes <= keep:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def load_index(self) -> dict[str, dict[str, Any]]:
        try:
            return json.loads((self.root / "index.json").read_text())
        except Exception:
            return {}

    def save_index(self, index: dict[str, dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".index.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(index, indent=1, sort_keys=True))
        os.replace(tmp, self.root / "index.json")
