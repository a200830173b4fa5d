"""Server-Sent Events on the real database: a page following a job sees its status and progress changes as
the daemon makes them, without polling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from daemon.http import create_app
from daemon.http.app_keys import CHANGES
from daemon_harness import running_daemon

pytestmark = pytest.mark.db


@pytest.fixture
async def app(pool, settings, db_url):
    return create_app(pool, settings.model_copy(update={"api_auth": "off"}), db_url, sse_heartbeat_seconds=0.3)


@pytest.fixture
async def client(app) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(app)) as client:
        yield client


async def _events(resp: aiohttp.ClientResponse) -> AsyncIterator[tuple[str, object]]:
    """(event name, data) per SSE message; ('comment', text) for comment lines."""
    name, data = None, []
    async for raw in resp.content:
        line = raw.decode().rstrip("\n")
        if line.startswith(":"):
            yield "comment", line[1:].strip()
        elif line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data.append(line.split(":", 1)[1].strip())
        elif line == "" and name:
            yield name, json.loads("\n".join(data))
            name, data = None, []


async def test_job_stream_delivers_status_and_progress_of_a_sleep_job(client, pool, settings):
    job_id = await pool.fetchval("select id from enqueue_job('sleep', '{\"seconds\": 0.5, \"steps\": 4}'::jsonb)")
    seen = []
    async with client.get(f"/api/jobs/{job_id}/stream") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        events = _events(resp)
        name, snapshot = await anext(events)
        assert name == "snapshot" and snapshot["status"] == "pending" and snapshot["job_id"] == str(job_id)
        async with running_daemon(settings):
            async with asyncio.timeout(20):
                async for name, data in events:  # the stream ends after the final change
                    if name == "job":
                        seen.append(data)
    statuses = [e["status"] for e in seen]
    assert statuses[0] == "running" and statuses[-1] == "completed"
    progress = [e["progress"] for e in seen if e["status"] == "running"]
    assert progress == sorted(progress) and 0 < max(progress) <= 100
    assert any(e["current_step"] == "step 2 of 4" for e in seen)
    assert all(e["job_id"] == str(job_id) for e in seen)


async def test_stream_of_an_ended_job_sends_its_snapshot_and_closes(client, pool):
    job_id = await pool.fetchval("select id from enqueue_job('sleep', '{}'::jsonb)")
    await pool.execute("select request_cancel($1)", job_id)
    async with client.get(f"/api/jobs/{job_id}/stream") as resp:
        async with asyncio.timeout(5):
            events = [e async for e in _events(resp)]
    assert [(n, d["status"]) for n, d in events if n != "comment"] == [("snapshot", "cancelled")]


async def test_stream_of_all_jobs_sees_new_jobs_and_sends_heartbeats(client, pool):
    async with client.get("/api/jobs/stream", params={"kind": "validate"}) as resp:
        events = _events(resp)
        name, snapshot = await anext(events)
        assert name == "snapshot" and snapshot == {"jobs": []}
        await pool.fetchval("select id from enqueue_job('sleep', '{}'::jsonb)")  # another kind: filtered out
        job_id = await pool.fetchval("select id from enqueue_job('validate', '{}'::jsonb)")
        async with asyncio.timeout(5):
            got = [await anext(events) for _ in range(2)]
            while not any(n == "comment" for n, _ in got):
                got.append(await anext(events))
    jobs = [d for n, d in got if n == "job"]
    assert jobs[0] == {"job_id": str(job_id), "kind": "validate", "status": "pending", "progress": 0,
                       "current_step": None, "requested_by": None}
    assert ("comment", "keep-alive") in got


async def _next_event(events: AsyncIterator[tuple[str, object]]) -> tuple[str, object]:
    """The next message that is not a heartbeat."""
    async for name, data in events:
        if name != "comment":
            return name, data
    raise AssertionError("the stream ended")


async def test_stream_resumes_with_a_snapshot_after_the_listener_is_dropped(app, client, pool):
    async with client.get("/api/jobs/stream") as resp:
        events = _events(resp)
        assert (await anext(events))[0] == "snapshot"
        hub = app[CHANGES]
        pid = hub.connection.get_server_pid()
        await pool.execute("select pg_terminate_backend($1)", pid)
        async with asyncio.timeout(10):
            name, data = await _next_event(events)
            assert name == "snapshot"  # the resync after reconnecting
            await hub.connected.wait()
            job_id = await pool.fetchval("select id from enqueue_job('sleep', '{}'::jsonb)")
            name, data = await _next_event(events)
    assert name == "job" and data["job_id"] == str(job_id)


async def test_stream_of_an_unknown_job_is_404(client):
    resp = await client.get("/api/jobs/00000000-0000-0000-0000-000000000000/stream")
    assert resp.status == 404 and "detail" in await resp.json()
