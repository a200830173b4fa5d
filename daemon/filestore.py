"""The content-addressed file store in the database (migration 20261201000500_files.sql), and each daemon's
local cache of it.

Every input a job needs (the league workbook, tracker files) and every ETL output archive is stored once in
`files` by its SHA-256 and recorded per upload in `file_versions`; which versions are the league's current
inputs is the SQL function `current_inputs()`. A daemon on any host materialises what a job needs into
`<data dir>/cache/files/<sha[:2]>/<sha>`, checking the hash of a cached copy before every use (a copy whose
bytes changed on disk is fetched again), and may evict the least recently used copies.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg
import structlog

from daemon.config import Settings

log = structlog.get_logger()

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "tar.gz": "application/gzip",
    "csv": "text/csv",
}

VERSION_COLUMNS = ("v.id, v.sha256, v.name, v.role, v.game_id, v.format, f.size, v.uploaded_by, v.uploaded_at, "
                   "v.source")


class FileStoreError(ValueError):
    """A file the store cannot take or give back; the message names it."""


@dataclass(frozen=True)
class FileVersion:
    id: int
    sha256: str
    name: str
    role: str
    game_id: int | None
    format: str | None
    size: int
    uploaded_by: str | None
    uploaded_at: datetime
    source: str
    slot: str | None = None
    pinned: bool = False

    @classmethod
    def of(cls, row: asyncpg.Record) -> FileVersion:
        extra = {k: row[k] for k in ("slot", "pinned") if k in row.keys()}
        return cls(row["id"] if "id" in row.keys() else row["version_id"], row["sha256"], row["name"], row["role"],
                   row["game_id"], row["format"], row["size"], row["uploaded_by"], row["uploaded_at"],
                   row["source"], **extra)

    def as_json(self) -> dict:
        out = {k: getattr(self, k) for k in ("id", "sha256", "name", "role", "game_id", "format", "size",
                                              "uploaded_by", "source", "slot", "pinned")}
        out["uploaded_at"] = self.uploaded_at.isoformat()
        return out

    @property
    def input_name(self) -> str:
        """The name the ETL expects for this input (it reads the game id from a tracker file's name)."""
        if self.role == "league_workbook":
            return "BLB_Tables.xlsx"
        if self.role == "tracker":
            return f"{self.game_id}_tracking.xlsx" if self.format == "xlsx" else f"{self.game_id}.json"
        return self.name


def identify_input(name: str, content: bytes, *, role: str | None = None,
                   game_id: int | None = None) -> tuple[str, int | None, str]:
    """(role, game_id, format) of an input file from its name and bytes: a JSON export is a tracker file (its
    gameId), a workbook named <game_id>_... is a tracker workbook, any other workbook the league workbook.
    Synchronous (it may parse JSON): call it off the event loop."""
    base = Path(name.replace("\\", "/")).name
    lower = base.lower()
    if lower.endswith(".json"):
        fmt = "json"
    elif lower.endswith(".xlsx"):
        fmt = "xlsx"
    else:
        raise FileStoreError(f"file {base!r}: only .xlsx and .json inputs are stored")
    digits = re.match(r"(\d+)", base)
    if role is None:
        role = "tracker" if fmt == "json" or digits else "league_workbook"
    if role == "tracker" and game_id is None:
        if digits:
            game_id = int(digits.group(1))
        elif fmt == "json":
            try:
                game_id = int(json.loads(content)["gameId"])
            except (ValueError, KeyError, TypeError):
                game_id = None
        if game_id is None:
            raise FileStoreError(f"tracker file {base!r}: no game id in its name or its gameId field")
    return role, (game_id if role == "tracker" else None), fmt


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class FileStore:
    """Put, list, pin and fetch files; the cache folder is this host's copy of what its jobs used."""

    def __init__(self, pool: asyncpg.Pool, cache_dir: Path, *, limit_bytes: int) -> None:
        self.pool = pool
        self.cache_dir = Path(cache_dir)
        self.limit_bytes = limit_bytes

    @classmethod
    def from_settings(cls, pool: asyncpg.Pool, settings: "Settings") -> FileStore:
        return cls(pool, settings.file_cache_dir, limit_bytes=settings.upload_limit_bytes)

    async def put_tracker(self, path: Path, content: bytes, game_id: int, *, uploaded_by: str | None,
                          source: str) -> FileVersion:
        """A tracker file the API or the watch folder accepted: the newest version of its game's slot."""
        fmt = "json" if path.suffix.lower() == ".json" else "xlsx"
        return await self.put(content, name=path.name, role="tracker", game_id=game_id, format=fmt,
                              uploaded_by=uploaded_by, source=source)

    # ---- writing --------------------------------------------------------------------------------------

    async def put(self, content: bytes, *, name: str, role: str, game_id: int | None = None,
                  format: str | None = None, uploaded_by: str | None = None, source: str = "api") -> FileVersion:
        """Store content (once per hash; bytes already stored are not sent again) and record this upload."""
        if len(content) > self.limit_bytes:
            raise FileStoreError(f"file {name}: {len(content)} bytes is over the limit of {self.limit_bytes}")
        if not content:
            raise FileStoreError(f"file {name} is empty")
        sha = await asyncio.to_thread(sha256_of, content)
        known = await self.pool.fetchval("select exists(select 1 from files where sha256 = $1)", sha)
        try:
            version_id = await self.pool.fetchval(
                "select put_file($1, $2, $3, $4, $5, $6, $7, $8, $9)", sha, None if known else content,
                name[:255], role, MEDIA_TYPES.get(format or "", "application/octet-stream"), game_id, format,
                uploaded_by, source)
        except asyncpg.CheckViolationError as exc:
            raise FileStoreError(f"file {name}: {exc}") from None
        log.info("files.put", name=name, sha256=sha, role=role, game_id=game_id, size=len(content),
                 stored=not known, source=source)
        return await self.version(version_id)

    async def pin(self, version_id: int, *, pinned_by: str | None = None) -> str:
        """Make an older (or any) version its slot's current input until unpinned; returns the slot."""
        try:
            return await self.pool.fetchval("select pin_input($1, $2)", version_id, pinned_by)
        except asyncpg.InvalidParameterValueError as exc:
            raise FileStoreError(str(exc)) from None

    async def unpin(self, slot: str) -> bool:
        return await self.pool.fetchval("select unpin_input($1)", slot)

    # ---- reading --------------------------------------------------------------------------------------

    async def version(self, version_id: int) -> FileVersion:
        row = await self.pool.fetchrow(
            f"select {VERSION_COLUMNS} from file_versions v join files f using (sha256) where v.id = $1", version_id)
        if row is None:
            raise FileStoreError(f"no file version {version_id}")
        return FileVersion.of(row)

    async def versions(self, *, role: str | None = None, game_id: int | None = None,
                       limit: int = 200) -> list[FileVersion]:
        rows = await self.pool.fetch(
            f"select {VERSION_COLUMNS}, input_slot(v.role, v.game_id, v.format) as slot, "
            "exists(select 1 from input_pins p where p.version_id = v.id) as pinned "
            "from file_versions v join files f using (sha256) "
            "where ($1::text is null or v.role = $1) and ($2::bigint is null or v.game_id = $2) "
            "order by v.uploaded_at desc, v.id desc limit $3", role, game_id, limit)
        return [FileVersion.of(r) for r in rows]

    async def current_inputs(self, *, game_id: int | None = None) -> list[FileVersion]:
        """The league's current inputs: one league workbook, one tracker file per game and format."""
        rows = await self.pool.fetch(
            "select * from current_inputs() where ($1::bigint is null or game_id = $1) order by role, game_id, format",
            game_id)
        return [FileVersion.of(r) for r in rows]

    async def content(self, sha256: str) -> bytes:
        data = await self.pool.fetchval("select content from files where sha256 = $1", sha256)
        if data is None:
            raise FileStoreError(f"no file with sha256 {sha256} in the store")
        return data

    # ---- the local cache ------------------------------------------------------------------------------

    def cached_path(self, sha256: str) -> Path:
        return self.cache_dir / sha256[:2] / sha256

    async def materialise(self, sha256: str) -> Path:
        """A verified local copy of the file: the cached one when its bytes still hash to sha256, else fetched
        from the database again (and the bad copy replaced)."""
        path = self.cached_path(sha256)
        if path.is_file():
            if await asyncio.to_thread(_hash_file, path) == sha256:
                os.utime(path)  # recently used: eviction keeps it
                return path
            log.warning("files.cache_corrupt", sha256=sha256, path=str(path), action="fetched again")
        content = await self.content(sha256)
        if sha256_of(content) != sha256:
            raise FileStoreError(f"file {sha256} in the database does not match its hash")
        await asyncio.to_thread(_write_atomically, path, content)
        return path

    async def link_inputs(self, versions: list[FileVersion], folder: Path) -> dict[str, Path]:
        """Materialise each version and link it into folder under the name the ETL expects; returns
        {input name: path}. The folder holds exactly these inputs (stale links are removed)."""
        folder.mkdir(parents=True, exist_ok=True)
        wanted: dict[str, Path] = {}
        for v in versions:
            wanted[v.input_name] = await self.materialise(v.sha256)
        for existing in folder.iterdir():
            if existing.name not in wanted:
                existing.unlink()
        for name, target in wanted.items():
            link = folder / name
            if link.is_symlink() and link.resolve() == target.resolve():
                continue
            tmp = folder / f".{name}.link"
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(target)
            os.replace(tmp, link)
        return {name: folder / name for name in wanted}

    def evict(self, keep_bytes: int) -> int:
        """Remove the least recently used cached copies until the cache holds at most keep_bytes; returns the
        number of files removed. A removed copy is fetched again when a job needs it."""
        files = sorted((p for p in self.cache_dir.glob("*/*") if p.is_file()), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        removed = 0
        for p in files:
            if total <= keep_bytes:
                break
            total -= p.stat().st_size
            p.unlink(missing_ok=True)
            removed += 1
        return removed


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_bytes(content)
    os.replace(tmp, path)


async def register_folder(store: FileStore, raw_dir: Path) -> list[FileVersion]:
    """Store the single-host inputs found in raw/ (BLB_Tables.xlsx and raw/tracking/**): each file whose bytes
    the store does not hold yet becomes a version (source 'raw'). Bytes already stored are skipped, so a
    restart never makes an old raw/ file newer than a later upload."""
    candidates = [raw_dir / "BLB_Tables.xlsx"] if (raw_dir / "BLB_Tables.xlsx").is_file() else []
    tracking = raw_dir / "tracking"
    if tracking.is_dir():
        candidates += sorted((p for p in tracking.rglob("*") if p.is_file() and p.suffix.lower() in (".xlsx", ".json")
                              and not p.name.startswith(("~$", "."))), key=lambda p: (p.stat().st_mtime, p.name))
    added = []
    for path in candidates:
        content = await asyncio.to_thread(path.read_bytes)
        if await store.pool.fetchval("select exists(select 1 from files where sha256 = $1)", sha256_of(content)):
            continue
        try:
            role, game_id, fmt = await asyncio.to_thread(
                identify_input, path.name, content, role="league_workbook" if path.parent == raw_dir else "tracker")
            added.append(await store.put(content, name=path.name, role=role, game_id=game_id, format=fmt,
                                         uploaded_by="raw", source="raw"))
        except FileStoreError as exc:
            log.warning("files.raw_skipped", file=str(path), error=str(exc))
    return added
