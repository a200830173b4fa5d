"""The watch folder: a tracker workbook or JSON export dropped into BENCHSIGHT_WATCH_DIR (default
<data dir>/incoming) becomes a `staging_tracking` job plus an `etl` single-game job.

How a file travels:
- watchdog (inotify) reports created/modified/moved files from its own thread; they are handed to the asyncio
  loop with call_soon_threadsafe. The folder is also scanned at start (files dropped while the daemon was down)
  and every `rescan_seconds` (network shares, where inotify sees nothing).
- A file is taken once its size and mtime stayed unchanged for `stable_seconds` (a copy in progress is left
  alone). Temporary and lock files (`~$...`, dotfiles, `.tmp`, partial downloads) are ignored.
- Taken: its content is stored under raw/tracking/ by handlers.staging_tracking.store_tracker_file, then jobs
  are enqueued with dedupe keys `staging_tracking:<sha256>` and `etl:game:<game_id>:<sha256>`. The file stays
  in the folder, so the tracker may keep saving it there: every changed content is a new pair of jobs.
- Same content again: enqueue_job returns the active twin; beyond that the watcher looks up the latest job
  with the key whatever its status, and does not run content again whose job is active or completed. A failed
  or cancelled content runs again only when the file was written after that job was created (dropped again),
  so a restart's scan never repeats work.
- Unreadable (not .xlsx/.json, over the upload limit, refused by store_tracker_file, no game id): the watcher
  records a failed `staging_tracking` job naming the file and the reason, and moves the file to rejected/
  with a `<name>.reason.txt` beside it. Corrupt or hostile content that only the readers can judge (read in
  a child process with memory and time limits, etl.readers.guard) fails the staging_tracking job itself, which
  moves its raw/tracking/ copy to <data dir>/rejected/; when the watcher sees that job end failed with its copy
  rejected, it moves the dropped file to rejected/ too. A job that failed for another reason (the database)
  leaves the dropped file where it is.
- Nothing is parsed on the event loop: reading, hashing and storing run in a thread, and the only parse
  there (a JSON export's gameId, when the name has no game id) in a limited child process.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import asyncpg
import structlog
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from daemon import queries
from daemon.filestore import FileStore
from daemon.config import Settings
from daemon.registry import PermanentJobError

if TYPE_CHECKING:
    from handlers.staging_tracking import StoredTrackerFile

log = structlog.get_logger()

REJECTED = "rejected"
TRACKER_SUFFIXES = (".xlsx", ".json")
_IGNORED_PREFIXES = ("~$", ".")
_IGNORED_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", "~")
_ACTIVE = ("pending", "running", "processing", "uploading")
REQUESTED_BY = "watch"

# An intake rejection is recorded as a job that is failed from the start, with its history row, so the portal
# and `benchsight jobs` show it beside the others. (A candidate for a SQL function in supabase/migrations/.)
# reject_job (supabase/migrations): a failed job plus its history row, in one call.
_RECORD_REJECTED = "select reject_job('staging_tracking', $1, $2, $3, $4, '{\"source\": \"watch folder\"}')"

_LATEST_BY_KEY = """
select id, status, error, created_at from public.job_requests
where dedupe_key = $1 order by created_at desc limit 1
"""

_ENDED_AMONG = """
select id, status, error from public.job_requests
where id = any($1::uuid[]) and status in ('completed', 'failed', 'cancelled')
"""


def ignored(name: str) -> bool:
    """Lock, temporary and hidden files, and partial downloads: never taken, never rejected."""
    lower = name.lower()
    return lower.startswith(_IGNORED_PREFIXES) or lower.endswith(_IGNORED_SUFFIXES)


class Unreadable(Exception):
    """The dropped file cannot become a job; the message names the file and says what to do."""


@dataclass
class _Candidate:
    signature: tuple[int, int] | None  # (size, mtime_ns) when last looked at
    since: float  # loop time the signature was first seen


@dataclass
class _Submitted:
    path: Path
    signature: tuple[int, int]
    stored: Path  # its copy under raw/tracking/: gone when the job rejected the content


class WatchFolder:
    """Turns files dropped into `folder` into jobs; run() until cancelled."""

    def __init__(self, pool: asyncpg.Pool, *, folder: Path, data_dir: Path, stable_seconds: float = 2.0,
                 rescan_seconds: float = 30.0, size_limit: int | None = None,
                 wake: Callable[[], None] | None = None) -> None:
        self.pool = pool
        self.folder = folder
        self.rejected_dir = folder / REJECTED
        self.data_dir = data_dir
        self.stable_seconds = stable_seconds
        self.rescan_seconds = rescan_seconds
        self.size_limit = size_limit
        self.wake = wake
        self.started = asyncio.Event()  # set once the folder is watched and scanned (for tests)
        self._tick = max(0.05, min(0.5, stable_seconds / 4))
        self._candidates: dict[Path, _Candidate] = {}
        self._done: dict[Path, tuple[int, int]] = {}  # path -> signature already handled
        self._submitted: dict[UUID, _Submitted] = {}  # staging_tracking job -> its file, until the job ends
        self.outcomes: dict[str, str] = {}  # file name -> enqueued | duplicate | rejected (latest; for status and tests)

    @classmethod
    def from_settings(cls, pool: asyncpg.Pool, settings: Settings,
                      wake: Callable[[], None] | None = None) -> WatchFolder:
        return cls(pool, folder=settings.incoming_dir, data_dir=settings.data_dir,
                   stable_seconds=settings.watch_stable_seconds, size_limit=settings.upload_limit_bytes, wake=wake)

    # ---- the loop -------------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            self.rejected_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("watch.unavailable", folder=str(self.folder), error=str(exc),
                        hint="create the folder and make it writable for the daemon, or set BENCHSIGHT_WATCH=off")
            return
        loop = asyncio.get_running_loop()
        observer = self._start_observer(loop)
        try:
            self.scan()
            log.info("watch.started", folder=str(self.folder), stable_seconds=self.stable_seconds,
                     inotify=observer is not None)
            self.started.set()
            next_rescan = loop.time() + self.rescan_seconds
            next_outcomes = loop.time()
            while True:
                await asyncio.sleep(self._tick)
                now = loop.time()
                if now >= next_rescan:
                    self.scan()
                    next_rescan = now + self.rescan_seconds
                await self._take_stable_files(now)
                if self._submitted and now >= next_outcomes:
                    next_outcomes = now + 1.0
                    try:
                        await self._reject_failed_submissions()
                    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                        log.warning("watch.outcomes_failed", error=str(exc))
        finally:
            if observer is not None:
                observer.stop()
                await asyncio.to_thread(observer.join, 5)

    def _start_observer(self, loop: asyncio.AbstractEventLoop) -> Observer | None:
        observer = Observer()
        observer.schedule(_Events(loop, self.note), str(self.folder), recursive=False)
        try:
            observer.start()
        except OSError as exc:  # inotify limits reached: the rescan alone finds files, a little later
            log.warning("watch.inotify_unavailable", error=str(exc), rescan_seconds=self.stable_seconds)
            self.rescan_seconds = self.stable_seconds
            return None
        return observer

    def note(self, path: Path) -> None:
        """A hint that path appeared or changed (called on the loop thread)."""
        if path.parent != self.folder or ignored(path.name):
            return
        self._candidates.setdefault(path, _Candidate(None, 0.0))

    def scan(self) -> None:
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        self.note(Path(entry.path))
        except OSError as exc:
            log.warning("watch.scan_failed", folder=str(self.folder), error=str(exc))

    async def _take_stable_files(self, now: float) -> None:
        for path, candidate in list(self._candidates.items()):
            try:
                st = path.stat()
            except FileNotFoundError:
                del self._candidates[path]
                continue
            signature = (st.st_size, st.st_mtime_ns)
            if not stat.S_ISREG(st.st_mode) or self._done.get(path) == signature:
                del self._candidates[path]
                continue
            if candidate.signature != signature:
                self._candidates[path] = _Candidate(signature, now)
                continue
            if now - candidate.since < self.stable_seconds:
                continue
            del self._candidates[path]
            try:
                await self._take(path, signature, st.st_ctime)
            except Exception as exc:  # our side failed (database, disk): keep the file, retry on the next rescan
                log.error("watch.take_failed", file=path.name, error=str(exc), exc_info=True)

    # ---- one file -------------------------------------------------------------------------------------

    async def _take(self, path: Path, signature: tuple[int, int], changed_at: float) -> None:
        name = path.name
        if self.size_limit is not None and signature[0] > self.size_limit:
            await self._reject(path, None, f"{name}: {signature[0]} bytes is over the limit of {self.size_limit} "
                                           "(BENCHSIGHT_UPLOAD_LIMIT_BYTES)")
            return
        content, sha256 = await asyncio.to_thread(_read_and_hash, path)
        if len(content) != signature[0]:  # written to again while we read: wait for it to settle again
            self.note(path)
            return
        written_at = datetime.fromtimestamp(changed_at, UTC)  # ctime: a copy that keeps mtime still counts
        staging_key = f"staging_tracking:{sha256}"
        earlier = await self.pool.fetchrow(_LATEST_BY_KEY, staging_key)
        if earlier is not None and earlier["status"] == "failed" and earlier["created_at"] >= written_at:
            # this content already failed (e.g. the daemon restarted before moving the file): reject it now
            self._move_to_rejected(path, earlier["error"] or "its staging_tracking job failed")
            self.outcomes[name] = "rejected"
            return
        try:
            stored = await asyncio.to_thread(self._store, name, content)
        except Unreadable as exc:
            await self._reject(path, sha256, str(exc))
            return
        await FileStore(self.pool, self.data_dir / "cache" / "files", limit_bytes=self.size_limit or 2**62).put_tracker(
            stored.path, content, stored.game_id, uploaded_by=REQUESTED_BY, source="watch")
        jobs = {}
        if _wanted(earlier, written_at):
            jobs["staging_tracking"] = await self._enqueue(
                "staging_tracking", _staging_params(stored.relative, sha256, stored.game_id), staging_key)
        etl_key = f"etl:game:{stored.game_id}:{sha256}"
        if _wanted(await self.pool.fetchrow(_LATEST_BY_KEY, etl_key), written_at):
            # priority -1: a daemon with room for both starts the staging job first
            jobs["etl"] = await self._enqueue("etl", _etl_params(stored.game_id), etl_key, priority=-1)
        self._done[path] = signature
        if "staging_tracking" in jobs:
            self._submitted[jobs["staging_tracking"]["id"]] = _Submitted(path, signature, stored.path)
        self.outcomes[name] = "enqueued" if jobs else "duplicate"
        if jobs:
            log.info("watch.enqueued", file=name, game_id=stored.game_id, sha256=sha256[:12],
                     jobs={kind: str(job["id"]) for kind, job in jobs.items()})
            if self.wake is not None:
                self.wake()
        else:
            log.info("watch.duplicate", file=name, game_id=stored.game_id, sha256=sha256[:12],
                     hint="this content was already taken; change the file to run it again")

    def _store(self, name: str, content: bytes) -> StoredTrackerFile:
        """store_tracker_file, with the refusals that mean 'this file cannot be a job' as Unreadable."""
        if not name.lower().endswith(TRACKER_SUFFIXES):
            raise Unreadable(f"{name}: not a tracker file; drop a tracker workbook (.xlsx) or JSON export (.json)")
        from handlers.staging_tracking import store_tracker_file

        try:
            stored = store_tracker_file(self.data_dir, name, content)
        except (ValueError, PermanentJobError) as exc:
            raise Unreadable(f"{name}: {exc}") from exc
        if stored.game_id is None:
            stored.path.unlink(missing_ok=True)
            raise Unreadable(f"{name}: no game id found; name the workbook <game_id>_tracking.xlsx or export "
                             "JSON with gameId")
        return stored

    async def _enqueue(self, kind: str, params: dict, key: str, priority: int = 0) -> asyncpg.Record:
        return await queries.enqueue_job(self.pool, kind, params, priority=priority, dedupe_key=key,
                                         requested_by=REQUESTED_BY)

    async def _reject(self, path: Path, sha256: str | None, error: str) -> None:
        rejected = self._move_to_rejected(path, error)
        if rejected is None:
            return
        params = {"file": _relative(rejected, self.data_dir)} | ({"sha256": sha256} if sha256 else {})
        key = f"staging_tracking:{sha256}" if sha256 else None
        job_id = await self.pool.fetchval(_RECORD_REJECTED, params, error, key, REQUESTED_BY)
        self.outcomes[path.name] = "rejected"
        log.warning("watch.rejected", file=path.name, job_id=str(job_id), error=error)

    def _move_to_rejected(self, path: Path, reason: str) -> Path | None:
        """Move path into rejected/ (never overwriting) with a .reason.txt beside it; None if it is gone."""
        target = self.rejected_dir / path.name
        if target.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            target = self.rejected_dir / f"{path.stem}.{stamp}{path.suffix}"
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return None
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
        self._done.pop(path, None)
        log.warning("watch.moved_to_rejected", file=path.name, to=str(target), reason=reason)
        return target

    async def _reject_failed_submissions(self) -> None:
        """A staging_tracking job that ended failed and rejected its copy means the file is unreadable: move
        the file away (unless it was changed since, in which case the new content is already on its way)."""
        for row in await self.pool.fetch(_ENDED_AMONG, list(self._submitted)):
            submitted = self._submitted.pop(row["id"])
            if row["status"] != "failed":
                continue
            if await asyncio.to_thread(submitted.stored.exists):  # failed for another reason: the file is fine
                log.warning("watch.job_failed", file=submitted.path.name, job_id=str(row["id"]), error=row["error"])
                continue
            try:
                st = submitted.path.stat()
            except FileNotFoundError:
                continue
            if (st.st_size, st.st_mtime_ns) == submitted.signature:
                self._move_to_rejected(submitted.path, row["error"] or "its staging_tracking job failed")
                self.outcomes[submitted.path.name] = "rejected"


def _read_and_hash(path: Path) -> tuple[bytes, str]:
    content = path.read_bytes()
    return content, hashlib.sha256(content).hexdigest()


def _wanted(earlier: asyncpg.Record | None, written_at: datetime) -> bool:
    """Whether content whose latest job is `earlier` should run: never ran; or failed/cancelled and the file
    was written again after that job was created (a deliberate new drop)."""
    if earlier is None:
        return True
    if earlier["status"] in _ACTIVE or earlier["status"] == "completed":
        return False
    return written_at > earlier["created_at"]


def _staging_params(relative: str, sha256: str, game_id: int) -> dict:
    from handlers.staging_tracking import StagingTrackingParams

    return StagingTrackingParams(file=relative, sha256=sha256, game_id=game_id).model_dump(mode="json")


def _etl_params(game_id: int) -> dict:
    from handlers.etl import EtlParams

    return EtlParams(mode="single", game_ids=[game_id]).model_dump(mode="json")


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


class _Events(FileSystemEventHandler):
    """Runs in watchdog's thread: only hands paths to the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, note: Callable[[Path], None]) -> None:
        self.loop = loop
        self.note = note

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in ("created", "modified", "moved", "closed"):
            return
        raw = event.dest_path if event.event_type == "moved" else event.src_path
        path = Path(os.fsdecode(raw))
        try:
            self.loop.call_soon_threadsafe(self.note, path)
        except RuntimeError:  # the loop closed while we were shutting down
            pass
