"""Files: the database's file store as the API shows it: the league's current inputs, every stored version,
one version's bytes, and pins (an admin bringing an older version back as the current input)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from daemon.filestore import FileStore, FileStoreError
from daemon.http import jobs
from daemon.http.app_keys import POOL, SETTINGS
from daemon.http.errors import ApiError, json_response
from daemon.http.routing import Routes

routes = Routes("files")


class FilesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all: bool = Field(default=False, description="Every stored version (newest first), not only the current inputs.")
    role: Literal["league_workbook", "tracker", "etl_output", "table_csv"] | None = Field(default=None)
    limit: int = Field(default=200, ge=1, le=1000, description="Page size (with all=true).")


class NoQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileVersionOut(BaseModel):
    model_config = ConfigDict(title="FileVersion")

    id: int
    sha256: str
    name: str
    role: Literal["league_workbook", "tracker", "etl_output", "table_csv"]
    game_id: int | None
    format: str | None
    size: int
    uploaded_by: str | None
    uploaded_at: str
    source: str
    slot: str | None = Field(description="The input slot: 'league' or 'tracker:<game>:<format>'.")
    pinned: bool = Field(description="This version is pinned as its slot's current input.")


class FileListOut(BaseModel):
    model_config = ConfigDict(title="FileList")

    files: list[FileVersionOut]


class PinOut(BaseModel):
    slot: str
    version_id: int | None


def _store(request: web.Request) -> FileStore:
    settings = request.app[SETTINGS]
    return FileStore(request.app[POOL], settings.file_cache_dir, limit_bytes=settings.upload_limit_bytes)


def _version_id(request: web.Request) -> int:
    raw = request.match_info["version_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(422, f"path parameter version_id: {raw!r} is not a file version id")
    return int(raw)


def _game(request: web.Request) -> int:
    raw = request.match_info["game_id"]
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError(422, f"path parameter game_id: {raw!r} is not a game id")
    return int(raw)


@routes.get("/api/files", summary="The league's current input files (or every stored version)",
            scope="jobs:read", query=FilesQuery, responses={200: FileListOut})
async def list_files(request: web.Request, q: FilesQuery) -> web.Response:
    """Current inputs: one league workbook, and per game one tracker file per format (the newest upload, or
    the pinned version). With all=true: every version, newest first."""
    store = _store(request)
    versions = (await store.versions(role=q.role, limit=q.limit) if q.all
                else [v for v in await store.current_inputs() if q.role in (None, v.role)])
    return json_response({"files": [v.as_json() for v in versions]})


@routes.get("/api/files/games/{game_id}", summary="One game's tracker files: current and every version",
            scope="jobs:read", query=NoQuery, responses={200: FileListOut})
async def game_files(request: web.Request, _: NoQuery) -> web.Response:
    store = _store(request)
    versions = await store.versions(role="tracker", game_id=_game(request))
    return json_response({"files": [v.as_json() for v in versions]})


@routes.get("/api/files/{version_id}/content", summary="A stored file's bytes", scope="jobs:read",
            query=NoQuery, responses={200: "the file", 404: "no such version"})
async def file_content(request: web.Request, _: NoQuery) -> web.Response:
    store = _store(request)
    try:
        version = await store.version(_version_id(request))
        data = await store.content(version.sha256)
    except FileStoreError as exc:
        raise ApiError(404, str(exc)) from None
    return web.Response(body=data, content_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{version.input_name}"',
                                 "ETag": f'"{version.sha256}"'})


@routes.post("/api/files/{version_id}/pin", summary="Make this version its slot's current input",
             scope="admin", query=NoQuery, responses={200: PinOut, 404: "no such version", 422: "not an input"})
async def pin_file(request: web.Request, _: NoQuery) -> web.Response:
    """Pins hold until removed (DELETE /api/files/pins/{slot}), whatever is uploaded meanwhile."""
    store = _store(request)
    version_id = _version_id(request)
    try:
        await store.version(version_id)
    except FileStoreError as exc:
        raise ApiError(404, str(exc)) from None
    try:
        slot = await store.pin(version_id, pinned_by=jobs.requested_by(request))
    except FileStoreError as exc:
        raise ApiError(422, str(exc)) from None
    return json_response({"slot": slot, "version_id": version_id})


@routes.delete("/api/files/pins/{slot}", summary="Remove a pin: the newest upload is current again",
               scope="admin", query=NoQuery, responses={200: PinOut, 404: "the slot was not pinned"})
async def unpin_file(request: web.Request, _: NoQuery) -> web.Response:
    slot = request.match_info["slot"]
    if not await _store(request).unpin(slot):
        raise ApiError(404, f"input slot {slot!r} is not pinned")
    return json_response({"slot": slot, "version_id": None})
