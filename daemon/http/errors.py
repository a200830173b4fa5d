"""Every error the API answers is `{"detail": "<a sentence>"}`; a 422 also carries the field errors as a list
under `errors` (pydantic's loc/msg/type), so a client that prints `detail` shows a readable message and one
that wants the fields finds them. The error middleware turns whatever a route raises into that shape, and
never sends a stack trace."""

from __future__ import annotations

import json
import traceback
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
import structlog
from aiohttp import web
from pydantic import ValidationError

log = structlog.get_logger()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An answer other than success: status plus detail (a message, or a list of field errors for 422)."""

    def __init__(self, status: int, detail: str | list[dict], headers: dict[str, str] | None = None) -> None:
        super().__init__(detail if isinstance(detail, str) else f"{len(detail)} field error(s)")
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def field_error(loc: Sequence[str | int], msg: str, type_: str = "value_error") -> dict:
    """One entry of a 422 detail list, in pydantic's shape (loc, msg, type)."""
    return {"loc": list(loc), "msg": msg, "type": type_}


def invalid(loc: Sequence[str | int], msg: str, type_: str = "value_error") -> ApiError:
    return ApiError(422, [field_error(loc, msg, type_)])


def from_validation_error(exc: ValidationError, where: str) -> ApiError:
    """A pydantic ValidationError as a 422 whose locations start with where ('body', 'query', 'path')."""
    errors = [field_error([where, *e["loc"]], e["msg"], e["type"])
              for e in exc.errors(include_url=False, include_input=False, include_context=False)]
    return ApiError(422, errors)


def json_response(data: object, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with the encoder the API uses everywhere (datetimes and UUIDs already turned into strings)."""
    return web.Response(body=json.dumps(data, separators=(",", ":")).encode(), status=status, headers=headers,
                        content_type="application/json")


def error_response(status: int, detail: str | list[dict], headers: dict[str, str] | None = None) -> web.Response:
    """{"detail": message}; a list of field errors becomes {"detail": summary, "errors": list}."""
    if isinstance(detail, list):
        return json_response({"detail": field_errors_sentence(detail), "errors": detail}, status, headers)
    return json_response({"detail": detail}, status, headers)


def field_errors_sentence(errors: list[dict]) -> str:
    """One readable sentence for a 422: 'Invalid request: body.mode: Field required; ...' (at most 5 listed)."""
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'request'}: {e.get('msg', 'invalid')}"
             for e in errors[:5]]
    more = f"; and {len(errors) - 5} more" if len(errors) > 5 else ""
    return f"Invalid request: {'; '.join(parts)}{more}."


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Around auth and the routes: ApiError, aiohttp's HTTP errors and anything unexpected become {"detail"}."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.detail, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:  # redirects and the like pass through
            raise
        headers = {k: v for k, v in exc.headers.items()
                   if k.lower() in ("allow", "retry-after", "www-authenticate")}
        return error_response(exc.status, _http_detail(exc), headers)
    except ValidationError as exc:  # a model built inside a route (not request input): our bug, not theirs
        log.error("api.validation_bug", path=request.path, errors=exc.errors(include_url=False, include_input=False))
        return error_response(500, "internal error")
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        if request.transport is None or request.transport.is_closing():
            raise  # the client went away; nothing to answer
        log.error("api.database_unavailable", method=request.method, path=request.path, error=repr(exc))
        return error_response(503, "database unavailable, try again shortly")
    except Exception as exc:
        # the traceback as text, not exc_info: a console renderer would print local variables (credentials)
        log.error("api.error", method=request.method, path=request.path, error=repr(exc),
                  traceback=traceback.format_exc(limit=-8))
        return error_response(500, "internal error")


def _http_detail(exc: web.HTTPException) -> str | list:
    if exc.content_type == "application/json" and exc.text:
        try:
            return json.loads(exc.text)["detail"]
        except (ValueError, KeyError, TypeError):
            pass
    if exc.status == 413:
        return "request body too large"
    if exc.status == 405:
        return f"method not allowed; use {exc.headers.get('Allow', 'another method')}"
    if exc.status == 404:
        return "not found"
    text = exc.text or exc.reason
    return text.removeprefix(f"{exc.status}: ").strip() or exc.reason
