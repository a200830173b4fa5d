"""The OpenAPI 3.1 document, built from the route declarations and the same pydantic models the handlers
validate with, plus a docs page that renders it with Swagger UI served from this process (nothing from the
internet at run time: the assets come from the swagger-ui-py package)."""

from __future__ import annotations

import copy
import importlib.util
import re
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from daemon.http import inputs
from daemon.http.models import ErrorOut
from daemon.http.routing import SSE, Route

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)\}")

_ERRORS = {
    400: "Malformed request (not JSON, not multipart, unreadable file).",
    401: "Not authenticated.",
    403: "Not allowed: a missing scope, a job kind or option only admins may request, or a write from a web "
         "origin not listed in CORS_ORIGINS.",
    404: "No such job (or table).",
    409: "Conflict.",
    413: "Body over its limit: a JSON body 512 KiB (JSON_BODY_LIMIT), a multipart upload "
         "BENCHSIGHT_UPLOAD_LIMIT_BYTES.",
    415: "A non-empty body without Content-Type: application/json.",
    422: "Validation failed: detail lists the field errors.",
    429: "Over the per-caller rate limit (Retry-After says when to retry).",
    500: "Internal error (never a stack trace).",
    503: "The database is unavailable.",
}
_JOB_HEADERS = {
    "Location": {"description": "The job's URL.", "required": True, "schema": {"type": "string"}},
    "Job-Existing": {"description": "true when an identical active job was returned instead of a new one.",
                     "required": True, "schema": {"type": "string", "enum": ["true", "false"]}},
}


def build(routes: list[Route], *, title: str = "BenchSight API", version: str = "1") -> dict:
    models: list[tuple[type[BaseModel], str]] = [(ErrorOut, "serialization")]
    for r in routes:
        if r.body is not None:
            models.append((r.body, "validation"))
        models += [(m, "serialization") for m in r.responses.values() if isinstance(m, type)]
    refs, defs = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    paths: dict[str, dict] = {}
    for r in routes:
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r, refs)
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "Every create route inserts a job into job_requests and answers 202 with it; "
                                "the daemon does the work. Errors are always {\"detail\": ...}."},
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {})},
    }
    doc["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "An API key (bsk_...) or a Supabase JWT."}}
    return doc


def _operation(r: Route, refs: dict) -> dict:
    op: dict[str, Any] = {"operationId": r.name, "summary": r.summary, "tags": [r.tag]}
    if r.description:
        op["description"] = r.description
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "string", "format": "uuid"} if name == "job_id" else {"type": "string"}}
              for name in _PATH_PARAM.findall(r.path)]
    if r.query is not None:
        params += _query_parameters(r.query)
    if params:
        op["parameters"] = params
    content: dict[str, Any] = {}
    if r.body is not None:
        content["application/json"] = {"schema": refs[(r.body, "validation")]}
    if r.form is not None:
        content["multipart/form-data"] = {"schema": _form_schema(r.form)}
    if content:
        op["requestBody"] = {"required": True, "content": content}
    responses: dict[str, dict] = {}
    for status, model in sorted(r.responses.items()):
        responses[str(status)] = _response(status, model, refs, r.creates_job)
    errors = {422, 500, 503}  # 422 on every route: an unknown query parameter is refused
    if r.body is not None or r.form is not None:
        errors |= {400, 413}
    if r.body is not None:
        errors.add(415)
    if _PATH_PARAM.search(r.path):  # an unknown job id or table name
        errors.add(404)
    if r.scope != "public":
        errors |= {401, 403, 429}
        op["security"] = [{"bearer": []}]
    for status in sorted(errors):
        responses.setdefault(str(status), _response(status, _ERRORS[status], refs, False))
    op["responses"] = responses
    return op


def _response(status: int, model: type[BaseModel] | str, refs: dict, creates_job: bool) -> dict:
    if isinstance(model, str) and model.startswith(SSE):
        return {"description": "An event stream.", "content": {SSE: {"schema": {"type": "string"}}}}
    if status >= 400:
        description = model if isinstance(model, str) else _ERRORS.get(status, "Error.")
        return {"description": description, "content": {"application/json": {"schema": refs[(ErrorOut, "serialization")]}}}
    if isinstance(model, str):  # a success answer that is not JSON: the bytes of a stored file
        return {"description": model, "content": {"application/octet-stream": {
            "schema": {"type": "string", "format": "binary"}}}}
    description = {202: "A new job was created.", 200: "OK."}.get(status, "OK.")
    if creates_job and status == 200:
        description = "An identical job was already active: that job (Job-Existing: true)."
    out: dict[str, Any] = {"description": description,
                           "content": {"application/json": {"schema": refs[(model, "serialization")]}}}
    if creates_job:
        out["headers"] = copy.deepcopy(_JOB_HEADERS)
    return out


def _query_parameters(model: type[BaseModel]) -> list[dict]:
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        prop = _without_null(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            param["description"] = description
        params.append(param)
    return params


def _without_null(prop: dict) -> dict:
    """A query parameter is absent rather than null: drop the null branch and the null default."""
    prop = dict(prop)
    if "anyOf" in prop:
        branches = [b for b in prop.pop("anyOf") if b.get("type") != "null"]
        if len(branches) == 1:
            prop.update(branches[0])
        else:
            prop["anyOf"] = branches
    if prop.get("default", 0) is None:
        del prop["default"]
    return prop


def _form_schema(form) -> dict:
    properties = {form.file_field: {"type": "string", "format": "binary", "description": form.file_description}}
    properties.update(form.text_fields)
    return {"type": "object", "properties": properties, "required": [form.file_field, *form.required_text]}


DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BenchSight API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#docs"});</script>
<noscript>The API is described in <a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
</body></html>
"""
DOCS_ASSETS = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript"}


@cache
def _swagger_ui_dir() -> Path:
    """The static folder of the swagger-ui-py package (Swagger UI 5, which renders OpenAPI 3.1), found without
    importing the package (its __init__ loads web-framework adapters we do not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("the docs page needs the package swagger-ui-py (pip install swagger-ui-py)")
    return Path(spec.origin).parent / "static"


def add_docs_routes(router: web.UrlDispatcher) -> None:
    """GET /api/docs (the page) and /api/docs/<asset> (only the two files the page loads)."""
    router.add_route("GET", "/api/docs", _docs_page)
    router.add_route("GET", "/api/docs/{asset}", _docs_asset)


async def _docs_page(request: web.Request) -> web.Response:
    inputs.no_query(request)
    return web.Response(text=DOCS_PAGE, content_type="text/html")


async def _docs_asset(request: web.Request) -> web.StreamResponse:
    inputs.no_query(request)
    name = request.match_info["asset"]
    if name not in DOCS_ASSETS:
        raise web.HTTPNotFound(text='{"detail": "no such docs asset"}', content_type="application/json")
    return web.FileResponse(_swagger_ui_dir() / name, headers={
        "Content-Type": DOCS_ASSETS[name], "Cache-Control": "public, max-age=86400"})
