"""The Supabase Realtime feed against the protocol-faithful stand-in (tests/realtime_standin.py), with the real
`realtime` client and a real Dispatcher. The sweep is off (or 60 s) in every test, so a job that completes was
woken by Realtime: by a change frame or by the feed's catch-up after a (re)subscribe."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog
from pydantic import SecretStr

from daemon import database, feeds, migrations, service
from daemon.config import PROJECT_ROOT, Settings
from daemon.dispatcher import Dispatcher
from daemon.realtime_feed import RealtimeFeed
from daemon_harness import running_daemon, wait_for_status
from realtime_standin import RealtimeStandin

pytestmark = pytest.mark.db

KEY = "service-role-key-for-tests-0123456789"
# Short feed thresholds so faults are noticed in about a second instead of half a minute.
FAST = dict(check_seconds=0.2, resubscribe_seconds=3.0, settle_seconds=30.0, ping_timeout=1.0,
            rebuild_backoff=0.2, max_rebuild_backoff=1.0, client_initial_backoff=0.2, join_timeout=1)


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict]]:
    """structlog events of the test (whatever structlog was configured with before), and the stdlib logs of the
    `realtime` and `websockets` packages in caplog at DEBUG."""
    caplog.set_level(logging.DEBUG)
    with structlog.testing.capture_logs() as entries:
        yield entries


def logged(entries: list[dict], caplog: pytest.LogCaptureFixture) -> str:
    """Everything the daemon side logged, as one text to search (the stand-in's own server logs excluded)."""
    client_side = [caplog.handler.format(r) for r in caplog.records if not r.name.startswith("websockets.server")]
    return "\n".join([*(repr(e) for e in entries), *client_side])


def daemon_with(settings: Settings, feed: RealtimeFeed):
    """A real Dispatcher whose only feed is `feed` (no sweep, no LISTEN)."""
    return running_daemon(settings, feed_list=[feed])


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached after {timeout}s")
        await asyncio.sleep(0.02)


async def quiet(dispatcher: Dispatcher) -> None:
    """Until the dispatcher has taken every wake-up so far and its claim is done, so a job inserted next can
    only run on a later wake-up."""
    await wait_until(lambda: not dispatcher._wakeup.is_set()
                     and dispatcher.pool.get_idle_size() == dispatcher.pool.get_size(), what="dispatcher idle")


async def streaming(feed: RealtimeFeed, dispatcher: Dispatcher, times: int = 1) -> None:
    """Until the feed has seen the server's "Subscribed to PostgreSQL" `times` times and its wake-ups are spent."""
    await wait_until(lambda: feed.stats["streaming"] >= times, what=f"feed streaming ({times})")
    await quiet(dispatcher)


def waited(row) -> float:
    """Seconds between a job's insert and its claim."""
    return (row["started_at"] - row["created_at"]).total_seconds()


async def insert_job(pool) -> object:
    """A job inserted the way the portal does it: plain SQL, no enqueue_job()."""
    return await pool.fetchval("insert into job_requests (kind, params) values ('sleep', '{}') returning id")


async def test_insert_wakes_daemon_through_realtime(settings, pool, events, caplog):
    async with RealtimeStandin(settings.database_url, apikey=KEY) as standin:
        async with running_daemon(settings, feeds="realtime", sweep_seconds=60, supabase_url=standin.url,
                                  supabase_service_role_key=SecretStr(KEY)) as dispatcher:
            assert [f.name for f in dispatcher.feeds] == ["realtime"]
            feed = dispatcher.feeds[0]
            await streaming(feed, dispatcher)
            job_id = await insert_job(pool)
            await wait_for_status(pool, job_id, "completed", timeout=5)  # the sweep would take 60 s
        assert feed.stats["changes"] >= 1 and standin.stats["changes_sent"] >= 1
    assert "feed.realtime.subscribed" in [e["event"] for e in events]
    assert KEY not in logged(events, caplog)


@pytest.mark.parametrize("fault", ["close_1000", "close_1011", "drop_tcp"])
async def test_client_reconnects_by_itself_after_connection_loss(settings, pool, fault):
    async with RealtimeStandin(settings.database_url) as standin:
        feed = RealtimeFeed(standin.url, KEY, **FAST)
        async with daemon_with(settings, feed) as dispatcher:
            await streaming(feed, dispatcher)
            if fault == "drop_tcp":
                standin.drop_tcp()
            else:
                await standin.close_all(int(fault.removeprefix("close_")))
            await streaming(feed, dispatcher, times=2)
            job_id = await insert_job(pool)
            await wait_for_status(pool, job_id, "completed", timeout=5)
        assert standin.stats["connections"] == 2 and feed.stats["changes"] == 1
        assert feed.stats["subscribed"] == 2
        assert feed.stats["rebuilds"] == 0  # the client's own reconnect sufficed


@pytest.mark.parametrize("announce", [True, False], ids=["system_message", "no_system_message"])
async def test_rows_inserted_during_outage_are_caught_up_after_reconnect(settings, pool, announce):
    async with RealtimeStandin(settings.database_url, announce_streaming=announce) as standin:
        feed = RealtimeFeed(standin.url, KEY, **FAST)
        async with daemon_with(settings, feed) as dispatcher:
            if announce:
                await streaming(feed, dispatcher)
            else:
                await wait_until(lambda: feed.stats["subscribed"] == 1, what="subscribed")
                await quiet(dispatcher)
            standin.outage(1.0)
            job_id = await insert_job(pool)  # never streamed: nobody is connected
            row = await wait_for_status(pool, job_id, "completed", timeout=10)
        assert standin.stats["rejected"] >= 1
        assert standin.stats["changes_sent"] == 0  # so the catch-up claim after resubscribing ran it
        assert waited(row) > 0.5
        assert feed.stats["rebuilds"] == 0


async def test_feed_rebuilds_client_that_gave_up_reconnecting(settings, pool, events):
    async with RealtimeStandin(settings.database_url) as standin:
        feed = RealtimeFeed(standin.url, KEY, **{**FAST, "client_max_retries": 2})
        async with daemon_with(settings, feed) as dispatcher:
            await streaming(feed, dispatcher)
            standin.outage(2.0)
            job_id = await insert_job(pool)
            row = await wait_for_status(pool, job_id, "completed", timeout=15)
        assert feed.stats["rebuilds"] >= 1 and standin.stats["changes_sent"] == 0
        assert waited(row) > 1.5
    assert "client gave up reconnecting" in [e.get("reason") for e in events]


@pytest.mark.slow
async def test_feed_rebuilds_after_default_client_gives_up_on_long_outage(settings, pool):
    """The client's own defaults: 5 attempts 1, 2, 4, 8 s apart, then it stops for good (about 15 s)."""
    async with RealtimeStandin(settings.database_url) as standin:
        feed = RealtimeFeed(standin.url, KEY, check_seconds=0.5, resubscribe_seconds=60, settle_seconds=60,
                            rebuild_backoff=0.5)
        async with daemon_with(settings, feed) as dispatcher:
            await streaming(feed, dispatcher)
            standin.outage(16.0)
            job_id = await insert_job(pool)
            await wait_until(lambda: feed.stats["rebuilds"] >= 1, timeout=25, what="feed rebuilt its client")
            assert standin.stats["rejected"] == 5
            row = await wait_for_status(pool, job_id, "completed", timeout=15)
        assert waited(row) > 15 and standin.stats["changes_sent"] == 0
        assert feed.stats["subscribed"] == 2


async def test_system_error_resubscribes_and_catches_up(settings, pool):
    async with RealtimeStandin(settings.database_url) as standin:
        feed = RealtimeFeed(standin.url, KEY, **FAST)
        async with daemon_with(settings, feed) as dispatcher:
            await streaming(feed, dispatcher)
            await standin.send_system_error()
            await wait_until(lambda: feed.stats["errors"] >= 1, what="feed saw the system error")
            job_id = await insert_job(pool)  # the subscription is not streaming now
            row = await wait_for_status(pool, job_id, "completed", timeout=10)
        assert feed.stats["subscribed"] >= 2 and standin.stats["changes_sent"] == 0
        assert waited(row) > 0.5  # the client rejoins 1 s after the error


async def test_unanswered_join_is_retried_with_a_new_client(settings, pool, events):
    async with RealtimeStandin(settings.database_url) as standin:
        standin.ignore_joins = True
        feed = RealtimeFeed(standin.url, KEY, **{**FAST, "resubscribe_seconds": 1.0})
        async with daemon_with(settings, feed):
            await wait_until(lambda: feed.stats["rebuilds"] >= 1, what="feed rebuilt after the unanswered join")
            job_id = await insert_job(pool)
            standin.ignore_joins = False
            await wait_for_status(pool, job_id, "completed", timeout=10)
        assert standin.stats["connections"] >= 2
    assert "TIMED_OUT" in [e.get("status") for e in events]
    assert "no SUBSCRIBED for 1s" in [e.get("reason") for e in events]


async def test_rows_before_server_streams_are_caught_up(settings, pool):
    """SUBSCRIBED (the join reply) comes before the server streams; rows in between are never sent."""
    async with RealtimeStandin(settings.database_url, subscribe_delay=1.5) as standin:
        feed = RealtimeFeed(standin.url, KEY, **FAST)
        async with daemon_with(settings, feed) as dispatcher:
            await wait_until(lambda: feed.stats["subscribed"] == 1, what="subscribed")
            await quiet(dispatcher)
            job_id = await insert_job(pool)
            row = await wait_for_status(pool, job_id, "completed", timeout=10)
        assert standin.stats["changes_sent"] == 0
        assert waited(row) > 0.5
        assert feed.stats["streaming"] == 1


async def test_silently_dead_connection_is_rebuilt(settings, pool):
    async with RealtimeStandin(settings.database_url) as standin:
        feed = RealtimeFeed(standin.url, KEY, **FAST)
        async with daemon_with(settings, feed) as dispatcher:
            await streaming(feed, dispatcher)
            standin.blackhole()
            job_id = await insert_job(pool)
            row = await wait_for_status(pool, job_id, "completed", timeout=10)
        assert feed.stats["rebuilds"] == 1 and feed.stats["changes"] == 0
        assert waited(row) > 0.5  # found by the unanswered ping, not by a change


@pytest.mark.parametrize("poison", ["invalid", "record", "choke", "oversize"])
async def test_poisoned_frame_does_not_stop_later_wakeups(settings, pool, poison):
    """invalid: dropped by the client; record: odd record; choke: kills the client's listen task (the feed
    notices and rebuilds); oversize: over 1 MiB, the client drops the connection and reconnects."""
    async with RealtimeStandin(settings.database_url) as standin:
        feed = RealtimeFeed(standin.url, KEY, **FAST)
        async with daemon_with(settings, feed) as dispatcher:
            await streaming(feed, dispatcher)
            standin.poison_next(poison)
            first = await insert_job(pool)
            await wait_until(lambda: standin.stats[f"poisoned_{poison}"] == 1, what="poisoned frame sent")
            await streaming(feed, dispatcher, times=2 if poison in ("choke", "oversize") else 1)
            second = await insert_job(pool)
            await wait_for_status(pool, second, "completed", timeout=10)
            await wait_for_status(pool, first, "completed", timeout=5)
        assert feed.stats["changes"] >= 1
        assert feed.stats["rebuilds"] == (1 if poison == "choke" else 0)


async def test_wrong_key_is_reported_without_logging_the_key(settings, events, caplog):
    async with RealtimeStandin(settings.database_url, apikey="the-right-key") as standin:
        feed = RealtimeFeed(standin.url, KEY, **{**FAST, "client_max_retries": 1})
        async with daemon_with(settings, feed):
            await wait_until(lambda: feed.stats["rebuilds"] >= 2, what="feed retried")
    errors = [e for e in events if e["event"] == "feed.realtime.error"]
    assert errors and "401" in errors[0]["error"]
    assert KEY not in logged(events, caplog)


async def test_auto_feeds_include_realtime_when_supabase_is_configured(settings):
    configured = settings.model_copy(update={"supabase_url": "https://example.supabase.co",
                                             "supabase_service_role_key": SecretStr(KEY)})
    chosen = await feeds.choose_feeds("auto", settings.database_url, sweep_seconds=5,
                                      realtime_factory=service.realtime_factory(configured))
    assert [f.name for f in chosen] == ["realtime", "listen", "sweep"]
    assert chosen[0].realtime_url == "https://example.supabase.co/realtime/v1"
    assert service.realtime_factory(settings) is None


async def test_migrations_add_job_requests_to_the_supabase_realtime_publication(empty_db_url):
    """Supabase streams only tables in supabase_realtime: without job_requests in it the feed subscribes fine
    and never hears a thing. (On plain PostgreSQL the publication is absent; here it is made first.)"""
    conn = await database.connect(empty_db_url)
    try:
        await conn.execute("create publication supabase_realtime")
        await migrations.migrate(conn, PROJECT_ROOT / "supabase" / "migrations")
        published = await conn.fetch("select schemaname, tablename from pg_publication_tables "
                                     "where pubname = 'supabase_realtime'")
    finally:
        await conn.close()
    assert ("public", "job_requests") in [tuple(r) for r in published]
