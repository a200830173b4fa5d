from daemon_harness import running_daemon, wait_for_status

async def test_plain_sql_insert_completes(settings, pool):
    job_id = await pool.fetchval("insert into job_requests(kind, params) values ('sleep', '{\"seconds\":0}') returning id")
    async with running_daemon(settings):
        row = await wait_for_status(pool, job_id, "completed")
    assert row["result"] == {"slept": 0}
