"""`benchsight files`: put input files into the database's file store, list them, get one back, pin a version.

The same store the API's uploads and the watch folder write (daemon/filestore.py), so a file put here from any
host is an input for the daemons on every host."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from daemon import database
from daemon.filestore import FileStore, FileStoreError, identify_input


def _store_call(func):
    from daemon.cli import _settings, _url  # the CLI's own settings and URL helpers

    settings = _settings()
    url = _url(settings)

    async def run():
        pool = await database.create_pool(url, 2)
        try:
            return await func(FileStore(pool, settings.file_cache_dir, limit_bytes=settings.upload_limit_bytes))
        finally:
            await pool.close()

    try:
        return asyncio.run(run())
    except FileStoreError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("files")
def files_command() -> None:
    """The file store: the league workbook and tracker files every daemon reads, and ETL outputs."""


@files_command.command("put")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--role", type=click.Choice(["tracker", "league_workbook"]), default=None,
              help="Default: a .json or a workbook named <game_id>_... is a tracker file, else the league workbook.")
@click.option("--game-id", type=int, default=None, help="The game of a tracker file (default: from its name).")
def put(paths: tuple[Path, ...], role: str | None, game_id: int | None) -> None:
    """Store files (each becomes the newest version of its input slot)."""

    async def run(store: FileStore) -> None:
        for path in paths:
            content = path.read_bytes()
            file_role, gid, fmt = identify_input(path.name, content, role=role, game_id=game_id)
            v = await store.put(content, name=path.name, role=file_role, game_id=gid, format=fmt,
                                uploaded_by="cli", source="cli")
            click.echo(f"{v.id}\t{v.sha256[:12]}\t{v.role}\t{v.game_id or ''}\t{v.name}")

    _store_call(run)


@files_command.command("list")
@click.option("--all", "all_versions", is_flag=True, help="Every version, not only the current inputs.")
@click.option("--game-id", type=int, default=None, help="Only this game's files.")
def list_files(all_versions: bool, game_id: int | None) -> None:
    """The current inputs (one league workbook, one tracker file per game and format), or every version."""

    async def run(store: FileStore) -> None:
        versions = (await store.versions(game_id=game_id) if all_versions
                    else await store.current_inputs(game_id=game_id))
        click.echo(f"{'id':>6}  {'sha256':12}  {'role':15} {'game':>6} {'size':>10}  {'uploaded':19}  pin  name")
        for v in versions:
            click.echo(f"{v.id:>6}  {v.sha256[:12]}  {v.role:15} {v.game_id or '':>6} {v.size:>10}  "
                       f"{v.uploaded_at:%Y-%m-%d %H:%M:%S}  {'yes' if v.pinned else '   '}  {v.name}")

    _store_call(run)


@files_command.command("get")
@click.argument("version_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here (default: stdout).")
def get(version_id: int, output: Path | None) -> None:
    """Write a stored file's bytes out (verified against its hash)."""

    async def run(store: FileStore) -> None:
        v = await store.version(version_id)
        data = (await store.materialise(v.sha256)).read_bytes()
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            output.write_bytes(data)
            click.echo(f"{output}: {len(data)} bytes, sha256 {v.sha256}", err=True)

    _store_call(run)


@files_command.command("pin")
@click.argument("version_id", type=int)
def pin(version_id: int) -> None:
    """Make this version its slot's current input (e.g. bring an older tracker file back)."""
    slot = _store_call(lambda store: store.pin(version_id, pinned_by="cli"))
    click.echo(f"{slot}: pinned to version {version_id}")


@files_command.command("unpin")
@click.argument("slot")
def unpin(slot: str) -> None:
    """Let the newest upload be the slot's current input again (slot: league, tracker:<game>:<xlsx|json>)."""
    if not _store_call(lambda store: store.unpin(slot)):
        raise click.ClickException(f"{slot} was not pinned")
    click.echo(f"{slot}: newest version is current")
