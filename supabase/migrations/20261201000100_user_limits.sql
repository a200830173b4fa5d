-- What a signed-in user may ask of the queue, decided here so that the REST API and a portal inserting rows
-- directly (supabase-js, PostgREST) obey one definition:
--   * jobs that destroy warehouse or staging data (job_needs_admin) are for admins only;
--   * a user's job runs at the default priority or lower, with at most the default 3 attempts, within a day,
--     with params of at most 512 KiB (a job row travels whole in one 1 MiB Realtime message);
--   * a user's dedupe_key is scoped to the user ('user:<uid>:<key>'), so a user can neither squat the API's
--     deterministic keys (blocking everyone's ETL) nor receive another user's job as the "active twin".
-- Admins (app_metadata.role = 'admin') and the daemon's own connections are not limited.

-- Which requests only an admin may make, from kind and params: applying the schema (drops every warehouse
-- table), and staging a league table with replace (the default: empties the staged rows first).
create or replace function public.job_needs_admin(kind text, params jsonb) returns boolean
language sql immutable as $$
    select case job_needs_admin.kind
        when 'schema' then coalesce(job_needs_admin.params ->> 'apply', 'false') = 'true'
        when 'staging_blb' then coalesce(job_needs_admin.params ->> 'replace', 'true') = 'true'
        else false
    end;
$$;
comment on function public.job_needs_admin(text, jsonb) is
    'true for requests only an admin may make: schema with apply, staging_blb with replace (the default)';
grant execute on function public.job_needs_admin(text, jsonb) to authenticated, service_role;

create or replace function public.job_user_dedupe_key(key text) returns text
language sql stable as $$
    select case
        when key is null then null
        when key like 'user:' || (select auth.uid())::text || ':%' then key
        else 'user:' || (select auth.uid())::text || ':' || key
    end;
$$;
grant execute on function public.job_user_dedupe_key(text) to authenticated, service_role;

create or replace function public.job_requests_user_limits() returns trigger
language plpgsql as $$
begin
    if public.jwt_is_admin() then
        return new;
    end if;
    if new.priority > 0 then
        raise exception 'priority % is not allowed: a user''s job runs at priority 0 or lower', new.priority
            using errcode = 'check_violation', column = 'priority';
    end if;
    if new.max_attempts > 3 then
        raise exception 'max_attempts % is not allowed: at most 3 for a user''s job', new.max_attempts
            using errcode = 'check_violation', column = 'max_attempts';
    end if;
    if new.run_after > now() + interval '1 day' then
        raise exception 'run_after % is not allowed: a user''s job runs within a day', new.run_after
            using errcode = 'check_violation', column = 'run_after';
    end if;
    if octet_length(new.params::text) > 512 * 1024 then
        raise exception 'params of % bytes are too large: at most 512 KiB', octet_length(new.params::text)
            using errcode = 'program_limit_exceeded', column = 'params';
    end if;
    new.dedupe_key := public.job_user_dedupe_key(new.dedupe_key);
    return new;
end;
$$;

-- Named to fire after job_requests_stamp_requester (BEFORE triggers run in name order). Only sessions acting
-- as a client role are limited; the daemon, CLI and API connect as the owner or service_role.
drop trigger if exists job_requests_user_limits on public.job_requests;
create trigger job_requests_user_limits before insert on public.job_requests
    for each row
    when (current_user in ('authenticated', 'anon'))
    execute function public.job_requests_user_limits();

-- The insert policy of 20261129000500_security.sql, plus: a request only an admin may make needs the admin claim.
drop policy if exists job_requests_insert_own on public.job_requests;
create policy job_requests_insert_own on public.job_requests for insert to authenticated
    with check (
        requested_by = (select auth.uid())::text
        and exists (select 1 from public.job_kinds k
                    where k.kind = job_requests.kind and (k.user_allowed or (select public.jwt_is_admin())))
        and (not public.job_needs_admin(job_requests.kind, job_requests.params) or (select public.jwt_is_admin()))
    );

-- enqueue_job as in 20261129000200_job_functions.sql, but a limited caller's twin is looked up under the key
-- the trigger above stored (the user-scoped one).
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
    key text := case when current_user in ('authenticated', 'anon') and not public.jwt_is_admin()
                     then public.job_user_dedupe_key(enqueue_job.dedupe_key) else enqueue_job.dedupe_key end;
begin
    for i in 1..3 loop
        insert into public.job_requests as j (kind, params, priority, run_after, dedupe_key, max_attempts, requested_by)
        values (enqueue_job.kind, coalesce(enqueue_job.params, '{}'::jsonb), coalesce(enqueue_job.priority, 0),
                coalesce(enqueue_job.run_after, now()), key,
                coalesce(enqueue_job.max_attempts, 3), enqueue_job.requested_by)
        on conflict (dedupe_key)
            where dedupe_key is not null and status in ('pending', 'running', 'processing', 'uploading')
            do nothing
        returning * into job;
        if found then
            return job;
        end if;
        select * into job from public.job_requests j
        where j.dedupe_key = key
          and j.status in ('pending', 'running', 'processing', 'uploading');
        if found then
            return job;
        end if;
        -- the active twin ended between the two statements: try the insert again
    end loop;
    raise exception 'enqueue_job: could not insert or find job with dedupe_key %', key;
end;
$$;
