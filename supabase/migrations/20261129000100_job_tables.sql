-- The job contract, part 1: the tables.
-- Clients (portal via supabase-js, the REST API, scripts) insert into job_requests; daemons claim and run
-- the rows through the functions in 20261129000200_job_functions.sql. Every state change lands in job_events.

create schema if not exists supabase_migrations;

-- Known job kinds. A lookup table rather than a CHECK so a later migration adds a kind with one insert.
-- exclusive_group: at most one active job per group across all daemons (e.g. the warehouse writers).
create table if not exists public.job_kinds (
    kind            text primary key,
    description     text not null default '',
    exclusive_group text
);

insert into public.job_kinds (kind, description, exclusive_group) values
    ('sleep', 'test and smoke job: sleeps params.seconds, fails when params.fail', null),
    ('etl', 'build the warehouse tables from the league workbook and tracker files', 'warehouse'),
    ('upload', 'load output tables into PostgreSQL', 'warehouse'),
    ('schema', 'generate (and optionally apply) the warehouse schema', 'warehouse'),
    ('validate', 'check the output tables or the database', null),
    ('staging_blb', 'load a league table into its staging table', null),
    ('staging_tracking', 'store a tracker file and stage its events and shifts', null)
on conflict (kind) do nothing;

create table if not exists public.job_requests (
    id               uuid primary key default gen_random_uuid(),
    kind             text not null references public.job_kinds (kind),
    params           jsonb not null default '{}'::jsonb check (jsonb_typeof(params) = 'object'),
    status           text not null default 'pending' check (status in
                        ('pending', 'running', 'processing', 'uploading', 'completed', 'failed', 'cancelled')),
    priority         integer not null default 0,
    progress         smallint not null default 0 check (progress between 0 and 100),
    current_step     text,
    result           jsonb,
    error            text,
    attempts         integer not null default 0 check (attempts >= 0),
    max_attempts     integer not null default 3 check (max_attempts >= 1),
    run_after        timestamptz not null default now(),
    dedupe_key       text,
    locked_by        text,
    locked_until     timestamptz,
    cancel_requested boolean not null default false,
    requested_by     text,
    created_at       timestamptz not null default now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz not null default now()
);

-- Serves exactly the claim query: pending rows in priority desc, run_after, created_at order.
create index if not exists job_requests_claim_idx
    on public.job_requests (priority desc, run_after, created_at)
    where status = 'pending';

-- Finds running jobs whose daemon died (lease expired).
create index if not exists job_requests_lease_idx
    on public.job_requests (locked_until)
    where status in ('running', 'processing', 'uploading');

-- One active job per dedupe key; ended jobs keep their key for history.
create unique index if not exists job_requests_dedupe_active_idx
    on public.job_requests (dedupe_key)
    where dedupe_key is not null and status in ('pending', 'running', 'processing', 'uploading');

create index if not exists job_requests_created_idx on public.job_requests (created_at desc, id desc);
create index if not exists job_requests_kind_status_idx on public.job_requests (kind, status);

create table if not exists public.job_events (
    id       bigint generated always as identity primary key,
    job_id   uuid not null references public.job_requests (id) on delete cascade,
    at       timestamptz not null default clock_timestamp(),
    status   text not null,
    progress smallint,
    step     text,
    level    text not null default 'info' check (level in ('debug', 'info', 'warning', 'error')),
    message  text,
    worker   text,
    data     jsonb
);

create index if not exists job_events_job_idx on public.job_events (job_id, id);

-- Daemons announce themselves so health checks can say who is alive.
create table if not exists public.job_workers (
    worker       text primary key,
    started_at   timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    info         jsonb not null default '{}'::jsonb
);

create or replace function public.job_requests_touch() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end;
$$;

drop trigger if exists job_requests_touch on public.job_requests;
create trigger job_requests_touch before update on public.job_requests
    for each row execute function public.job_requests_touch();

-- Wake-up: a job that becomes pending (insert or retry) is announced with its id only (small payload).
create or replace function public.job_requests_notify_pending() returns trigger
language plpgsql as $$
begin
    if new.status = 'pending' and (tg_op = 'INSERT' or old.status is distinct from 'pending') then
        perform pg_notify('job_requests', new.id::text);
    end if;
    return null;
end;
$$;

drop trigger if exists job_requests_notify_pending on public.job_requests;
create trigger job_requests_notify_pending after insert or update of status on public.job_requests
    for each row execute function public.job_requests_notify_pending();

-- An insert by a client that does not use enqueue_job() still gets a history row.
create or replace function public.job_requests_record_insert() returns trigger
language plpgsql as $$
begin
    insert into public.job_events (job_id, status, progress, message, data)
    select n.id, n.status, n.progress, 'created', jsonb_build_object('requested_by', n.requested_by)
    from new_rows n;
    return null;
end;
$$;

drop trigger if exists job_requests_record_insert on public.job_requests;
create trigger job_requests_record_insert after insert on public.job_requests
    referencing new table as new_rows
    for each statement execute function public.job_requests_record_insert();
