-- Security for the job contract: Supabase roles, row-level security on the job tables, the API key table and
-- the realtime publication. Applies on Supabase (roles, auth helpers and publication already there) and on
-- plain PostgreSQL 15+ (the missing pieces are created). Who may do what:
--   anon           nothing on the job tables.
--   authenticated  reads job_kinds; inserts job requests of user_allowed kinds as itself (requested_by is its
--                  auth.uid()); reads its own requests and their events; cancels its own requests through
--                  request_cancel_as_user(). A JWT with app_metadata.role = 'admin' reads and cancels all
--                  requests, reads job_workers and may insert any kind.
--   service_role   the daemon: bypasses RLS and may run every job function.
-- The table owner (the migrating user) keeps full access, as the daemon normally connects as it.

-- Roles are cluster-wide and several databases may be migrated at once on one server: create each only when
-- missing and accept losing the race to a concurrent creator.
do $$
declare
    r record;
begin
    for r in select * from (values ('anon', false), ('authenticated', false), ('service_role', true)) v(name, bypass)
    loop
        continue when exists (select 1 from pg_roles where rolname = r.name);
        begin
            execute format('create role %I nologin noinherit%s', r.name,
                           case when r.bypass then ' bypassrls' else '' end);
        exception
            when duplicate_object or unique_violation then
                null; -- created meanwhile by another session
            when insufficient_privilege then
                -- BYPASSRLS needs a superuser; service_role then relies on its explicit policies below
                execute format('create role %I nologin noinherit', r.name);
                raise notice 'role % created without BYPASSRLS (not a superuser)', r.name;
        end;
    end loop;
end;
$$;

-- Supabase's auth.uid() and auth.jwt() read the claims PostgREST puts in request.jwt.claims. On plain
-- PostgreSQL the same definitions are created; Supabase's own are never replaced.
do $$
begin
    if to_regprocedure('auth.jwt()') is null or to_regprocedure('auth.uid()') is null then
        create schema if not exists auth;
        grant usage on schema auth to anon, authenticated, service_role;
    end if;
    if to_regprocedure('auth.jwt()') is null then
        create function auth.jwt() returns jsonb
        language sql stable as $f$
            select coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                            nullif(current_setting('request.jwt.claims', true), ''))::jsonb
        $f$;
        grant execute on function auth.jwt() to anon, authenticated, service_role;
    end if;
    if to_regprocedure('auth.uid()') is null then
        create function auth.uid() returns uuid
        language sql stable as $f$
            select coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                            nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid
        $f$;
        grant execute on function auth.uid() to anon, authenticated, service_role;
    end if;
end;
$$;

-- The admin claim lives in app_metadata, which only the service role can write (user_metadata is
-- user-editable and must never grant anything).
create or replace function public.jwt_is_admin() returns boolean
language sql stable as $$
    select coalesce((select auth.jwt()) -> 'app_metadata' ->> 'role' = 'admin', false);
$$;

-- Which kinds a signed-in user may request. New kinds are closed until a migration opens them.
alter table public.job_kinds add column if not exists user_allowed boolean not null default false;
update public.job_kinds set user_allowed = true
where kind in ('etl', 'upload', 'schema', 'validate', 'staging_blb', 'staging_tracking');

-- A signed-in user's request is stamped with its uid when the client leaves requested_by empty (supabase-js
-- inserts and enqueue_job without requested_by); the insert policy then checks the stamp. The WHEN clause
-- keeps the daemon's and CLI's inserts (no JWT claims) from calling the function at all.
create or replace function public.job_requests_stamp_requester() returns trigger
language plpgsql as $$
begin
    new.requested_by := (select auth.uid())::text;
    return new;
end;
$$;

drop trigger if exists job_requests_stamp_requester on public.job_requests;
create trigger job_requests_stamp_requester before insert on public.job_requests
    for each row
    when (new.requested_by is null
          and coalesce(nullif(current_setting('request.jwt.claims', true), ''),
                       nullif(current_setting('request.jwt.claim.sub', true), '')) is not null)
    execute function public.job_requests_stamp_requester();

-- The creation history row is written for the inserting client, who has no insert right on job_events.
alter function public.job_requests_record_insert() security definer set search_path = public, pg_temp;

-- Row-level security. Policies are dropped first so the file can be re-applied by hand.
alter table public.job_kinds enable row level security;
alter table public.job_requests enable row level security;
alter table public.job_events enable row level security;
alter table public.job_workers enable row level security;

revoke all on public.job_kinds, public.job_requests, public.job_events, public.job_workers
    from public, anon, authenticated;
grant all on public.job_kinds, public.job_requests, public.job_events, public.job_workers to service_role;
grant select on public.job_kinds to authenticated;
grant select on public.job_requests, public.job_events, public.job_workers to authenticated;
-- only the columns a client chooses; status, attempts, locks and results stay the daemon's
grant insert (kind, params, priority, run_after, dedupe_key, max_attempts, requested_by)
    on public.job_requests to authenticated;

drop policy if exists job_kinds_read on public.job_kinds;
create policy job_kinds_read on public.job_kinds for select to authenticated using (true);

drop policy if exists job_requests_read_own on public.job_requests;
create policy job_requests_read_own on public.job_requests for select to authenticated
    using (requested_by = (select auth.uid())::text or (select public.jwt_is_admin()));

drop policy if exists job_requests_insert_own on public.job_requests;
create policy job_requests_insert_own on public.job_requests for insert to authenticated
    with check (
        requested_by = (select auth.uid())::text
        and exists (select 1 from public.job_kinds k
                    where k.kind = job_requests.kind and (k.user_allowed or (select public.jwt_is_admin())))
    );

-- job_requests' own policy decides which jobs the subquery sees
drop policy if exists job_events_read_own on public.job_events;
create policy job_events_read_own on public.job_events for select to authenticated
    using (exists (select 1 from public.job_requests j where j.id = job_events.job_id));

drop policy if exists job_workers_read_admin on public.job_workers;
create policy job_workers_read_admin on public.job_workers for select to authenticated
    using ((select public.jwt_is_admin()));

-- service_role has BYPASSRLS on Supabase and when created above; these keep it working where it does not.
drop policy if exists job_kinds_service on public.job_kinds;
create policy job_kinds_service on public.job_kinds to service_role using (true) with check (true);
drop policy if exists job_requests_service on public.job_requests;
create policy job_requests_service on public.job_requests to service_role using (true) with check (true);
drop policy if exists job_events_service on public.job_events;
create policy job_events_service on public.job_events to service_role using (true) with check (true);
drop policy if exists job_workers_service on public.job_workers;
create policy job_workers_service on public.job_workers to service_role using (true) with check (true);

-- Cancelling by a signed-in user: request_cancel() stays the daemon's, API's and CLI's (no caller check);
-- request_cancel_as_user() checks the caller's claims first and runs as owner, so a user needs no update
-- right on job_requests. A job the caller may not see answers null, exactly like a missing one.
create or replace function public.request_cancel_as_user(job_id uuid) returns text
language plpgsql security definer set search_path = public, pg_temp as $$
begin
    if not exists (
        select 1 from public.job_requests j
        where j.id = request_cancel_as_user.job_id
          and (j.requested_by = (select auth.uid())::text or public.jwt_is_admin())
    ) then
        return null;
    end if;
    return public.request_cancel(request_cancel_as_user.job_id);
end;
$$;

-- Functions: PostgreSQL (and Supabase's default privileges) let everyone execute new functions. The job
-- functions are the daemon's; a signed-in user gets enqueue_job (RLS applies, it runs as the caller) and
-- request_cancel_as_user (checked above).
do $$
declare
    f regprocedure;
begin
    for f in
        select p.oid::regprocedure from pg_proc p
        where p.pronamespace = 'public'::regnamespace
          and p.proname in ('job_retry_delay', 'enqueue_job', 'reclaim_expired_jobs', 'start_claimed_jobs',
                            'claim_jobs', 'heartbeat_jobs', 'heartbeat_job', 'report_progress', 'finish_jobs',
                            'finish_job', 'request_cancel', 'request_cancel_as_user', 'release_jobs',
                            'worker_seen', 'reject_job')
    loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;
grant execute on function public.enqueue_job(text, jsonb, integer, timestamptz, text, integer, text) to authenticated;
grant execute on function public.request_cancel_as_user(uuid) to authenticated;
grant execute on function public.jwt_is_admin() to authenticated, service_role;
revoke all on function public.jwt_is_admin() from public, anon;

-- API keys for the REST API: only a hash is stored (see daemon/apikeys.py); nobody but the owner and
-- service_role reads the table (RLS on, no policy for clients).
create table if not exists public.api_keys (
    id           bigint generated always as identity primary key,
    name         text not null default '',
    prefix       text not null unique,
    hash         text not null,
    scopes       text[] not null check (cardinality(scopes) > 0
                                        and scopes <@ array['jobs:read', 'jobs:write', 'admin']),
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

alter table public.api_keys enable row level security;
revoke all on public.api_keys from public, anon, authenticated;
grant all on public.api_keys to service_role;
drop policy if exists api_keys_service on public.api_keys;
create policy api_keys_service on public.api_keys to service_role using (true) with check (true);

-- Dashboards get row changes through Supabase Realtime (which applies the select policies above); on plain
-- PostgreSQL the publication does not exist and nothing happens.
do $$
declare
    t text;
begin
    -- a FOR ALL TABLES publication already carries them
    if not exists (select 1 from pg_publication where pubname = 'supabase_realtime' and not puballtables) then
        return;
    end if;
    foreach t in array array['job_requests', 'job_events', 'job_workers'] loop
        if not exists (select 1 from pg_publication_tables
                       where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = t) then
            execute format('alter publication supabase_realtime add table public.%I', t);
        end if;
    end loop;
end;
$$;
