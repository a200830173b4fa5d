"""ETL runs as data: which inputs a run read (by hash), its manifest and per-game outcome, and its output
tables stored by content in the file store, so that an upload on any host loads exactly the run it names.

- `current_inputs_folder`: the league's current inputs (the view current_inputs) linked, verified, into a
  folder under the names the ETL reads; the ETL's own cache (by content hash) makes an unchanged input free.
- `record_start` / `record_finish`: the etl_runs row of a job's run; the output folder is archived
  (deterministic tar.gz: the same tables give the same hash) and stored as an `etl_output` file.
- `output_of`: the folder of a run's output tables on this host, fetched and unpacked once, verified by hash.
"""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg

from daemon.filestore import FileStore, FileStoreError, FileVersion

ARCHIVE_LIMIT_BYTES = 1024**3  # an archive of output tables larger than this is refused (they are ~10 MB)


class NoRun(LookupError):
    """No ETL run matches (none succeeded yet, or the named run does not exist or has no output)."""


@dataclass(frozen=True)
class Inputs:
    blb: Path | None
    tracking: Path
    versions: list[FileVersion]

    def as_json(self) -> list[dict]:
        return [{"slot": v.slot, "version_id": v.id, "sha256": v.sha256, "name": v.name, "game_id": v.game_id}
                for v in self.versions]


async def current_inputs_folder(store: FileStore, folder: Path) -> Inputs:
    """Link the current inputs into folder/BLB_Tables.xlsx and folder/tracking/ (exactly that set)."""
    versions = await store.current_inputs()
    league = [v for v in versions if v.role == "league_workbook"]
    trackers = [v for v in versions if v.role == "tracker"]
    folder.mkdir(parents=True, exist_ok=True)
    blb = None
    if league:
        path = await store.materialise(league[0].sha256)
        blb = folder / "BLB_Tables.xlsx"
        _link(blb, path)
    else:
        (folder / "BLB_Tables.xlsx").unlink(missing_ok=True)
    await store.link_inputs(trackers, folder / "tracking")
    return Inputs(blb, folder / "tracking", versions)


def _link(link: Path, target: Path) -> None:
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    tmp = link.with_name(f".{link.name}.link")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    tmp.replace(link)


async def record_start(pool: asyncpg.Pool, job_id: UUID | None, worker: str, inputs: Inputs) -> int:
    return await pool.fetchval("insert into etl_runs (job_id, worker, inputs) values ($1, $2, $3) returning id",
                               job_id, worker, inputs.as_json())


async def record_finish(pool: asyncpg.Pool, store: FileStore, run_id: int, out: Path, report: dict,
                        *, uploaded_by: str | None) -> str | None:
    """Store the output folder's archive and close the run row; returns the archive's sha256 (None when the
    run failed and wrote nothing)."""
    sha = None
    if report["status"] != "failed" and (out / "manifest.json").is_file():
        archive = await asyncio.to_thread(archive_folder, out)
        version = await store.put(archive, name=f"etl-run-{run_id}.tar.gz", role="etl_output", format="tar.gz",
                                  uploaded_by=uploaded_by, source="etl")
        sha = version.sha256
    manifest = json.loads((out / "manifest.json").read_text()) if sha else None
    await pool.execute(
        "update etl_runs set status = $2, finished_at = now(), manifest = $3, games = $4, timings = $5, "
        "output_sha256 = $6 where id = $1",
        run_id, report["status"], manifest, report.get("games"),
        {"duration_seconds": report.get("duration_seconds"), **(report.get("timings") or {})}, sha)
    return sha


async def record_failure(pool: asyncpg.Pool, run_id: int, error: str) -> None:
    await pool.execute("update etl_runs set status = 'failed', finished_at = now(), timings = $2 where id = $1",
                       run_id, {"error": error[:2000]})


async def find_run(pool: asyncpg.Pool, run_id: int | None) -> asyncpg.Record:
    """The named run, or the newest run with an output (status ok or partial)."""
    if run_id is None:
        row = await pool.fetchrow("select * from etl_runs where output_sha256 is not null "
                                  "order by started_at desc, id desc limit 1")
        if row is None:
            raise NoRun("no ETL run with output tables yet: run an etl job first")
        return row
    row = await pool.fetchrow("select * from etl_runs where id = $1", run_id)
    if row is None:
        raise NoRun(f"no ETL run {run_id}")
    if row["output_sha256"] is None:
        raise NoRun(f"ETL run {run_id} ({row['status']}) has no output tables")
    return row


async def output_of(store: FileStore, run: asyncpg.Record, runs_dir: Path) -> Path:
    """The run's output tables on this host: runs_dir/<run id>/, unpacked from the verified archive once."""
    sha = run["output_sha256"]
    folder = runs_dir / str(run["id"])
    marker = folder / ".sha256"
    if marker.is_file() and marker.read_text() == sha:
        return folder
    archive = await store.materialise(sha)
    await asyncio.to_thread(_unpack, archive, folder, sha)
    return folder


def archive_folder(folder: Path) -> bytes:
    """A tar.gz of the folder's files, byte-identical for identical contents (sorted, zeroed times/owners)."""
    buffer = io.BytesIO()
    import gzip

    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            info = tarfile.TarInfo(path.name)
            info.size = path.stat().st_size
            info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = 0, 0o644, 0, 0, "", ""
            with path.open("rb") as f:
                tar.addfile(info, f)
    data = buffer.getvalue()
    if len(data) > ARCHIVE_LIMIT_BYTES:
        raise FileStoreError(f"output archive of {folder} is {len(data)} bytes, over {ARCHIVE_LIMIT_BYTES}")
    return data


def _unpack(archive: Path, folder: Path, sha: str) -> None:
    """Unpack into a fresh folder, swapped in by rename; only plain files with plain names are accepted."""
    tmp = folder.with_name(f".{folder.name}.part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    with tarfile.open(archive, mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or "/" in member.name or member.name.startswith("."):
                raise FileStoreError(f"output archive {sha[:12]}: unexpected member {member.name!r}")
            with tar.extractfile(member) as src, (tmp / member.name).open("wb") as dst:
                shutil.copyfileobj(src, dst)
    (tmp / ".sha256").write_text(sha)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
