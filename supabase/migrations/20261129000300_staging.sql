-- Staging and warehouse bookkeeping.
-- Tracker files are staged per game (staging_tracking job): the canonical events, event players, shifts and
-- shift players the ETL's readers produce, replaced per game. League sheets are staged by the staging_blb job
-- into stage_<sheet> tables (row_no, data jsonb) that the job creates on first use for the sheets the ETL
-- reads. warehouse_loads records every upload that swapped tables in (what a dashboard shows as "refreshed").

create table if not exists public.stage_tracking_files (
    game_id    bigint primary key,
    file       text not null,              -- relative to the data dir, under raw/tracking/
    sha256     text not null,
    format     text not null,              -- the reader's layout: workbook-derived, workbook-slim, json-25.0, ...
    events     integer not null,
    shifts     integer not null,
    issues     integer not null default 0,
    job_id     uuid,
    staged_at  timestamptz not null default now()
);

create table if not exists public.stage_events (
    game_id         bigint not null,
    event_id        bigint not null,
    period          bigint,
    clock_start_s   double precision,
    clock_end_s     double precision,
    event_type      text,
    event_detail    text,
    event_detail_2  text,
    success         boolean,
    team_venue      text,
    zone            text,
    linked_event_id bigint,
    strength        text,
    puck_x          double precision,
    puck_y          double precision,
    source_row      bigint,
    primary key (game_id, event_id)
);

create table if not exists public.stage_event_players (
    game_id       bigint not null,
    event_id      bigint not null,
    seq           bigint not null,
    side          text,
    role_number   bigint,
    team_venue    text,
    jersey        bigint,
    play_detail_1 text,
    play_detail_2 text,
    play_success  text,
    player_id     text,
    source_row    bigint,
    primary key (game_id, event_id, seq)
);

create table if not exists public.stage_shifts (
    game_id       bigint not null,
    shift_id      bigint not null,
    period        bigint,
    clock_start_s double precision,
    clock_end_s   double precision,
    start_type    text,
    stop_type     text,
    source_row    bigint,
    primary key (game_id, shift_id)
);

create table if not exists public.stage_shift_players (
    game_id    bigint not null,
    shift_id   bigint not null,
    team_venue text not null,
    slot       text not null,
    jersey     bigint,
    player_id  text
);
create index if not exists stage_shift_players_game_idx on public.stage_shift_players (game_id, shift_id);

create table if not exists public.warehouse_loads (
    id        bigint generated always as identity primary key,
    job_id    uuid,
    db_schema text not null,
    tables    jsonb not null,                -- {table: rows}
    rows      bigint not null,
    loaded_at timestamptz not null default now()
);
create index if not exists warehouse_loads_at_idx on public.warehouse_loads (loaded_at desc);
