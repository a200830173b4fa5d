"""A dashboard reading while an upload swaps the warehouse in: every read sees the whole old load or the whole
new one (row count and checksum of the first and the last table swapped), never an empty or half-loaded
table, a mix of loads, or an error."""

from __future__ import annotations

import asyncio

import asyncpg

from daemon import queries
from daemon_harness import running_daemon, wait_for_status
from etl.catalog import TABLES
from handlers_output import write_catalog_output

FIRST, LAST = list(TABLES)[0], list(TABLES)[-1]  # the swap renames tables in catalog order
_STATE = (
    f'select (select count(*) from public."{FIRST}") as first_rows, '
    f'(select md5(coalesce(string_agg(t::text, \'|\' order by t::text), \'\')) from public."{FIRST}" t) as first_sum, '
    f'(select count(*) from public."{LAST}") as last_rows, '
    f'(select md5(coalesce(string_agg(t::text, \'|\' order by t::text), \'\')) from public."{LAST}" t) as last_sum'
)


async def _upload(pool, settings, rows: int, tag: str, seed: int) -> tuple:
    write_catalog_output(settings.output_dir, rows=rows, tag=tag, seed=seed)
    job = await queries.enqueue_job(pool, "upload", {})
    row = await wait_for_status(pool, job["id"], {"completed", "failed"}, timeout=60)
    assert row["status"] == "completed", row["error"]
    return tuple(await pool.fetchrow(_STATE))


async def test_reader_during_the_swap_sees_the_old_or_the_new_load_only(settings, pool, db_url):
    seen: list[tuple] = []
    errors: list[str] = []
    stop = asyncio.Event()

    async def read_in_a_loop() -> None:
        conn = await asyncpg.connect(db_url)
        try:
            while not stop.is_set():
                try:
                    seen.append(tuple(await conn.fetchrow(_STATE)))
                except asyncpg.PostgresError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            await conn.close()

    async with running_daemon(settings):
        loads = [await _upload(pool, settings, 200, "a", 0)]
        readers = [asyncio.create_task(read_in_a_loop()) for _ in range(2)]
        try:
            for rows, tag, seed in ((300, "b", 1), (100, "c", 2), (250, "d", 3)):
                before = len(seen)
                while len(seen) < before + 5:  # the readers are reading the current load
                    await asyncio.sleep(0.01)
                loads.append(await _upload(pool, settings, rows, tag, seed))
        finally:
            stop.set()
            await asyncio.gather(*readers)
    assert not errors, errors[:3]
    assert len(set(loads)) == len(loads) and all(state[0] > 0 and state[2] > 0 for state in loads)
    unexpected = set(seen) - set(loads)
    assert not unexpected, f"{len(unexpected)} reads saw neither a whole old nor a whole new load: {unexpected}"
    assert len(set(seen)) == len(loads)  # the readers read through every swap
