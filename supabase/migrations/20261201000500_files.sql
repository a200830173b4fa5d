-- The data plane: every input and output file lives in the database, so any daemon on any host can run any
-- job. Content is stored once by its SHA-256 (`files`); every upload of it is a `file_versions` row (name,
-- what it is an input for, who, when, from where). Which versions are the league's current inputs is data
-- too: per slot (the league workbook; per game and format one tracker file) the newest version wins unless an
-- admin pinned an older one (`input_pins`, read through current_inputs()). ETL runs are recorded in `etl_runs` with their inputs and the
-- archive of their output tables, so an upload on any host loads exactly the run it names.

create table if not exists public.files (
    sha256     text primary key check (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint not null check (size >= 0),
    media_type text not null,
    content    bytea not null,
    created_at timestamptz not null default now()
);

create table if not exists public.file_versions (
    id          bigint generated always as identity primary key,
    sha256      text not null references public.files (sha256),
    name        text not null check (length(name) between 1 and 255),
    role        text not null check (role in ('league_workbook', 'tracker', 'etl_output', 'table_csv')),
    game_id     bigint,
    format      text check (format in ('xlsx', 'json', 'tar.gz', 'csv')),
    uploaded_by text,
    uploaded_at timestamptz not null default clock_timestamp(),
    source      text not null default 'api' check (source in ('api', 'watch', 'cli', 'raw', 'etl')),
    check (role <> 'tracker' or (game_id is not null and format in ('xlsx', 'json')))
);

create index if not exists file_versions_sha_idx on public.file_versions (sha256);
create index if not exists file_versions_slot_idx on public.file_versions (role, game_id, format, uploaded_at desc, id desc);

-- The input slot of a version: 'league' for the league workbook, 'tracker:<game>:<format>' for a tracker file
-- (a JSON export and a workbook of the same game are both inputs: the ETL reconciles them); none for outputs.
create or replace function public.input_slot(role text, game_id bigint, format text) returns text
language sql immutable as $$
    select case role when 'league_workbook' then 'league'
                     when 'tracker' then 'tracker:' || game_id || ':' || format end
$$;

create table if not exists public.input_pins (
    slot       text primary key,
    version_id bigint not null references public.file_versions (id),
    pinned_by  text,
    pinned_at  timestamptz not null default now()
);

-- The current inputs: per slot the pinned version, else the newest upload. A function, not a view: the public
-- schema's views are the dashboard's (sql/views/), which the upload re-creates and checks.
create or replace function public.current_inputs()
returns table (slot text, version_id bigint, sha256 text, name text, role text, game_id bigint, format text,
               size bigint, uploaded_by text, uploaded_at timestamptz, source text, pinned boolean)
language sql stable as $$
    with newest as (
        select distinct on (public.input_slot(v.role, v.game_id, v.format))
               public.input_slot(v.role, v.game_id, v.format) as slot, v.id
        from public.file_versions v
        where v.role in ('league_workbook', 'tracker')
        order by public.input_slot(v.role, v.game_id, v.format), v.uploaded_at desc, v.id desc
    )
    select n.slot, v.id, v.sha256, v.name, v.role, v.game_id, v.format, f.size, v.uploaded_by,
           v.uploaded_at, v.source, (p.slot is not null)
    from newest n
    left join public.input_pins p on p.slot = n.slot
    join public.file_versions v on v.id = coalesce(p.version_id, n.id)
    join public.files f on f.sha256 = v.sha256
$$;

-- Store content (once per hash; the hash is checked here, so a client writing directly cannot store bytes
-- under another file's name) and record this upload of it. Returns the version id.
create or replace function public.put_file(
    sha256 text, content bytea, name text, role text, media_type text default 'application/octet-stream',
    game_id bigint default null, format text default null, uploaded_by text default null, source text default 'api'
) returns bigint
language plpgsql as $$
declare
    version bigint;
begin
    if content is not null then
        if encode(sha256(content), 'hex') <> put_file.sha256 then
            raise exception 'file %: content does not match sha256 %', put_file.name, put_file.sha256
                using errcode = '22023';
        end if;
        insert into public.files (sha256, size, media_type, content)
        values (put_file.sha256, length(content), coalesce(media_type, 'application/octet-stream'), content)
        on conflict on constraint files_pkey do nothing;
    elsif not exists (select 1 from public.files f where f.sha256 = put_file.sha256) then
        raise exception 'file %: no content stored under sha256 %', put_file.name, put_file.sha256
            using errcode = '22023';
    end if;
    insert into public.file_versions (sha256, name, role, game_id, format, uploaded_by, source)
    values (put_file.sha256, put_file.name, put_file.role, put_file.game_id, put_file.format,
            put_file.uploaded_by, put_file.source)
    returning id into version;
    return version;
end;
$$;

-- Pin a version as its slot's current input (an admin bringing an older file back), or unpin the slot.
create or replace function public.pin_input(version_id bigint, pinned_by text default null) returns text
language plpgsql as $$
declare
    the_slot text;
begin
    select public.input_slot(v.role, v.game_id, v.format) into the_slot
    from public.file_versions v where v.id = pin_input.version_id;
    if the_slot is null then
        raise exception 'file version % is not an input (league workbook or tracker file)', version_id
            using errcode = '22023';
    end if;
    insert into public.input_pins (slot, version_id, pinned_by) values (the_slot, pin_input.version_id, pinned_by)
    on conflict (slot) do update set version_id = excluded.version_id, pinned_by = excluded.pinned_by,
                                     pinned_at = now();
    return the_slot;
end;
$$;

create or replace function public.unpin_input(slot text) returns boolean
language sql as $$
    with gone as (delete from public.input_pins p where p.slot = unpin_input.slot returning 1)
    select exists (select 1 from gone)
$$;

create table if not exists public.etl_runs (
    id             bigint generated always as identity primary key,
    job_id         uuid,
    worker         text,
    status         text not null default 'running' check (status in ('running', 'ok', 'partial', 'failed')),
    started_at     timestamptz not null default now(),
    finished_at    timestamptz,
    inputs         jsonb not null default '[]'::jsonb,
    manifest       jsonb,
    games          jsonb,
    timings        jsonb,
    output_sha256  text references public.files (sha256)
);

create index if not exists etl_runs_newest_idx on public.etl_runs (started_at desc, id desc);

-- The daemon's alone: the API reads and writes them with the service role (RLS on, no client policy).
alter table public.files enable row level security;
alter table public.file_versions enable row level security;
alter table public.input_pins enable row level security;
alter table public.etl_runs enable row level security;
revoke all on public.files, public.file_versions, public.input_pins, public.etl_runs
    from public, anon, authenticated;
grant all on public.files, public.file_versions, public.input_pins, public.etl_runs to service_role;

do $$
declare
    f regprocedure;
begin
    for f in
        select p.oid::regprocedure from pg_proc p
        where p.pronamespace = 'public'::regnamespace
          and p.proname in ('put_file', 'pin_input', 'unpin_input', 'current_inputs')
    loop
        execute format('revoke all on function %s from public, anon, authenticated', f);
        execute format('grant execute on function %s to service_role', f);
    end loop;
end;
$$;
