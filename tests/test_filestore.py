"""The file store on the real database: content stored once by hash, every upload a version, the newest
version of each input slot current unless an older one is pinned, cached copies verified by hash."""

from __future__ import annotations

import asyncpg
import pytest

from daemon.filestore import FileStore, FileStoreError, sha256_of

pytestmark = pytest.mark.db


@pytest.fixture
def store(pool, tmp_path) -> FileStore:
    return FileStore(pool, tmp_path / "cache", limit_bytes=1_000_000)


async def test_same_bytes_are_stored_once_and_every_upload_is_a_version(store, pool):
    a = await store.put(b'{"gameId": 1}', name="1.json", role="tracker", game_id=1, format="json")
    b = await store.put(b'{"gameId": 1}', name="copy.json", role="tracker", game_id=1, format="json")
    assert a.sha256 == b.sha256 == sha256_of(b'{"gameId": 1}') and a.id != b.id
    assert await pool.fetchval("select count(*) from files") == 1
    assert [v.id for v in await store.versions(game_id=1)] == [b.id, a.id]


async def test_the_newest_upload_of_a_slot_is_current_and_a_pin_brings_an_older_one_back(store):
    old = await store.put(b"old", name="7_tracking.xlsx", role="tracker", game_id=7, format="xlsx")
    new = await store.put(b"new", name="7_tracking.xlsx", role="tracker", game_id=7, format="xlsx")
    json_export = await store.put(b"{}", name="7.json", role="tracker", game_id=7, format="json")
    league = await store.put(b"league", name="BLB_Tables.xlsx", role="league_workbook", format="xlsx")
    current = {v.slot: v.id for v in await store.current_inputs()}
    assert current == {"tracker:7:xlsx": new.id, "tracker:7:json": json_export.id, "league": league.id}
    assert await store.pin(old.id, pinned_by="admin") == "tracker:7:xlsx"
    current = {v.slot: (v.id, v.pinned) for v in await store.current_inputs(game_id=7)}
    assert current["tracker:7:xlsx"] == (old.id, True)
    newer = await store.put(b"newer", name="7_tracking.xlsx", role="tracker", game_id=7, format="xlsx")
    assert {v.slot: v.id for v in await store.current_inputs(game_id=7)}["tracker:7:xlsx"] == old.id  # pin holds
    assert await store.unpin("tracker:7:xlsx")
    assert {v.slot: v.id for v in await store.current_inputs(game_id=7)}["tracker:7:xlsx"] == newer.id


async def test_the_database_refuses_content_under_another_hash(pool):
    with pytest.raises(asyncpg.InvalidParameterValueError, match="does not match"):
        await pool.fetchval("select put_file($1, $2, 'x.json', 'tracker', 'application/json', 1, 'json')",
                            sha256_of(b"good"), b"evil")


async def test_a_corrupted_cached_copy_is_detected_by_hash_and_fetched_again(store):
    v = await store.put(b"league bytes", name="BLB_Tables.xlsx", role="league_workbook", format="xlsx")
    path = await store.materialise(v.sha256)
    assert path.read_bytes() == b"league bytes"
    path.write_bytes(b"tampered")
    again = await store.materialise(v.sha256)
    assert again == path and again.read_bytes() == b"league bytes"


async def test_inputs_are_linked_under_the_names_the_etl_reads(store, tmp_path):
    t = await store.put(b"x", name="whatever.xlsx", role="tracker", game_id=18969, format="xlsx")
    j = await store.put(b"{}", name="upload.json", role="tracker", game_id=18969, format="json")
    links = await store.link_inputs([t, j], tmp_path / "run" / "tracking")
    assert sorted(links) == ["18969.json", "18969_tracking.xlsx"]
    assert (tmp_path / "run" / "tracking" / "18969_tracking.xlsx").read_bytes() == b"x"
    await store.link_inputs([j], tmp_path / "run" / "tracking")  # a stale input disappears
    assert sorted(p.name for p in (tmp_path / "run" / "tracking").iterdir()) == ["18969.json"]


async def test_limits_and_eviction(store):
    with pytest.raises(FileStoreError, match="over the limit"):
        await store.put(b"x" * 1_000_001, name="big.json", role="tracker", game_id=1, format="json")
    with pytest.raises(FileStoreError, match="empty"):
        await store.put(b"", name="e.json", role="tracker", game_id=1, format="json")
    for i in range(3):
        v = await store.put(bytes([i]) * 1000, name=f"{i}.json", role="tracker", game_id=i, format="json")
        await store.materialise(v.sha256)
    assert store.evict(keep_bytes=1500) == 2


async def test_the_api_lists_current_inputs_serves_bytes_and_pins(store, pool, settings, db_url):
    from aiohttp.test_utils import TestClient, TestServer

    from daemon.http import create_app

    old = await store.put(b'{"gameId": 5, "v": 1}', name="5.json", role="tracker", game_id=5, format="json")
    new = await store.put(b'{"gameId": 5, "v": 2}', name="5.json", role="tracker", game_id=5, format="json")
    app = create_app(pool, settings.model_copy(update={"api_auth": "off"}), db_url)
    async with TestClient(TestServer(app)) as client:
        listed = await (await client.get("/api/files")).json()
        assert [(f["id"], f["slot"]) for f in listed["files"]] == [(new.id, "tracker:5:json")]
        game = await (await client.get("/api/files/games/5")).json()
        assert [f["id"] for f in game["files"]] == [new.id, old.id]
        body = await client.get(f"/api/files/{old.id}/content")
        assert body.status == 200 and await body.read() == b'{"gameId": 5, "v": 1}'
        assert (await client.get("/api/files?bogus=1")).status == 422
        assert (await client.get("/api/files/999999/content")).status == 404
        pinned = await client.post(f"/api/files/{old.id}/pin")
        assert pinned.status == 200 and (await pinned.json())["slot"] == "tracker:5:json"
        listed = await (await client.get("/api/files")).json()
        assert [(f["id"], f["pinned"]) for f in listed["files"]] == [(old.id, True)]
        assert (await client.delete("/api/files/pins/tracker:5:json")).status == 200
        assert (await client.delete("/api/files/pins/tracker:5:json")).status == 404
