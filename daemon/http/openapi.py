"""The OpenAPI 3.1 document, built from the route declarations and the same pydantic models the handlers
validate with, plus a docs page that renders it."""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from daemon.http.models import ErrorOut
from daemon.http.routing import SSE, Route

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)\}")

_ERRORS = {
    400: "Malformed request (not JSON, not multipart, unreadable file).",
    401: "Not authenticated.",
    403: "Not allowed (missing scope).",
    404: "No such job.",
    409: "Conflict.",
    413: "Body over the upload limit.",
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
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
              for name in _PATH_PARAM.findall(r.path)]
    if r.query is not None:
        params += _query_parameters(r.query)
    if params:
        op["parameters"] = params
    if r.body is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": refs[(r.body, "validation")]}}}
    elif r.form is not None:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": _form_schema(r.form)}}}
    responses: dict[str, dict] = {}
    for status, model in sorted(r.responses.items()):
        responses[str(status)] = _response(status, model, refs, r.creates_job)
    errors = {500, 503}
    if params or r.body is not None or r.form is not None:
        errors.add(422)
    if r.body is not None or r.form is not None:
        errors |= {400, 413}
    if "{job_id}" in r.path:
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
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="docs"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#docs"});</script>
<noscript>The API is described in <a href="/api/openapi.json">/api/openapi.json</a>.</noscript>
</body></html>
"""
