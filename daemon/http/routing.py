"""Route declarations: each route says its method, path, input models and answers once, and both the aiohttp
router and the OpenAPI document are built from that one declaration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import wraps

from aiohttp import web
from pydantic import BaseModel

from daemon.auth import require_scope
from daemon.http import inputs

RouteFunc = Callable[..., Awaitable[web.StreamResponse]]

SSE = "text/event-stream"


@dataclass(frozen=True)
class FormSpec:
    """A multipart/form-data body: one file field plus text fields (name -> JSON schema)."""

    file_field: str = "file"
    file_description: str = ""
    text_fields: dict[str, dict] = field(default_factory=dict)
    required_text: tuple[str, ...] = ()


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    name: str
    summary: str
    description: str
    tag: str
    scope: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    form: FormSpec | None = None
    responses: dict[int, type[BaseModel] | str] = field(default_factory=dict)
    creates_job: bool = False


class Routes:
    """The routes of one module (one OpenAPI tag)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.routes: list[Route] = []

    def add(self, method: str, path: str, *, summary: str, scope: str, body: type[BaseModel] | None = None,
            query: type[BaseModel] | None = None, form: FormSpec | None = None,
            responses: dict[int, type[BaseModel] | str] | None = None,
            creates_job: bool = False) -> Callable[[RouteFunc], RouteFunc]:
        """Declare a route. The function gets (request, query?, body?) already validated, in that order. With
        both body and form, a multipart request gets body None (the route reads the form), any other the JSON."""

        def register(func: RouteFunc) -> RouteFunc:
            @wraps(func)
            async def handle(request: web.Request) -> web.StreamResponse:
                _require_scope(request, scope)
                args = []
                if query is not None:
                    args.append(inputs.query(request, query))
                else:
                    inputs.no_query(request)
                if body is not None:  # a route that also takes a form reads multipart bodies itself
                    multipart = form is not None and request.content_type.startswith("multipart/")
                    args.append(None if multipart else await inputs.json_body(request, body))
                return await func(request, *args)

            doc = (func.__doc__ or "").strip()
            self.routes.append(Route(method, path, handle, func.__name__, summary, doc, self.tag, scope, body,
                                     query, form, dict(responses or {}), creates_job))
            return func

        return register

    def get(self, path: str, **kwargs) -> Callable[[RouteFunc], RouteFunc]:
        return self.add("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Callable[[RouteFunc], RouteFunc]:
        return self.add("POST", path, **kwargs)

    def put(self, path: str, **kwargs) -> Callable[[RouteFunc], RouteFunc]:
        return self.add("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs) -> Callable[[RouteFunc], RouteFunc]:
        return self.add("DELETE", path, **kwargs)


def _require_scope(request: web.Request, scope: str) -> None:
    """daemon.auth answers 401/403; 'public' routes (health) need no credentials."""
    if scope != "public":
        require_scope(request, scope)
