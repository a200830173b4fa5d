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

-- fact fact_events: One row per tracked event. Clocks are seconds remaining in the period; player_* columns describe event_player_1; shift_id is the shift the event happened in.
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
    "season_id" text,
    "home_team_id" text,
    "away_team_id" text,
    "home_team" text,
    "away_team" text,
    "event_start_min" bigint,
    "event_start_sec" bigint,
    "event_end_min" bigint,
    "event_end_sec" bigint,
    "time_start_total_seconds" double precision,
    "event_team_zone" text,
    "shift_id" bigint,
    "player_game_number" bigint,
    "player_name" text,
    "player_role" text,
    "player_team" text,
    "play_detail1" text,
    "play_detail_2" text,
    "event_player_ids" text,
    "opp_player_ids" text,
    "is_goal" boolean,
    "is_save" boolean,
    "is_rebound" boolean,
    "is_rush" boolean,
    "is_highlight" boolean,
    "danger_level" text,
    "linked_event_key" text,
    "puck_x_start" double precision,
    "puck_y_start" double precision,
    "play_key" text,
    "sequence_key" text,
    "running_video_time" double precision,
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
    "player_role" text,
    constraint "fact_event_players_pkey" primary key ("game_id", "event_id", "seq")
);
select public.warehouse_access('"public"."fact_event_players"', true);

-- fact fact_shifts: One row per shift (interval between line changes); strength is home v away skaters; cf/ca/ff/fa/sa and the percentages are the home team's; player_id is empty (one row per shift).
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
    "season_id" text,
    "home_team_id" text,
    "away_team_id" text,
    "home_team" text,
    "away_team" text,
    "shift_index" bigint,
    "shift_start_total_seconds" double precision,
    "shift_end_total_seconds" double precision,
    "player_id" text,
    "cf" bigint,
    "ca" bigint,
    "ff" bigint,
    "fa" bigint,
    "sa" bigint,
    "cf_pct" double precision,
    "ff_pct" double precision,
    "fo_pct" double precision,
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
    "is_first_segment" boolean,
    "logical_shift_number" bigint,
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
    "player_game_id" text,
    "player_name" text,
    "team_name" text,
    "opponent_team_name" text,
    "date" date,
    "game_type" text,
    "season_id" text,
    "skill_rating" double precision,
    "pim" bigint,
    "g" bigint,
    "a" bigint,
    "pts" bigint,
    "primary_assists" bigint,
    "secondary_assists" bigint,
    "sog" bigint,
    "shooting_pct" double precision,
    "fo_wins" bigint,
    "fo_losses" bigint,
    "fo_total" bigint,
    "fo_pct" double precision,
    "cf_pct" double precision,
    "ff_pct" double precision,
    "cf_pct_rel" double precision,
    "ff_pct_rel" double precision,
    "plus_ev" bigint,
    "minus_ev" bigint,
    "plus_minus_total" bigint,
    "goals_per_60" double precision,
    "assists_per_60" double precision,
    "points_per_60" double precision,
    "avg_shift" double precision,
    "zone_entries_successful" bigint,
    "zone_exits_successful" bigint,
    "blocks" bigint,
    "hits" bigint,
    "penalties_taken" bigint,
    "penalties_drawn" bigint,
    "game_score" double precision,
    "rush_shots" bigint,
    "rush_goals" bigint,
    "rush_assists" bigint,
    "rush_points" bigint,
    "rush_involvement" bigint,
    "rush_off_shot_generated" bigint,
    "rush_off_goal_generated" bigint,
    "rush_off_success" double precision,
    "breakaway_goals" bigint,
    "backchecks" bigint,
    "forechecks" bigint,
    "dekes" bigint,
    "screens" bigint,
    "crash_net" bigint,
    "cutbacks" bigint,
    "cycles" bigint,
    "delays" bigint,
    "drives_corner" bigint,
    "drives_middle" bigint,
    "drives_wide" bigint,
    "drives_total" bigint,
    "give_and_go" bigint,
    "poke_checks" bigint,
    "stick_checks" bigint,
    "second_touch" bigint,
    "zone_ent_denials" bigint,
    "breakouts" bigint,
    "loose_puck_wins" bigint,
    "puck_battles_total" bigint,
    "pass_attempts" bigint,
    "pass_completed" bigint,
    "pass_pct" double precision,
    "puck_recoveries" bigint,
    "dump_ins" bigint,
    "bad_giveaways" bigint,
    "plays_successful" bigint,
    "plays_unsuccessful" bigint,
    "play_success_rate" double precision,
    "primary_def_events" bigint,
    "support_def_events" bigint,
    "def_involvement" bigint,
    "odd_man_rushes" bigint,
    "rush_xg" double precision,
    "xg_for" double precision,
    "war" double precision,
    "player_rating" double precision,
    "adjusted_rating" double precision,
    "performance_index" double precision,
    "rating_diff" double precision,
    constraint "fact_player_game_stats_pkey" primary key ("game_id", "player_id")
);
select public.warehouse_access('"public"."fact_player_game_stats"', true);

-- fact fact_goalie_game_stats: Per goalie per game: tracked shots against, saves, goals against; saves by type from Save events; hd_* only for games with shot locations; war/gar from models.
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
    "date" date,
    "player_name" text,
    "team_name" text,
    "hd_shots_against" bigint,
    "hd_saves" bigint,
    "saves_blocker" bigint,
    "saves_butterfly" bigint,
    "saves_chest" bigint,
    "saves_glove" bigint,
    "saves_pad" bigint,
    "saves_scramble" bigint,
    "saves_stick" bigint,
    "goals_saved_above_avg" double precision,
    "goalie_war" double precision,
    "goalie_gar_total" double precision,
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
    "season_id" text,
    "game_type" text,
    "team_name" text,
    "assists" bigint,
    "points" bigint,
    "sog" bigint,
    "shooting_pct" double precision,
    "cf_pct" double precision,
    "blocks" bigint,
    "hits" bigint,
    "plus_minus_total" bigint,
    "avg_game_score" double precision,
    "toi_seconds" double precision,
    "xg_for" double precision,
    "war" double precision,
    "gar_total" double precision,
    "avg_adjusted_rating" double precision,
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

-- fact fact_shot_xy: Shot attempts with a location (JSON 25.0) and the league's danger zone (dim_rinkcoordzones).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_shot_xy" cascade;
create table "public"."fact_shot_xy" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "shot_id" text,
    "player_id" text,
    "team_id" text,
    "team_venue" text,
    "period" bigint,
    "shot_x" double precision,
    "shot_y" double precision,
    "distance_ft" double precision,
    "angle_deg" double precision,
    "box_id" text,
    "danger_zone" text,
    "result" text,
    "is_goal" boolean,
    constraint "fact_shot_xy_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_shot_xy"', true);

-- fact fact_saves: Save events: goalie, save type and result, the shot stopped and its danger.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_saves" cascade;
create table "public"."fact_saves" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "period" bigint,
    "clock_start_s" double precision,
    "team_id" text,
    "team_venue" text,
    "goalie_player_id" text,
    "event_type" text,
    "save_type" text,
    "save_result" text,
    "shot_event_id" bigint,
    "shot_result" text,
    "shooter_player_id" text,
    "danger_level" text,
    constraint "fact_saves_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_saves"', true);

-- fact fact_zone_entry_summary: Zone entries per player per game (the carrier, event_player_1).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_zone_entry_summary" cascade;
create table "public"."fact_zone_entry_summary" (
    "game_id" bigint not null,
    "player_id" text not null,
    "team_id" text,
    "total_entries" bigint,
    "successful_entries" bigint,
    "failed_entries" bigint,
    "controlled_entries" bigint,
    "dump_entries" bigint,
    constraint "fact_zone_entry_summary_pkey" primary key ("game_id", "player_id")
);
select public.warehouse_access('"public"."fact_zone_entry_summary"', true);

-- fact fact_zone_exit_summary: Zone exits per player per game (event_player_1).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_zone_exit_summary" cascade;
create table "public"."fact_zone_exit_summary" (
    "game_id" bigint not null,
    "player_id" text not null,
    "team_id" text,
    "total_exits" bigint,
    "successful_exits" bigint,
    "failed_exits" bigint,
    "controlled_exits" bigint,
    "clear_exits" bigint,
    constraint "fact_zone_exit_summary_pkey" primary key ("game_id", "player_id")
);
select public.warehouse_access('"public"."fact_zone_exit_summary"', true);

-- fact fact_player_micro_stats: Micro stats per player per game from play details and events.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_player_micro_stats" cascade;
create table "public"."fact_player_micro_stats" (
    "game_id" bigint not null,
    "player_id" text not null,
    "team_id" text,
    "player_name" text,
    "backchecks" bigint,
    "forechecks" bigint,
    "dekes" bigint,
    "screens" bigint,
    "crash_net" bigint,
    "cutbacks" bigint,
    "cycles" bigint,
    "delays" bigint,
    "drives_corner" bigint,
    "drives_middle" bigint,
    "drives_wide" bigint,
    "drives_total" bigint,
    "give_and_go" bigint,
    "poke_checks" bigint,
    "stick_checks" bigint,
    "second_touch" bigint,
    "zone_ent_denials" bigint,
    "breakouts" bigint,
    "loose_puck_wins" bigint,
    "puck_battles_total" bigint,
    "pass_attempts" bigint,
    "pass_completed" bigint,
    "pass_pct" double precision,
    "puck_recoveries" bigint,
    "dump_ins" bigint,
    "bad_giveaways" bigint,
    "blocks" bigint,
    "plays_successful" bigint,
    "plays_unsuccessful" bigint,
    "play_success_rate" double precision,
    "primary_def_events" bigint,
    "support_def_events" bigint,
    "def_involvement" bigint,
    constraint "fact_player_micro_stats_pkey" primary key ("game_id", "player_id")
);
select public.warehouse_access('"public"."fact_player_micro_stats"', true);

-- fact fact_line_combos: Forward lines (F1-F3) and defence pairs (D1-D2) on the ice together.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   season_id references dim_season(season_id) (checked by the validate job)
drop table if exists "public"."fact_line_combos" cascade;
create table "public"."fact_line_combos" (
    "game_id" bigint not null,
    "season_id" text,
    "venue" text not null,
    "team_id" text,
    "home_team_id" text,
    "away_team_id" text,
    "combo_type" text not null,
    "forward_combo" text not null,
    "shifts" bigint,
    "toi_together" double precision,
    "corsi_for" bigint,
    "corsi_against" bigint,
    "cf_pct" double precision,
    "goals_for" bigint,
    "goals_against" bigint,
    constraint "fact_line_combos_pkey" primary key ("game_id", "venue", "combo_type", "forward_combo")
);
select public.warehouse_access('"public"."fact_line_combos"', true);

-- fact fact_wowy: Teammate pairs: Corsi share with and without each other (both orders).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   season_id references dim_season(season_id) (checked by the validate job)
drop table if exists "public"."fact_wowy" cascade;
create table "public"."fact_wowy" (
    "game_id" bigint not null,
    "season_id" text,
    "venue" text,
    "home_team_id" text,
    "away_team_id" text,
    "player_1_id" text not null,
    "player_2_id" text not null,
    "toi_together" double precision,
    "toi_apart" double precision,
    "cf_together" bigint,
    "ca_together" bigint,
    "cf_pct_together" double precision,
    "cf_apart" bigint,
    "ca_apart" bigint,
    "cf_pct_apart" double precision,
    "cf_pct_delta" double precision,
    constraint "fact_wowy_pkey" primary key ("game_id", "player_1_id", "player_2_id")
);
select public.warehouse_access('"public"."fact_wowy"', true);

-- fact fact_player_qoc_summary: Quality of competition and teammates: skill ratings on the ice, TOI-weighted.
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
drop table if exists "public"."fact_player_qoc_summary" cascade;
create table "public"."fact_player_qoc_summary" (
    "game_id" bigint not null,
    "player_id" text not null,
    "team_venue" text,
    "shifts_tracked" bigint,
    "toi_seconds" double precision,
    "avg_own_rating" double precision,
    "avg_opp_rating" double precision,
    "rating_diff" double precision,
    constraint "fact_player_qoc_summary_pkey" primary key ("game_id", "player_id")
);
select public.warehouse_access('"public"."fact_player_qoc_summary"', true);

-- fact fact_team_zone_time: Tracked events per team per game by zone, from the team's side.
--   game_id references dim_schedule(game_id) (checked by the validate job)
drop table if exists "public"."fact_team_zone_time" cascade;
create table "public"."fact_team_zone_time" (
    "game_id" bigint not null,
    "venue" text not null,
    "team_id" text,
    "offensive_zone_events" bigint,
    "neutral_zone_events" bigint,
    "defensive_zone_events" bigint,
    "offensive_zone_pct" double precision,
    "neutral_zone_pct" double precision,
    "defensive_zone_pct" double precision,
    constraint "fact_team_zone_time_pkey" primary key ("game_id", "venue")
);
select public.warehouse_access('"public"."fact_team_zone_time"', true);

-- fact fact_puck_xy_long: Every point of the puck's path in an event (JSON 25.0).
--   game_id references dim_schedule(game_id) (checked by the validate job)
drop table if exists "public"."fact_puck_xy_long" cascade;
create table "public"."fact_puck_xy_long" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "point_number" bigint not null,
    "x" double precision,
    "y" double precision,
    constraint "fact_puck_xy_long_pkey" primary key ("game_id", "event_id", "point_number")
);
select public.warehouse_access('"public"."fact_puck_xy_long"', true);

-- fact fact_puck_xy_wide: The puck's path per event, its first ten points as columns (JSON 25.0).
--   game_id references dim_schedule(game_id) (checked by the validate job)
drop table if exists "public"."fact_puck_xy_wide" cascade;
create table "public"."fact_puck_xy_wide" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "period" bigint,
    "event_type" text,
    "event_detail" text,
    "point_count" bigint,
    "x_1" double precision,
    "y_1" double precision,
    "x_2" double precision,
    "y_2" double precision,
    "x_3" double precision,
    "y_3" double precision,
    "x_4" double precision,
    "y_4" double precision,
    "x_5" double precision,
    "y_5" double precision,
    "x_6" double precision,
    "y_6" double precision,
    "x_7" double precision,
    "y_7" double precision,
    "x_8" double precision,
    "y_8" double precision,
    "x_9" double precision,
    "y_9" double precision,
    "x_10" double precision,
    "y_10" double precision,
    constraint "fact_puck_xy_wide_pkey" primary key ("game_id", "event_id")
);
select public.warehouse_access('"public"."fact_puck_xy_wide"', true);

-- fact fact_player_xy_long: Every point of each player's path in an event (JSON 25.0).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
drop table if exists "public"."fact_player_xy_long" cascade;
create table "public"."fact_player_xy_long" (
    "game_id" bigint not null,
    "event_id" bigint not null,
    "seq" bigint not null,
    "point_number" bigint not null,
    "player_id" text,
    "player_name" text,
    "jersey" bigint,
    "team_venue" text,
    "player_role" text,
    "x" double precision,
    "y" double precision,
    constraint "fact_player_xy_long_pkey" primary key ("game_id", "event_id", "seq", "point_number")
);
select public.warehouse_access('"public"."fact_player_xy_long"', true);

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
