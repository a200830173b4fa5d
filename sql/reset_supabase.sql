-- Generated from etl/catalog.py by the `schema` job (etl/schema_sql.py). Do not edit by hand.
-- Drops and re-creates every warehouse table (the data is lost; run an upload afterwards).
begin;
create schema if not exists "public";

-- dim dim_league: Leagues (from the league workbook).
drop table if exists "public"."dim_league" cascade;
create table "public"."dim_league" (
    "league_id" text not null,
    "league_name" text,
    constraint "dim_league_pkey" primary key ("league_id")
);
select public.warehouse_access('"public"."dim_league"', true);

-- dim dim_season: Seasons (from the league workbook).
--   league_id references dim_league(league_id) (checked by the validate job)
drop table if exists "public"."dim_season" cascade;
create table "public"."dim_season" (
    "season_id" text not null,
    "season" bigint,
    "session" text,
    "league_id" text,
    "start_date" date,
    constraint "dim_season_pkey" primary key ("season_id")
);
select public.warehouse_access('"public"."dim_season"', true);

-- dim dim_team: Teams (from the league workbook).
--   league_id references dim_league(league_id) (checked by the validate job)
drop table if exists "public"."dim_team" cascade;
create table "public"."dim_team" (
    "team_id" text not null,
    "team_name" text,
    "long_team_name" text,
    "team_code" text,
    "league_id" text,
    "color_primary" text,
    "color_secondary" text,
    "logo_url" text,
    "team_url" text,
    constraint "dim_team_pkey" primary key ("team_id")
);
select public.warehouse_access('"public"."dim_team"', true);

-- dim dim_player: Players (from the league workbook). anonymised_name is the workbook's random name.
drop table if exists "public"."dim_player" cascade;
create table "public"."dim_player" (
    "player_id" text not null,
    "full_name" text,
    "first_name" text,
    "last_name" text,
    "primary_position" text,
    "skill_rating" bigint,
    "current_team_id" text,
    "anonymised_name" text,
    "player_url" text,
    "image_url" text,
    constraint "dim_player_pkey" primary key ("player_id")
);
select public.warehouse_access('"public"."dim_player"', true);

-- dim dim_schedule: Games as the league schedule lists them (official totals as written in the schedule).
--   season_id references dim_season(season_id) (checked by the validate job)
--   home_team_id references dim_team(team_id) (checked by the validate job)
--   away_team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."dim_schedule" cascade;
create table "public"."dim_schedule" (
    "game_id" bigint not null,
    "season_id" text,
    "date" date,
    "game_time" text,
    "home_team_id" text,
    "away_team_id" text,
    "home_team_name" text,
    "away_team_name" text,
    "game_type" text,
    "playoff_round" text,
    "last_period_type" text,
    "home_total_goals" bigint,
    "away_total_goals" bigint,
    "game_url" text,
    constraint "dim_schedule_pkey" primary key ("game_id")
);
select public.warehouse_access('"public"."dim_schedule"', true);

-- dim dim_event_type: Tracker event types (workbook vocabulary).
drop table if exists "public"."dim_event_type" cascade;
create table "public"."dim_event_type" (
    "event_type_id" text not null,
    "event_type_code" text,
    "event_type_name" text,
    "event_category" text,
    "description" text,
    "is_corsi" boolean,
    "is_fenwick" boolean,
    constraint "dim_event_type_pkey" primary key ("event_type_id")
);
select public.warehouse_access('"public"."dim_event_type"', true);

-- dim dim_event_detail: Event detail vocabulary (workbook).
drop table if exists "public"."dim_event_detail" cascade;
create table "public"."dim_event_detail" (
    "event_detail_id" text not null,
    "event_detail_code" text,
    "event_detail_name" text,
    "event_type" text,
    "category" text,
    "description" text,
    "is_shot_on_goal" boolean,
    "is_goal" boolean,
    "is_miss" boolean,
    "is_block" boolean,
    "danger_potential" text,
    constraint "dim_event_detail_pkey" primary key ("event_detail_id")
);
select public.warehouse_access('"public"."dim_event_detail"', true);

-- dim dim_event_detail_2: Second event detail vocabulary (workbook).
drop table if exists "public"."dim_event_detail_2" cascade;
create table "public"."dim_event_detail_2" (
    "event_detail_2_id" text not null,
    "event_detail_2_code" text,
    "event_detail_2_name" text,
    "event_type" text,
    "event_type_macro" text,
    "category" text,
    "description" text,
    "is_shot_on_goal" boolean,
    "is_goal" boolean,
    "is_miss" boolean,
    "is_block" boolean,
    "danger_potential" text,
    constraint "dim_event_detail_2_pkey" primary key ("event_detail_2_id")
);
select public.warehouse_access('"public"."dim_event_detail_2"', true);

-- dim dim_play_detail: Play detail vocabulary (workbook dim_play_detail).
drop table if exists "public"."dim_play_detail" cascade;
create table "public"."dim_play_detail" (
    "play_detail_id" text not null,
    "play_detail_code" text,
    "play_detail_name" text,
    "play_category" text,
    "skill_level" text,
    "description" text,
    constraint "dim_play_detail_pkey" primary key ("play_detail_id")
);
select public.warehouse_access('"public"."dim_play_detail"', true);

-- dim dim_play_detail_2: Second play detail vocabulary (workbook dim_play_detail_2).
drop table if exists "public"."dim_play_detail_2" cascade;
create table "public"."dim_play_detail_2" (
    "play_detail_id" text not null,
    "play_detail_code" text,
    "play_detail_name" text,
    "play_category" text,
    "skill_level" text,
    "description" text,
    constraint "dim_play_detail_2_pkey" primary key ("play_detail_id")
);
select public.warehouse_access('"public"."dim_play_detail_2"', true);

-- dim dim_period: Periods: 1-3 regulation, 4 overtime, 5 shootout.
drop table if exists "public"."dim_period" cascade;
create table "public"."dim_period" (
    "period_id" bigint not null,
    "period_name" text,
    "period_type" text,
    constraint "dim_period_pkey" primary key ("period_id")
);
select public.warehouse_access('"public"."dim_period"', true);

-- dim dim_strength: Manpower situations 'NvM' (N skaters for the team of reference, M against).
drop table if exists "public"."dim_strength" cascade;
create table "public"."dim_strength" (
    "strength" text not null,
    "skaters_for" bigint,
    "skaters_against" bigint,
    "is_even" boolean,
    "situation" text,
    constraint "dim_strength_pkey" primary key ("strength")
);
select public.warehouse_access('"public"."dim_strength"', true);

-- fact fact_gameroster: The official scoresheet: one row per player per game (workbook fact_gameroster).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_gameroster" cascade;
create table "public"."fact_gameroster" (
    "game_id" bigint not null,
    "player_id" text not null,
    "team_id" text,
    "team_venue" text,
    "jersey" bigint,
    "jersey_raw" text,
    "position" text,
    "goals" bigint,
    "assists" bigint,
    "points" bigint,
    "pim" bigint,
    "goals_against" bigint,
    "is_sub" boolean,
    constraint "fact_gameroster_pkey" primary key ("game_id", "player_id")
);
select public.warehouse_access('"public"."fact_gameroster"', true);

-- fact fact_events: One row per tracked event. Clocks are seconds remaining in the period.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_events" cascade;
create table "public"."fact_events" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "period" bigint,
    "clock_start_s" double precision,
    "clock_end_s" double precision,
    "event_type" text,
    "event_detail" text,
    "event_detail_2" text,
    "success" boolean,
    "team_id" text,
    "team_venue" text,
    "zone" text,
    "linked_event_id" bigint,
    "strength" text,
    "puck_x" double precision,
    "puck_y" double precision,
    "source_file" text,
    constraint "fact_events_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_events"', true);

-- fact fact_event_players: One row per player in an event: role event_player_N (event team) or opp_player_N (opponent).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_event_players" cascade;
create table "public"."fact_event_players" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "seq" bigint not null,
    "role" text,
    "side" text,
    "role_number" bigint,
    "team_id" text,
    "team_venue" text,
    "jersey" bigint,
    "player_id" text,
    "play_detail_1" text,
    "play_detail_2" text,
    "play_success" text,
    constraint "fact_event_players_pkey" primary key ("game_id", "event_id", "seq")
);
select public.warehouse_access('"public"."fact_event_players"', true);

-- fact fact_shifts: One row per shift (interval between line changes); strength is home v away skaters.
--   game_id references dim_schedule(game_id) (checked by the validate job)
drop table if exists "public"."fact_shifts" cascade;
create table "public"."fact_shifts" (
    "game_id" bigint not null,
    "shift_id" bigint not null,
    "period" bigint,
    "clock_start_s" double precision,
    "clock_end_s" double precision,
    "duration_s" double precision,
    "start_type" text,
    "stop_type" text,
    "home_skaters" bigint,
    "away_skaters" bigint,
    "strength" text,
    "home_empty_net" boolean,
    "away_empty_net" boolean,
    "source_file" text,
    constraint "fact_shifts_pkey" primary key ("game_id", "shift_id")
);
select public.warehouse_access('"public"."fact_shifts"', true);

-- fact fact_shift_players: One row per player on the ice in a shift (slots F1 F2 F3 D1 D2 X G).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_shift_players" cascade;
create table "public"."fact_shift_players" (
    "game_id" bigint not null,
    "shift_id" bigint not null,
    "team_venue" text not null,
    "slot" text not null,
    "team_id" text,
    "jersey" bigint,
    "player_id" text,
    "is_goalie" boolean,
    constraint "fact_shift_players_pkey" primary key ("game_id", "shift_id", "team_venue", "slot")
);
select public.warehouse_access('"public"."fact_shift_players"', true);

-- fact fact_goals: Tracked goals (event type Goal) with scorer and linked assists.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_goals" cascade;
create table "public"."fact_goals" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "period" bigint,
    "clock_s" double precision,
    "team_id" text,
    "team_venue" text,
    "goal_type" text,
    "scorer_player_id" text,
    "scorer_jersey" bigint,
    "primary_assist_player_id" text,
    "primary_assist_jersey" bigint,
    "secondary_assist_player_id" text,
    "secondary_assist_jersey" bigint,
    "goalie_player_id" text,
    "strength" text,
    constraint "fact_goals_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_goals"', true);

-- fact fact_shots: Tracked shot attempts (event type Shot).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_shots" cascade;
create table "public"."fact_shots" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "period" bigint,
    "clock_s" double precision,
    "team_id" text,
    "team_venue" text,
    "shooter_player_id" text,
    "shooter_jersey" bigint,
    "event_detail" text,
    "shot_type" text,
    "result" text,
    "is_on_goal" boolean,
    "is_goal" boolean,
    "is_blocked" boolean,
    "is_missed" boolean,
    "x" double precision,
    "y" double precision,
    "distance_ft" double precision,
    "angle_deg" double precision,
    constraint "fact_shots_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_shots"', true);

-- fact fact_faceoffs: Tracked faceoffs; the event team won the draw.
--   game_id references dim_schedule(game_id) (checked by the validate job)
drop table if exists "public"."fact_faceoffs" cascade;
create table "public"."fact_faceoffs" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "period" bigint,
    "clock_s" double precision,
    "zone" text,
    "event_detail" text,
    "winner_team_id" text,
    "winner_player_id" text,
    "winner_jersey" bigint,
    "loser_team_id" text,
    "loser_player_id" text,
    "loser_jersey" bigint,
    constraint "fact_faceoffs_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_faceoffs"', true);

-- fact fact_zone_entries: Tracked zone entries (Zone_Entry_Exit / Zone_Entry).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_zone_entries" cascade;
create table "public"."fact_zone_entries" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "period" bigint,
    "clock_s" double precision,
    "team_id" text,
    "player_id" text,
    "jersey" bigint,
    "entry_type" text,
    "success" boolean,
    constraint "fact_zone_entries_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_zone_entries"', true);

-- fact fact_zone_exits: Tracked zone exits (Zone_Entry_Exit / Zone_Exit).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_zone_exits" cascade;
create table "public"."fact_zone_exits" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "period" bigint,
    "clock_s" double precision,
    "team_id" text,
    "player_id" text,
    "jersey" bigint,
    "exit_type" text,
    "success" boolean,
    constraint "fact_zone_exits_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_zone_exits"', true);

-- fact fact_player_game_stats: Per player per game: official goals/assists/points (scoresheet) and tracked stats (events, shifts). Tracked columns are null when the game is untracked; toi/shift/on-ice columns null without shifts.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_player_game_stats" cascade;
create table "public"."fact_player_game_stats" (
    "game_id" bigint not null,
    "player_id" text not null,
    "team_id" text,
    "team_venue" text,
    "jersey" bigint,
    "position" text,
    "game_status" text,
    "goals" bigint,
    "assists" bigint,
    "points" bigint,
    "tracked_goals" bigint,
    "tracked_primary_assists" bigint,
    "tracked_secondary_assists" bigint,
    "tracked_assists" bigint,
    "tracked_points" bigint,
    "shots" bigint,
    "shots_on_goal" bigint,
    "shots_blocked" bigint,
    "shots_missed" bigint,
    "corsi_for" bigint,
    "corsi_against" bigint,
    "fenwick_for" bigint,
    "fenwick_against" bigint,
    "toi_seconds" double precision,
    "shift_count" bigint,
    "plus_minus" bigint,
    "plus_minus_ev" bigint,
    "faceoff_wins" bigint,
    "faceoff_losses" bigint,
    "giveaways" bigint,
    "takeaways" bigint,
    "zone_entries" bigint,
    "zone_exits" bigint,
    constraint "fact_player_game_stats_pkey" primary key ("game_id", "player_id")
);
select public.warehouse_access('"public"."fact_player_game_stats"', true);

-- fact fact_goalie_game_stats: Per goalie per game: tracked shots against, saves, goals against.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_goalie_game_stats" cascade;
create table "public"."fact_goalie_game_stats" (
    "game_id" bigint not null,
    "player_id" text not null,
    "team_id" text,
    "game_status" text,
    "official_goals_against" bigint,
    "shots_against" bigint,
    "saves" bigint,
    "goals_against" bigint,
    "save_pct" double precision,
    "toi_seconds" double precision,
    constraint "fact_goalie_game_stats_pkey" primary key ("game_id", "player_id")
);
select public.warehouse_access('"public"."fact_goalie_game_stats"', true);

-- fact fact_team_game_stats: Per team per game: official result and tracked team totals.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_team_game_stats" cascade;
create table "public"."fact_team_game_stats" (
    "game_id" bigint not null,
    "team_id" text not null,
    "opponent_team_id" text,
    "team_venue" text,
    "game_status" text,
    "goals" bigint,
    "goals_against" bigint,
    "result" text,
    "tracked_goals" bigint,
    "tracked_goals_against" bigint,
    "shots" bigint,
    "shots_on_goal" bigint,
    "corsi_for" bigint,
    "corsi_against" bigint,
    "fenwick_for" bigint,
    "fenwick_against" bigint,
    "faceoff_wins" bigint,
    "faceoff_losses" bigint,
    "giveaways" bigint,
    "takeaways" bigint,
    "zone_entries" bigint,
    "zone_exits" bigint,
    constraint "fact_team_game_stats_pkey" primary key ("game_id", "team_id")
);
select public.warehouse_access('"public"."fact_team_game_stats"', true);

-- fact fact_player_season_stats: Per player per season: official totals over all games; tracked totals over complete games only.
--   season_id references dim_season(season_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
drop table if exists "public"."fact_player_season_stats" cascade;
create table "public"."fact_player_season_stats" (
    "season_id" text not null,
    "player_id" text not null,
    "games_played" bigint,
    "goals" bigint,
    "assists" bigint,
    "points" bigint,
    "tracked_games" bigint,
    "tracked_goals" bigint,
    "tracked_primary_assists" bigint,
    "tracked_secondary_assists" bigint,
    "tracked_assists" bigint,
    "tracked_points" bigint,
    "shots" bigint,
    "shots_on_goal" bigint,
    "shots_blocked" bigint,
    "shots_missed" bigint,
    "corsi_for" bigint,
    "corsi_against" bigint,
    "fenwick_for" bigint,
    "fenwick_against" bigint,
    "toi_seconds" double precision,
    "shift_count" bigint,
    "plus_minus" bigint,
    "plus_minus_ev" bigint,
    "faceoff_wins" bigint,
    "faceoff_losses" bigint,
    "giveaways" bigint,
    "takeaways" bigint,
    "zone_entries" bigint,
    "zone_exits" bigint,
    constraint "fact_player_season_stats_pkey" primary key ("season_id", "player_id")
);
select public.warehouse_access('"public"."fact_player_season_stats"', true);

-- fact fact_goalie_season_stats: Per goalie per season; tracked columns over complete games only.
--   season_id references dim_season(season_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
drop table if exists "public"."fact_goalie_season_stats" cascade;
create table "public"."fact_goalie_season_stats" (
    "season_id" text not null,
    "player_id" text not null,
    "games_played" bigint,
    "official_goals_against" bigint,
    "tracked_games" bigint,
    "shots_against" bigint,
    "saves" bigint,
    "goals_against" bigint,
    "save_pct" double precision,
    constraint "fact_goalie_season_stats_pkey" primary key ("season_id", "player_id")
);
select public.warehouse_access('"public"."fact_goalie_season_stats"', true);

-- fact fact_team_season_stats: Per team per season; tracked columns over complete games only.
--   season_id references dim_season(season_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_team_season_stats" cascade;
create table "public"."fact_team_season_stats" (
    "season_id" text not null,
    "team_id" text not null,
    "games_played" bigint,
    "wins" bigint,
    "losses" bigint,
    "ties" bigint,
    "goals_for" bigint,
    "goals_against" bigint,
    "tracked_games" bigint,
    "shots" bigint,
    "shots_on_goal" bigint,
    "corsi_for" bigint,
    "corsi_against" bigint,
    "fenwick_for" bigint,
    "fenwick_against" bigint,
    "faceoff_wins" bigint,
    "faceoff_losses" bigint,
    constraint "fact_team_season_stats_pkey" primary key ("season_id", "team_id")
);
select public.warehouse_access('"public"."fact_team_season_stats"', true);

-- qa qa_game_completeness: Per game: tracked vs official goals; status complete / partial / untracked.
--   game_id references dim_schedule(game_id) (checked by the validate job)
drop table if exists "public"."qa_game_completeness" cascade;
create table "public"."qa_game_completeness" (
    "game_id" bigint not null,
    "source_file" text,
    "home_team_id" text,
    "away_team_id" text,
    "official_home_goals" bigint,
    "official_away_goals" bigint,
    "tracked_home_goals" bigint,
    "tracked_away_goals" bigint,
    "events" bigint,
    "event_players" bigint,
    "shifts" bigint,
    "periods_covered" text,
    "has_shifts" boolean,
    "status" text,
    "note" text,
    constraint "qa_game_completeness_pkey" primary key ("game_id")
);
select public.warehouse_access('"public"."qa_game_completeness"', true);

-- qa qa_data_issues: Every anomaly found in the inputs, with what the ETL did about it.
drop table if exists "public"."qa_data_issues" cascade;
create table "public"."qa_data_issues" (
    "issue_id" bigint not null,
    "game_id" bigint,
    "file" text,
    "sheet" text,
    "row" bigint,
    "column" text,
    "severity" text,
    "category" text,
    "message" text,
    "action" text,
    constraint "qa_data_issues_pkey" primary key ("issue_id")
);
select public.warehouse_access('"public"."qa_data_issues"', true);

commit;
