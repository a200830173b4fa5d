"""The /api/docs page works without the internet: every asset it loads comes from this server, without
credentials, and the Swagger UI it serves can render the OpenAPI 3.1 document."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon.http import create_app

pytestmark = pytest.mark.db


@pytest.fixture
async def client(pool, settings, db_url) -> AsyncIterator[TestClient]:
    app = create_app(pool, settings.model_copy(update={"api_auth": "required"}), db_url)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_docs_page_loads_every_asset_from_this_server_without_credentials(client):
    page = await client.get("/api/docs")
    assert page.status == 200 and page.content_type == "text/html"
    html = await page.text()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) >= 2, html
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"the docs page loads {url} from outside this server"
        if url == "/api/openapi.json":
            continue
        asset = await client.get(url)
        assert asset.status == 200, url
        assert len(await asset.read()) > 10_000, url
    script = await (await client.get("/api/docs/swagger-ui-bundle.js")).text()
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.1") and "isOAS31" in script  # Swagger UI 4 cannot render OpenAPI 3.1


@pytest.mark.parametrize("name", ["index.html", "..%2F..%2Fswagger_ui%2F__init__.py", "swagger-ui.js.map"])
async def test_docs_serves_only_the_assets_the_page_needs(client, name):
    resp = await client.get(f"/api/docs/{name}")
    assert resp.status == 404 and "detail" in await resp.json()
