-- Retention: finished jobs and their history are pruned after their retention, in small batches, by one
-- daemon at a time (River's job cleaner, Oban's pruner, procrastinate's delete_old_jobs do the same).
--
-- What goes is defined once, in prunable_jobs(); prune_jobs() deletes one batch of it per call (each call is
-- its own short transaction, so no lock is held across batches and nothing rewrites the table);
-- prune_lease() decides which daemon runs the pruner (a lease row: works behind any pooler, and a second
-- daemon neither duplicates the work nor waits for it); prune_runs keeps the last runs for /api/health/db.

-- Serves "oldest finished first": the pruner's scan and the health check's oldest finished job.
create index if not exists job_requests_finished_idx
    on public.job_requests (finished_at)
    where status in ('completed', 'failed', 'cancelled');

-- Serves "the newest N ETL runs" (kept whatever their age, so history pages never go empty).
create index if not exists job_requests_kind_created_idx
    on public.job_requests (kind, created_at desc);

-- The ended jobs past their retention. An interval of 0 (or null) keeps that class forever. The newest
-- keep_etl_runs ended ETL jobs are never prunable. Pending and running jobs never are.
create or replace function public.prunable_jobs(
    completed_after interval, failed_after interval, keep_etl_runs integer default 20
) returns table (id uuid, kind text, status text, finished_at timestamptz)
language sql stable as $$
    with kept_etl as (
        select k.id from public.job_requests k
        where k.kind = 'etl' and k.status in ('completed', 'failed', 'cancelled')
        order by k.created_at desc
        limit greatest(coalesce(keep_etl_runs, 0), 0)
    )
    select j.id, j.kind, j.status, j.finished_at
    from public.job_requests j
    where j.status in ('completed', 'failed', 'cancelled')
      and ((j.status in ('completed', 'cancelled') and coalesce(completed_after, interval '0') > interval '0'
            and j.finished_at < now() - completed_after)
        or (j.status = 'failed' and coalesce(failed_after, interval '0') > interval '0'
            and j.finished_at < now() - failed_after))
      and j.id not in (select kept_etl.id from kept_etl)
    order by j.finished_at
$$;

-- Deletes at most `batch` prunable jobs with their events; returns what went. Call it again until it returns
-- zero jobs: each call is one short transaction. Rows another session holds are skipped, not waited for.
create or replace function public.prune_jobs(
    completed_after interval, failed_after interval, batch integer default 1000, keep_etl_runs integer default 20
) returns table (jobs integer, events integer)
language plpgsql as $$
declare
    ids uuid[];
begin
    select coalesce(array_agg(l.id), '{}') into ids
    from (select j.id from public.job_requests j
          where j.id in (select p.id from public.prunable_jobs(completed_after, failed_after, keep_etl_runs) p
                         limit greatest(batch, 1))
            and j.status in ('completed', 'failed', 'cancelled')
          for update of j skip locked) l;
    if cardinality(ids) = 0 then
        return query select 0, 0;
        return;
    end if;
    return query
    with gone_events as (
        delete from public.job_events e where e.job_id = any(ids) returning 1
    ), gone_jobs as (
        delete from public.job_requests j where j.id = any(ids) returning 1
    )
    select (select count(*)::int from gone_jobs), (select count(*)::int from gone_events);
end;
$$;

-- What a prune would delete, by kind and status (benchsight prune --dry-run).
create or replace function public.prune_preview(
    completed_after interval, failed_after interval, keep_etl_runs integer default 20
) returns table (kind text, status text, jobs bigint, events bigint, oldest timestamptz, newest timestamptz)
language sql stable as $$
    select p.kind, p.status, count(*), sum((select count(*) from public.job_events e where e.job_id = p.id))::bigint,
           min(p.finished_at), max(p.finished_at)
    from public.prunable_jobs(completed_after, failed_after, keep_etl_runs) p
    group by p.kind, p.status
    order by p.kind, p.status
$$;

-- One row per maintenance task: who runs it and until when. prune_lease(worker, every) answers true to the
-- first daemon whose call finds the lease free (never taken, or expired) and to the holder renewing it; every
-- other caller gets false at once (no waiting: the upsert touches one row).
create table if not exists public.maintenance_leases (
    task        text primary key,
    worker      text not null,
    started_at  timestamptz not null default now(),
    leased_until timestamptz not null
);

create or replace function public.prune_lease(worker text, every interval) returns boolean
language plpgsql as $$
declare
    won boolean;
begin
    insert into public.maintenance_leases as l (task, worker, started_at, leased_until)
    values ('prune', prune_lease.worker, now(), now() + every)
    on conflict (task) do update
        set worker = excluded.worker, leased_until = excluded.leased_until,
            started_at = case when l.worker = excluded.worker and l.leased_until > now()
                              then l.started_at else excluded.started_at end
        where l.leased_until <= now() or l.worker = excluded.worker
    returning true into won;
    return coalesce(won, false);
end;
$$;

-- The record of each prune (the newest 100 are kept), shown by /api/health/db.
create table if not exists public.prune_runs (
    id          bigint generated always as identity primary key,
    worker      text not null,
    started_at  timestamptz not null,
    finished_at timestamptz not null default now(),
    jobs        integer not null,
    events      integer not null,
    batches     integer not null,
    settings    jsonb not null default '{}'::jsonb
);

create or replace function public.record_prune(
    worker text, started_at timestamptz, jobs integer, events integer, batches integer, settings jsonb
) returns void
language sql as $$
    insert into public.prune_runs (worker, started_at, jobs, events, batches, settings)
    values (worker, started_at, jobs, events, batches, coalesce(settings, '{}'::jsonb));
    delete from public.prune_runs where id <= (select max(id) - 100 from public.prune_runs);
$$;

-- The daemon's alone: no client reads or calls any of it (RLS on, no policy; functions revoked).
alter table public.maintenance_leases enable row level security;
alter table public.prune_runs enable row level security;
revoke all on public.maintenance_leases, public.prune_runs from public, anon, authenticated;
grant all on public.maintenance_leases, public.prune_runs to service_role;

do $$
declare
    f regprocedure;
begin
    for f in
        select p.oid::regprocedure from pg_proc p
        where p.pronamespace = 'public'::regnamespace
          and p.proname in ('prunable_jobs', 'prune_jobs', 'prune_preview', 'prune_lease', 'record_prune')
    loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;
