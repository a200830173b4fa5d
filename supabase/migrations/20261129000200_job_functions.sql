-- The job contract, part 2: every state change is one of these functions, so the daemon, the REST API and a
-- portal writing rows directly obey one definition. Each writes job_events rows. Only the worker holding a
-- job's lease (locked_by) can move a running job.
-- Running states: running, processing, uploading. Ended: completed, failed, cancelled.

-- Exponential backoff with jitter, capped at 10 minutes: attempt 1 -> 1..2 s, 2 -> 2..4 s, 3 -> 4..8 s, ...
create or replace function public.job_retry_delay(attempts integer) returns interval
language sql volatile as $$
    select make_interval(secs => least(600.0, power(2.0, greatest(attempts, 1))) * (0.5 + random() * 0.5));
$$;

-- Enqueue with dedupe: a second request with the dedupe_key of an active job returns that job.
create or replace function public.enqueue_job(
    kind text,
    params jsonb default '{}'::jsonb,
    priority integer default 0,
    run_after timestamptz default null,
    dedupe_key text default null,
    max_attempts integer default 3,
    requested_by text default null
) returns public.job_requests
language plpgsql as $$
#variable_conflict use_column
declare
    job public.job_requests;
begin
    for i in 1..3 loop
        insert into public.job_requests as j (kind, params, priority, run_after, dedupe_key, max_attempts, requested_by)
        values (enqueue_job.kind, coalesce(enqueue_job.params, '{}'::jsonb), coalesce(enqueue_job.priority, 0),
                coalesce(enqueue_job.run_after, now()), enqueue_job.dedupe_key,
                coalesce(enqueue_job.max_attempts, 3), enqueue_job.requested_by)
        on conflict (dedupe_key)
            where dedupe_key is not null and status in ('pending', 'running', 'processing', 'uploading')
            do nothing
        returning * into job;
        if found then
            return job;
        end if;
        select * into job from public.job_requests j
        where j.dedupe_key = enqueue_job.dedupe_key
          and j.status in ('pending', 'running', 'processing', 'uploading');
        if found then
            return job;
        end if;
        -- the active twin ended between the two statements: try the insert again
    end loop;
    raise exception 'enqueue_job: could not insert or find job with dedupe_key %', dedupe_key;
end;
$$;

-- Take back running jobs whose lease expired (their daemon died): pending again while attempts remain
-- (the claim that started them already counted the attempt), failed once attempts are used up.
create or replace function public.reclaim_expired_jobs() returns integer
language plpgsql as $$
declare
    n integer;
begin
    with expired as (
        select j.id from public.job_requests j
        where j.status in ('running', 'processing', 'uploading') and j.locked_until < now()
        for update skip locked
    ), taken as (
        update public.job_requests j
        set status = case when j.attempts >= j.max_attempts then 'failed' else 'pending' end,
            error = 'lease expired: worker ' || coalesce(j.locked_by, '?') || ' stopped heartbeating',
            finished_at = case when j.attempts >= j.max_attempts then now() end,
            run_after = now(),
            locked_by = null,
            locked_until = null,
            cancel_requested = false
        from expired e
        where j.id = e.id
        returning j.id, j.status, j.progress, j.error, j.attempts
    ), history as (
        insert into public.job_events (job_id, status, progress, level, message, data)
        select t.id, t.status, t.progress, 'warning', t.error, jsonb_build_object('attempts', t.attempts)
        from taken t
    )
    select count(*) into n from taken;
    return n;
end;
$$;

-- Moves the given pending rows (already locked by the caller) to running for this worker.
create or replace function public.start_claimed_jobs(worker text, ids uuid[], lease_seconds integer)
returns setof public.job_requests
language sql as $$
    with started as (
        update public.job_requests j
        set status = 'running',
            attempts = j.attempts + 1,
            locked_by = worker,
            locked_until = now() + make_interval(secs => lease_seconds),
            started_at = now(),
            finished_at = null,
            current_step = null
        where j.id = any(ids)
        returning j.*
    ), history as (
        insert into public.job_events (job_id, status, progress, message, worker, data)
        select s.id, 'running', s.progress, 'claimed', worker, jsonb_build_object('attempt', s.attempts)
        from started s
    )
    select * from started;
$$;

-- Claims up to max_jobs runnable jobs of the given kinds for worker, highest priority first.
-- Kinds in an exclusive group (the warehouse writers) run one at a time across all daemons: the group's
-- advisory lock serialises the check, and a group already running is skipped (its jobs wait pending).
create or replace function public.claim_jobs(worker text, kinds text[], max_jobs integer, lease_seconds integer)
returns setof public.job_requests
language plpgsql as $$
declare
    ids uuid[];
    grp text;
    claimed integer := 0;
begin
    if max_jobs <= 0 then
        return;
    end if;
    perform public.reclaim_expired_jobs();

    select array_agg(c.id) into ids from (
        select j.id from public.job_requests j
        where j.status = 'pending'
          and j.run_after <= now()
          and j.kind = any(kinds)
          and not exists (select 1 from public.job_kinds k where k.kind = j.kind and k.exclusive_group is not null)
        order by j.priority desc, j.run_after, j.created_at
        limit max_jobs
        for update of j skip locked
    ) c;
    if ids is not null then
        claimed := cardinality(ids);
        return query select * from public.start_claimed_jobs(worker, ids, lease_seconds);
    end if;

    for grp in
        select distinct k.exclusive_group from public.job_kinds k
        where k.kind = any(kinds) and k.exclusive_group is not null
        order by 1
    loop
        exit when claimed >= max_jobs;
        continue when not pg_try_advisory_xact_lock(hashtext('benchsight.job_group'), hashtext(grp));
        continue when exists (
            select 1 from public.job_requests j join public.job_kinds k on k.kind = j.kind
            where k.exclusive_group = grp and j.status in ('running', 'processing', 'uploading'));
        select array_agg(c.id) into ids from (
            select j.id from public.job_requests j join public.job_kinds k on k.kind = j.kind
            where j.status = 'pending'
              and j.run_after <= now()
              and j.kind = any(kinds)
              and k.exclusive_group = grp
            order by j.priority desc, j.run_after, j.created_at
            limit 1
            for update of j skip locked
        ) c;
        if ids is not null then
            claimed := claimed + 1;
            return query select * from public.start_claimed_jobs(worker, ids, lease_seconds);
        end if;
    end loop;
end;
$$;

-- Extends the leases of the worker's running jobs. Returns one row per job still held, with whether cancel
-- was requested; a job missing from the answer is no longer this worker's (its lease was taken back).
create or replace function public.heartbeat_jobs(worker text, job_ids uuid[], lease_seconds integer)
returns table (job_id uuid, cancel_requested boolean)
language sql as $$
    with held as (
        update public.job_requests j
        set locked_until = now() + make_interval(secs => lease_seconds)
        where j.id = any(job_ids) and j.locked_by = worker and j.status in ('running', 'processing', 'uploading')
        returning j.id, j.status, j.progress, j.cancel_requested
    ), history as (
        insert into public.job_events (job_id, status, progress, level, message, worker)
        select h.id, h.status, h.progress, 'debug', 'heartbeat', worker from held h
    )
    select h.id, h.cancel_requested from held h;
$$;

create or replace function public.heartbeat_job(job_id uuid, worker text, lease_seconds integer)
returns boolean
language plpgsql as $$
declare
    wants_cancel boolean;
begin
    select h.cancel_requested into wants_cancel
    from public.heartbeat_jobs(worker, array[job_id], lease_seconds) h;
    if not found then
        raise exception 'job % is not held by worker %', job_id, worker using errcode = 'P0002';
    end if;
    return wants_cancel;
end;
$$;

-- Progress from the worker holding the job. Returns whether cancel was requested.
create or replace function public.report_progress(
    job_id uuid, worker text, status text, progress integer, step text default null, message text default null
) returns boolean
language plpgsql as $$
declare
    wants_cancel boolean;
begin
    if status not in ('running', 'processing', 'uploading') then
        raise exception 'report_progress: status must be running, processing or uploading, not %', status
            using errcode = '22023';
    end if;
    update public.job_requests j
    set status = report_progress.status,
        progress = greatest(0, least(100, coalesce(report_progress.progress, j.progress))),
        current_step = coalesce(report_progress.step, j.current_step)
    where j.id = report_progress.job_id and j.locked_by = worker and j.status in ('running', 'processing', 'uploading')
    returning j.cancel_requested into wants_cancel;
    if not found then
        raise exception 'job % is not held by worker %', job_id, worker using errcode = 'P0002';
    end if;
    insert into public.job_events (job_id, status, progress, step, message, worker)
    values (report_progress.job_id, report_progress.status,
            greatest(0, least(100, report_progress.progress)), report_progress.step, report_progress.message, worker);
    return wants_cancel;
end;
$$;

-- Ends many jobs in one statement (the daemon batches completions); each job keeps its own outcome and
-- history row. statuses: completed, failed or cancelled. A failure with retry allowed and attempts left goes
-- back to pending after a backoff. Returns the jobs changed with their new status; jobs this worker no longer
-- holds are left alone and absent from the answer.
create or replace function public.finish_jobs(
    worker text, job_ids uuid[], statuses text[], results jsonb[], errors text[], retry boolean[] default null
) returns table (job_id uuid, status text)
language plpgsql as $$
begin
    if exists (select 1 from unnest(statuses) s where s is null or s not in ('completed', 'failed', 'cancelled')) then
        raise exception 'finish_jobs: status must be completed, failed or cancelled' using errcode = '22023';
    end if;
    return query
    with input as (
        select * from unnest(job_ids, statuses, results, errors,
                             coalesce(retry, array_fill(true, array[cardinality(job_ids)])))
            as t(id, status, result, error, retry)
    ), decided as (
        select i.*,
               case when i.status = 'failed' and i.retry and j.attempts < j.max_attempts then 'pending'
                    else i.status end as new_status,
               j.attempts
        from input i join public.job_requests j on j.id = i.id
        where j.locked_by = worker and j.status in ('running', 'processing', 'uploading')
        for update of j
    ), ended as (
        update public.job_requests j
        set status = d.new_status,
            result = coalesce(d.result, j.result),
            error = d.error,
            progress = case when d.new_status = 'completed' then 100 else j.progress end,
            run_after = case when d.new_status = 'pending' then now() + public.job_retry_delay(d.attempts)
                             else j.run_after end,
            finished_at = case when d.new_status = 'pending' then null else now() end,
            locked_by = null,
            locked_until = null,
            cancel_requested = false
        from decided d
        where j.id = d.id
        returning j.id, j.status, j.progress, j.error, j.attempts, j.run_after, j.kind
    ), history as (
        insert into public.job_events (job_id, status, progress, level, message, worker, data)
        select e.id, e.status, e.progress,
               case e.status when 'completed' then 'info' when 'failed' then 'error' else 'warning' end,
               case e.status when 'pending' then 'retry scheduled: ' || coalesce(e.error, '')
                             when 'completed' then 'completed'
                             when 'cancelled' then 'cancelled'
                             else coalesce(e.error, 'failed') end,
               worker,
               case when e.status = 'pending'
                    then jsonb_build_object('attempts', e.attempts, 'run_after', e.run_after) end
        from ended e
    )
    select e.id, e.status from ended e;
    -- a finished warehouse writer lets the next one in: wake the daemons
    perform pg_notify('job_requests', 'group:' || g.exclusive_group)
    from (select distinct k.exclusive_group from public.job_requests j join public.job_kinds k on k.kind = j.kind
          where j.id = any(job_ids) and k.exclusive_group is not null) g;
end;
$$;

create or replace function public.finish_job(
    job_id uuid, worker text, status text, result jsonb default null, error text default null,
    retry boolean default true
) returns text
language sql as $$
    select f.status from public.finish_jobs(worker, array[job_id], array[status], array[result], array[error],
                                            array[retry]) f;
$$;

-- Cancel: a pending job is cancelled at once; a running one is flagged and its daemon ends it.
-- Returns the status after the call ('cancelled', or the running status when flagged, or the ended status
-- when it had already ended), or null for an unknown job.
create or replace function public.request_cancel(job_id uuid) returns text
language plpgsql as $$
declare
    new_status text;
begin
    update public.job_requests j
    set status = case when j.status = 'pending' then 'cancelled' else j.status end,
        finished_at = case when j.status = 'pending' then now() else j.finished_at end,
        cancel_requested = j.status <> 'pending'
    where j.id = request_cancel.job_id and j.status in ('pending', 'running', 'processing', 'uploading')
    returning j.status into new_status;
    if found then
        insert into public.job_events (job_id, status, level, message)
        values (request_cancel.job_id, new_status, 'warning',
                case when new_status = 'cancelled' then 'cancelled before start' else 'cancel requested' end);
        return new_status;
    end if;
    select j.status into new_status from public.job_requests j where j.id = request_cancel.job_id;
    return new_status;
end;
$$;

-- Graceful shutdown: give the leases back without counting the attempt.
create or replace function public.release_jobs(worker text, job_ids uuid[]) returns integer
language plpgsql as $$
declare
    n integer;
begin
    with released as (
        update public.job_requests j
        set status = 'pending',
            attempts = greatest(j.attempts - 1, 0),
            locked_by = null,
            locked_until = null,
            run_after = now()
        where j.id = any(job_ids) and j.locked_by = worker and j.status in ('running', 'processing', 'uploading')
        returning j.id, j.progress
    ), history as (
        insert into public.job_events (job_id, status, progress, level, message, worker)
        select r.id, 'pending', r.progress, 'warning', 'released by a stopping worker', worker from released r
    )
    select count(*) into n from released;
    return n;
end;
$$;

-- Daemons call this on start and with every heartbeat, so health checks can list who is alive.
create or replace function public.worker_seen(worker text, info jsonb default '{}'::jsonb) returns void
language sql as $$
    insert into public.job_workers as w (worker, info) values (worker, coalesce(info, '{}'::jsonb))
    on conflict (worker) do update set last_seen_at = now(), info = excluded.info;
$$;

-- A request refused before it could run (an unreadable file dropped in the watch folder, say): recorded as a
-- failed job with its history row, so it shows wherever every other outcome shows.
create or replace function public.reject_job(
    kind text, params jsonb, error text, dedupe_key text default null, requested_by text default null,
    data jsonb default null
) returns uuid
language plpgsql as $$
declare
    new_id uuid;
begin
    insert into public.job_requests (kind, params, status, error, dedupe_key, requested_by, max_attempts, finished_at)
    values (reject_job.kind, coalesce(reject_job.params, '{}'::jsonb), 'failed', reject_job.error,
            reject_job.dedupe_key, reject_job.requested_by, 1, now())
    returning id into new_id;
    insert into public.job_events (job_id, status, level, message, data)
    values (new_id, 'failed', 'error', reject_job.error, reject_job.data);
    return new_id;
end;
$$;
