"""Reading request input into the handlers' own pydantic models: JSON bodies, query strings, path ids and
multipart uploads (counted while streaming, so an upload over the limit is refused as soon as it is exceeded).
Malformed input is 400, input that parses but does not validate is 422 with the field errors."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ValidationError

from daemon import admission
from daemon.http.app_keys import POOL, SETTINGS
from daemon.http.errors import ApiError, field_error, from_validation_error, invalid

M = TypeVar("M", bound=BaseModel)

_TEXT_FIELD_LIMIT = 64 * 1024
# A JSON body becomes a job's params, and a job row travels whole in one Supabase Realtime message (1 MiB at
# most, with its result and the change's envelope): so a body is at most half of that.
JSON_BODY_LIMIT = 512 * 1024
_PARSE_IN_THREAD_BYTES = 256 * 1024
# what aiohttp's multipart reader raises on a broken body (bad boundary, header or encoding)
_MALFORMED = (ValueError, AssertionError, KeyError, HttpProcessingError)
_CHUNK = 256 * 1024


def _nul_path(value: object, loc: tuple) -> tuple | None:
    """Where a NUL character hides in decoded JSON (PostgreSQL text and jsonb cannot store it)."""
    if isinstance(value, str):
        return loc if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = _nul_path(k, loc) or _nul_path(v, (*loc, k))
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _nul_path(v, (*loc, i))
            if found:
                return found
    return None


def validate(model: type[M], data: dict, where: str, *, json_text: bytes | None = None) -> M:
    """data as model; with json_text (the body the data was parsed from) strictly, as JSON types: a JSON body
    says `true`, not 0, and 18969, not "18969". Query strings and form fields are text, so they convert."""
    nul = _nul_path(data, (where,))
    if nul is not None:
        raise invalid(nul, "text may not contain NUL characters", "string_nul")
    try:
        if json_text is not None:
            return model.model_validate_json(json_text, strict=True)
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc, where) from None


async def json_body(request: web.Request, model: type[M]) -> M:
    """The body as model; an empty body means all defaults. A body must say Content-Type: application/json
    (415 otherwise: a web page can send text/plain to any server without asking, but not JSON) and is at most
    JSON_BODY_LIMIT bytes (413). What the params model cannot check alone (games in the schedule, files in
    the data dir) daemon.admission checks before any job exists (422). A large body (JSON rows for staging) is parsed in a thread, so other requests
    are not held up."""
    limit = min(JSON_BODY_LIMIT, request.app[SETTINGS].upload_limit_bytes)
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"JSON body larger than the limit of {limit} bytes")
    raw = bytearray()
    while chunk := await request.content.read(_CHUNK):
        raw += chunk
        if len(raw) > limit:
            raise ApiError(413, f"JSON body larger than the limit of {limit} bytes")
    raw = bytes(raw)
    if raw.strip() and request.content_type != "application/json":
        raise ApiError(415, f"send the body as JSON with 'Content-Type: application/json' "
                            f"(got {request.content_type!r})")
    if len(raw) > _PARSE_IN_THREAD_BYTES:
        value = await asyncio.to_thread(_parse_body, raw, model)
    else:
        value = _parse_body(raw, model)
    await admit(request, value)
    return value


async def admit(request: web.Request, params: BaseModel) -> None:
    """422 for what the params model cannot check alone (daemon.admission: games in the schedule, files in the
    data dir); every route that builds a job's params calls it, the compatibility routes too."""
    found = await admission.problems(params, request.app[POOL], request.app[SETTINGS].data_dir)
    if found:
        raise ApiError(422, [field_error(["body", name], message) for name, message in found])


def _parse_body(raw: bytes, model: type[M]) -> M:
    if not raw.strip():
        raw, data = b"{}", {}
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ApiError(400, f"malformed JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise invalid(["body"], "the body must be a JSON object", "model_type")
    return validate(model, data, "body", json_text=raw)


def query(request: web.Request, model: type[M]) -> M:
    """Query parameters as model (the first value of a repeated name; an unknown name is a 422, as in bodies)."""
    return validate(model, {k: request.query.getone(k) for k in request.query.keys()}, "query")


def no_query(request: web.Request) -> None:
    """A route that declares no query parameters refuses any (422), so a typo such as ?limt=5 is not ignored."""
    if request.query:
        names = sorted(set(request.query.keys()))
        raise ApiError(422, [field_error(["query", name], "unknown query parameter; this route takes none",
                                         "extra_forbidden") for name in names])


def job_id(request: web.Request) -> UUID:
    raw = request.match_info["job_id"]
    try:
        return UUID(raw)
    except ValueError:
        raise invalid(["path", "job_id"], "not a job id (a UUID)", "uuid_parsing") from None


@dataclass
class Upload:
    """A multipart form: its text fields and its one file."""

    filename: str
    content: bytes
    fields: dict[str, str] = field(default_factory=dict)


async def upload(request: web.Request, limit: int, *, file_field: str = "file") -> Upload:
    """Read a multipart/form-data body with one file part (file_field) and small text fields.

    413 as soon as the body passes limit bytes (the declared Content-Length is checked first), 400 when the
    body is not multipart, 422 when the file part is missing.
    """
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"upload larger than the limit of {limit} bytes")
    if not request.content_type.startswith("multipart/"):
        raise ApiError(400, f"expected a multipart/form-data body with a file field {file_field!r}")
    try:
        reader = await request.multipart()
    except _MALFORMED as exc:
        raise ApiError(400, f"malformed multipart body: {exc}") from None
    fields: dict[str, str] = {}
    filename: str | None = None
    content = bytearray()
    total = 0
    try:
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, "nested multipart bodies are not accepted")
            name = part.name or ""
            if name == file_field and filename is None:
                filename = part.filename or ""
                while chunk := await part.read_chunk(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise ApiError(413, f"upload larger than the limit of {limit} bytes")
                    content += chunk
            else:
                data = bytearray()
                while chunk := await part.read_chunk(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise ApiError(413, f"upload larger than the limit of {limit} bytes")
                    if len(data) + len(chunk) > _TEXT_FIELD_LIMIT:
                        raise invalid(["body", name], f"form field longer than {_TEXT_FIELD_LIMIT} bytes")
                    data += chunk
                if name and name not in fields:
                    try:
                        fields[name] = data.decode(part.get_charset("utf-8"))
                    except (UnicodeDecodeError, LookupError):
                        raise invalid(["body", name], "form field is not UTF-8 text", "string_unicode") from None
    except _MALFORMED as exc:
        raise ApiError(400, f"malformed multipart body: {exc}") from None
    if filename is None:
        raise invalid(["body", file_field], "a file is required", "missing")
    for name, value in fields.items():
        if "\x00" in value:
            raise invalid(["body", name], "text may not contain NUL characters", "string_nul")
    return Upload(filename=filename, content=bytes(content), fields=fields)
