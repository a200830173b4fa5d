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

-- dim dim_team: Teams (from the league workbook, its column names); primary_color is team_color1.
--   league_id references dim_league(league_id) (checked by the validate job)
drop table if exists "public"."dim_team" cascade;
create table "public"."dim_team" (
    "team_id" text not null,
    "team_name" text,
    "long_team_name" text,
    "team_cd" text,
    "league_id" text,
    "team_color1" text,
    "team_color2" text,
    "team_color3" text,
    "team_color4" text,
    "primary_color" text,
    "team_logo" text,
    "team_url" text,
    constraint "dim_team_pkey" primary key ("team_id")
);
select public.warehouse_access('"public"."dim_team"', true);

-- dim dim_player: Players (from the league workbook, its column names). player_name is the full name, team_id the current team, jersey_number the primary number; birth_year and player_gender are not in the shared data (null).
drop table if exists "public"."dim_player" cascade;
create table "public"."dim_player" (
    "player_id" text not null,
    "player_full_name" text,
    "player_first_name" text,
    "player_last_name" text,
    "player_name" text,
    "player_primary_position" text,
    "current_skill_rating" bigint,
    "player_rating_ly" bigint,
    "highest_beer_league" text,
    "jersey_number" bigint,
    "player_norad_current_team" text,
    "player_norad_current_team_id" text,
    "team_id" text,
    "random_player_full_name" text,
    "player_url" text,
    "other_url" text,
    "player_image" text,
    "birth_year" bigint,
    "player_gender" text,
    constraint "dim_player_pkey" primary key ("player_id")
);
select public.warehouse_access('"public"."dim_player"', true);

-- dim dim_schedule: Games as the league schedule lists them (its column names; totals as written in the schedule). official_*_goals are the scoresheet's (what standings count); schedule_type is game_type; power-play columns are not in the league data (null).
--   season_id references dim_season(season_id) (checked by the validate job)
--   home_team_id references dim_team(team_id) (checked by the validate job)
--   away_team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."dim_schedule" cascade;
create table "public"."dim_schedule" (
    "game_id" bigint not null,
    "season_id" text,
    "season" bigint,
    "league_id" text,
    "date" date,
    "game_time" text,
    "home_team_id" text,
    "away_team_id" text,
    "home_team_name" text,
    "away_team_name" text,
    "game_type" text,
    "schedule_type" text,
    "playoff_round" text,
    "last_period_type" text,
    "home_total_goals" bigint,
    "away_total_goals" bigint,
    "official_home_goals" bigint,
    "official_away_goals" bigint,
    "home_team_period1_goals" bigint,
    "home_team_period2_goals" bigint,
    "home_team_period3_goals" bigint,
    "home_team_periodot_goals" bigint,
    "away_team_period1_goals" bigint,
    "away_team_period2_goals" bigint,
    "away_team_period3_goals" bigint,
    "away_team_periodot_goals" bigint,
    "home_pp_goals" bigint,
    "home_pp_opportunities" bigint,
    "home_pk_goals_against" bigint,
    "home_pk_opportunities" bigint,
    "away_pp_goals" bigint,
    "away_pp_opportunities" bigint,
    "away_pk_goals_against" bigint,
    "away_pk_opportunities" bigint,
    "game_url" text,
    "video_url_1" text,
    "video_url_2" text,
    "video_start_offset" double precision,
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

-- fact fact_gameroster: The official scoresheet: one row per player per game (workbook fact_gameroster, its column names). player_game_number is the jersey (null when not a number, as written in player_game_number_raw).
--   game_id references dim_schedule(game_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_gameroster" cascade;
create table "public"."fact_gameroster" (
    "game_id" bigint not null,
    "player_id" text not null,
    "player_full_name" text,
    "team_id" text,
    "team_name" text,
    "opp_team_id" text,
    "opp_team_name" text,
    "team_venue" text,
    "player_game_number" bigint,
    "player_game_number_raw" text,
    "player_position" text,
    "games_played" bigint,
    "goals" bigint,
    "assist" bigint,
    "points" bigint,
    "pim" bigint,
    "pim_total" bigint,
    "goals_against" bigint,
    "shutouts" bigint,
    "sub" bigint,
    "is_sub" boolean,
    "skill_rating" bigint,
    "player_skill_rating" bigint,
    "date" date,
    "season" bigint,
    "season_id" text,
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

-- fact fact_game_status: Every scheduled game with its tracking status (complete / partial / untracked).
--   game_id references dim_schedule(game_id) (checked by the validate job)
drop table if exists "public"."fact_game_status" cascade;
create table "public"."fact_game_status" (
    "game_id" bigint not null,
    "season_id" text,
    "game_date" date,
    "home_team_id" text,
    "away_team_id" text,
    "home_team" text,
    "away_team" text,
    "official_home_goals" bigint,
    "official_away_goals" bigint,
    "tracked_home_goals" bigint,
    "tracked_away_goals" bigint,
    "tracking_status" text,
    "has_shifts" boolean,
    constraint "fact_game_status_pkey" primary key ("game_id")
);
select public.warehouse_access('"public"."fact_game_status"', true);

-- fact fact_player_season_stats_basic: Per skater per season and game type (Regular, Playoffs, All) from the scoresheet; shots, shooting_pct and cf_pct over complete tracked games; xg/war/gar/rating filled by the models.
--   season_id references dim_season(season_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
drop table if exists "public"."fact_player_season_stats_basic" cascade;
create table "public"."fact_player_season_stats_basic" (
    "season_id" text not null,
    "season" bigint,
    "game_type" text not null,
    "player_id" text not null,
    "player_name" text,
    "team_id" text,
    "team_name" text,
    "position" text,
    "games_played" bigint,
    "goals" bigint,
    "assists" bigint,
    "points" bigint,
    "pim" bigint,
    "points_per_game" double precision,
    "tracked_games" bigint,
    "shots" bigint,
    "shooting_pct" double precision,
    "cf_pct" double precision,
    "xg_for" double precision,
    "xg_per_game" double precision,
    "xg_adj" double precision,
    "goals_above_expected" double precision,
    "war" double precision,
    "gar" double precision,
    "player_rating" double precision,
    constraint "fact_player_season_stats_basic_pkey" primary key ("season_id", "game_type", "player_id")
);
select public.warehouse_access('"public"."fact_player_season_stats_basic"', true);

-- fact fact_goalie_season_stats_basic: Per goalie per season and game type: W-L-T and shutouts from the team result of each game the goalie dressed for; saves over complete tracked games; war/gar filled by the models.
--   season_id references dim_season(season_id) (checked by the validate job)
--   player_id references dim_player(player_id) (checked by the validate job)
drop table if exists "public"."fact_goalie_season_stats_basic" cascade;
create table "public"."fact_goalie_season_stats_basic" (
    "season_id" text not null,
    "season" bigint,
    "game_type" text not null,
    "player_id" text not null,
    "player_name" text,
    "team_id" text,
    "team_name" text,
    "games_played" bigint,
    "wins" bigint,
    "losses" bigint,
    "ties" bigint,
    "shutouts" bigint,
    "goals_against" bigint,
    "gaa" double precision,
    "win_pct" double precision,
    "tracked_games" bigint,
    "shots_against" bigint,
    "saves" bigint,
    "save_pct" double precision,
    "goalie_war" double precision,
    "goalie_gar" double precision,
    constraint "fact_goalie_season_stats_basic_pkey" primary key ("season_id", "game_type", "player_id")
);
select public.warehouse_access('"public"."fact_goalie_season_stats_basic"', true);

-- fact fact_team_season_stats_basic: Team record per season and game type from official results (2 points a win, 1 a tie).
--   season_id references dim_season(season_id) (checked by the validate job)
--   team_id references dim_team(team_id) (checked by the validate job)
drop table if exists "public"."fact_team_season_stats_basic" cascade;
create table "public"."fact_team_season_stats_basic" (
    "season_id" text not null,
    "season" bigint,
    "game_type" text not null,
    "team_id" text not null,
    "team_name" text,
    "games_played" bigint,
    "wins" bigint,
    "losses" bigint,
    "ties" bigint,
    "points" bigint,
    "goals_for" bigint,
    "goals_against" bigint,
    "goal_diff" bigint,
    "win_pct" double precision,
    "goals_for_per_game" double precision,
    "goals_against_per_game" double precision,
    constraint "fact_team_season_stats_basic_pkey" primary key ("season_id", "game_type", "team_id")
);
select public.warehouse_access('"public"."fact_team_season_stats_basic"', true);

-- fact fact_video: Game videos: the schedule's video_url and the tracker exports' video links (period_1_start: seconds into the video where period 1 starts).
--   game_id references dim_schedule(game_id) (checked by the validate job)
drop table if exists "public"."fact_video" cascade;
create table "public"."fact_video" (
    "video_key" text not null,
    "game_id" bigint,
    "video_type_id" text,
    "video_url" text,
    "period_1_start" double precision,
    constraint "fact_video_pkey" primary key ("video_key")
);
select public.warehouse_access('"public"."fact_video"', true);

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

alter table "public"."dim_schedule" drop constraint if exists "dim_schedule_season_id_fkey";
alter table "public"."dim_schedule" add constraint "dim_schedule_season_id_fkey" foreign key ("season_id") references "public"."dim_season" ("season_id") not valid;

-- v_compare_players.sql
-- Season stat lines (all game types) to set side by side: one row per skater and season.
drop view if exists public.v_compare_players;
create view public.v_compare_players with (security_invoker = true) as
select s.player_id, s.player_name, s.season_id, s.season, s.team_id, s.team_name, s.position,
       s.games_played, s.goals, s.assists, s.points, s.pim, s.points_per_game, s.shots, s.shooting_pct,
       s.cf_pct
from public.fact_player_season_stats_basic s
where s.game_type = 'All';
grant select on public.v_compare_players to anon, authenticated;

-- v_detail_goalie_games.sql
-- A goalie's game log: goals against from the scoresheet; saves, shots against and save % tracked (null for
-- untracked games).
drop view if exists public.v_detail_goalie_games;
create view public.v_detail_goalie_games with (security_invoker = true) as
select g.game_id, s.date, s.season_id, s.game_type, g.player_id, p.player_full_name as player_name, g.team_id,
       t.team_name, g.game_status, g.saves, g.shots_against,
       coalesce(g.official_goals_against, g.goals_against) as goals_against, g.save_pct
from public.fact_goalie_game_stats g
left join public.dim_schedule s on s.game_id = g.game_id
left join public.dim_player p on p.player_id = g.player_id
left join public.dim_team t on t.team_id = g.team_id;
grant select on public.v_detail_goalie_games to anon, authenticated;

-- v_leaderboard_assists.sql
-- Season skater assists over all game types, ranked per season.
drop view if exists public.v_leaderboard_assists;
create view public.v_leaderboard_assists with (security_invoker = true) as
select s.season_id, s.season, s.player_id, s.player_name, s.team_id, s.team_name, s.games_played, s.assists,
       rank() over (partition by s.season_id order by s.assists desc) as season_rank
from public.fact_player_season_stats_basic s
where s.game_type = 'All';
grant select on public.v_leaderboard_assists to anon, authenticated;

-- v_leaderboard_goalie_gaa.sql
-- Goals-against average per season (all game types), goalies with at least 5 games, ranked ascending.
drop view if exists public.v_leaderboard_goalie_gaa;
create view public.v_leaderboard_goalie_gaa with (security_invoker = true) as
select g.season_id, g.season, g.player_id, g.player_name, g.team_id, g.team_name, g.games_played,
       g.goals_against, g.gaa, g.wins,
       rank() over (partition by g.season_id order by g.gaa asc) as season_rank
from public.fact_goalie_season_stats_basic g
where g.game_type = 'All' and g.games_played >= 5;
grant select on public.v_leaderboard_goalie_gaa to anon, authenticated;

-- v_leaderboard_goalie_wins.sql
-- Goalie season wins (all game types; W from the team result of each game dressed), ranked per season.
drop view if exists public.v_leaderboard_goalie_wins;
create view public.v_leaderboard_goalie_wins with (security_invoker = true) as
select g.season_id, g.season, g.player_id, g.player_name, g.team_id, g.team_name, g.games_played,
       g.wins, g.losses, g.ties, g.shutouts, g.gaa,
       rank() over (partition by g.season_id order by g.wins desc, g.gaa asc) as season_rank
from public.fact_goalie_season_stats_basic g
where g.game_type = 'All';
grant select on public.v_leaderboard_goalie_wins to anon, authenticated;

-- v_leaderboard_goals.sql
-- Season skater goals over all game types, ranked per season.
drop view if exists public.v_leaderboard_goals;
create view public.v_leaderboard_goals with (security_invoker = true) as
select s.season_id, s.season, s.player_id, s.player_name, s.team_id, s.team_name, s.games_played, s.goals,
       rank() over (partition by s.season_id order by s.goals desc) as season_rank
from public.fact_player_season_stats_basic s
where s.game_type = 'All';
grant select on public.v_leaderboard_goals to anon, authenticated;

-- v_leaderboard_points.sql
-- Season skater totals over all game types, ranked per season by points (then goals).
drop view if exists public.v_leaderboard_points;
create view public.v_leaderboard_points with (security_invoker = true) as
select s.season_id, s.season, s.player_id, s.player_name, s.team_id, s.team_name, s.position,
       s.games_played, s.goals, s.assists, s.points, s.pim, s.points_per_game,
       rank() over (partition by s.season_id order by s.points desc, s.goals desc) as season_rank
from public.fact_player_season_stats_basic s
where s.game_type = 'All';
grant select on public.v_leaderboard_points to anon, authenticated;

-- v_rankings_goalies_current.sql
-- Current-season goalies (all game types) with wins, GAA, win % and shutout ranks; save_pct over complete
-- tracked games (null when none).
drop view if exists public.v_rankings_goalies_current;
create view public.v_rankings_goalies_current with (security_invoker = true) as
select g.season_id, g.season, g.player_id, g.player_name, g.team_id, g.team_name, g.games_played,
       g.wins, g.losses, g.ties, g.shutouts, g.goals_against, g.gaa, g.win_pct, g.save_pct,
       rank() over (order by g.wins desc, g.gaa asc) as wins_rank,
       rank() over (order by g.gaa asc) as gaa_rank,
       rank() over (order by g.win_pct desc) as win_pct_rank,
       rank() over (order by g.shutouts desc) as shutouts_rank
from public.fact_goalie_season_stats_basic g
where g.game_type = 'All'
  and g.season_id = (select d.season_id from public.dim_schedule d
                     order by d.date desc nulls last, d.game_id desc limit 1);
grant select on public.v_rankings_goalies_current to anon, authenticated;

-- v_rankings_players_current.sql
-- Current-season skaters (all game types) with their points, goals, assists and points-per-game ranks.
drop view if exists public.v_rankings_players_current;
create view public.v_rankings_players_current with (security_invoker = true) as
select s.season_id, s.season, s.player_id, s.player_name, s.team_id, s.team_name, s.position,
       s.games_played, s.goals, s.assists, s.points, s.pim, s.points_per_game,
       rank() over (order by s.points desc, s.goals desc) as points_rank,
       rank() over (order by s.goals desc) as goals_rank,
       rank() over (order by s.assists desc) as assists_rank,
       rank() over (order by s.points_per_game desc) as points_per_game_rank
from public.fact_player_season_stats_basic s
where s.game_type = 'All'
  and s.season_id = (select d.season_id from public.dim_schedule d
                     order by d.date desc nulls last, d.game_id desc limit 1);
grant select on public.v_rankings_players_current to anon, authenticated;

-- v_recent_games.sql
-- The last 20 games with an official score: score and winner (team name, or 'Tie').
drop view if exists public.v_recent_games;
create view public.v_recent_games with (security_invoker = true) as
select s.game_id, s.date, s.season_id, s.game_type, s.home_team_id, s.home_team_name, s.away_team_id,
       s.away_team_name, s.official_home_goals as home_goals, s.official_away_goals as away_goals,
       case when s.official_home_goals > s.official_away_goals then s.home_team_name
            when s.official_home_goals < s.official_away_goals then s.away_team_name
            else 'Tie' end as winner
from public.dim_schedule s
where s.official_home_goals is not null and s.official_away_goals is not null
order by s.date desc nulls last, s.game_id desc
limit 20;
grant select on public.v_recent_games to anon, authenticated;

-- v_recent_hot_players.sql
-- Each skater's last 5 games on the scoresheet: goals, assists, points and points per game (avg_points).
-- Materialised (a window over every scoresheet row); refreshed by each upload, inside its transaction.
drop materialized view if exists public.v_recent_hot_players;
create materialized view public.v_recent_hot_players as
with ranked as (
    select r.player_id, r.player_full_name, r.team_id, r.team_name, r.game_id, r.date, r.goals, r.assist,
           r.points,
           row_number() over (partition by r.player_id order by r.date desc nulls last, r.game_id desc) as n
    from public.fact_gameroster r
    where r.player_position is distinct from 'Goalie'
)
select player_id, max(player_full_name) as player_name,
       (array_agg(team_id order by n))[1] as team_id, (array_agg(team_name order by n))[1] as team_name,
       count(*) as games, max(date) as last_game_date,
       sum(goals) as goals, sum(assist) as assists, sum(points) as points,
       avg(points)::double precision as avg_points
from ranked
where n <= 5
group by player_id;
create unique index v_recent_hot_players_player on public.v_recent_hot_players (player_id);
create index v_recent_hot_players_avg on public.v_recent_hot_players (avg_points desc);
grant select on public.v_recent_hot_players to anon, authenticated;

-- v_standings_all_seasons.sql
-- Standings of every season over all game types (as the old dashboard showed them; the Regular and Playoffs
-- splits are in fact_team_season_stats_basic): 2 points a win, 1 a tie; ranked by points, goal difference,
-- goals for.
drop view if exists public.v_standings_all_seasons;
create view public.v_standings_all_seasons with (security_invoker = true) as
select t.season_id, t.season, t.team_id, t.team_name, t.games_played, t.wins, t.losses, t.ties, t.points,
       t.goals_for, t.goals_against, t.goal_diff, t.goals_for_per_game, t.goals_against_per_game, t.win_pct,
       rank() over (partition by t.season_id order by t.points desc, t.goal_diff desc, t.goals_for desc) as standing
from public.fact_team_season_stats_basic t
where t.game_type = 'All';
grant select on public.v_standings_all_seasons to anon, authenticated;

-- v_standings_current.sql
-- Standings (all game types) of the current season: the season of the latest scheduled game.
drop view if exists public.v_standings_current;
create view public.v_standings_current with (security_invoker = true) as
select t.season_id, t.season, t.team_id, t.team_name, t.games_played, t.wins, t.losses, t.ties, t.points,
       t.goals_for, t.goals_against, t.goal_diff, t.goals_for_per_game, t.goals_against_per_game, t.win_pct,
       rank() over (order by t.points desc, t.goal_diff desc, t.goals_for desc) as standing
from public.fact_team_season_stats_basic t
where t.game_type = 'All'
  and t.season_id = (select s.season_id from public.dim_schedule s
                     order by s.date desc nulls last, s.game_id desc limit 1);
grant select on public.v_standings_current to anon, authenticated;

-- v_standings_h2h.sql
-- Head-to-head record of every pair of teams per season and game type, from the schedule's official scores
-- (one row per team and opponent).
drop view if exists public.v_standings_h2h;
create view public.v_standings_h2h with (security_invoker = true) as
with sides as (
    select s.season_id, s.game_type, s.game_id, s.home_team_id as team_id, s.home_team_name as team_name,
           s.away_team_id as opponent_id, s.away_team_name as opponent_name,
           s.official_home_goals as goals_for, s.official_away_goals as goals_against
    from public.dim_schedule s
    union all
    select s.season_id, s.game_type, s.game_id, s.away_team_id, s.away_team_name, s.home_team_id,
           s.home_team_name, s.official_away_goals, s.official_home_goals
    from public.dim_schedule s
)
select season_id, game_type, team_id, team_name, opponent_id, opponent_name,
       count(*) as games_played,
       count(*) filter (where goals_for > goals_against) as wins,
       count(*) filter (where goals_for < goals_against) as losses,
       count(*) filter (where goals_for = goals_against) as ties,
       sum(goals_for) as goals_for, sum(goals_against) as goals_against
from sides
where goals_for is not null and goals_against is not null
group by season_id, game_type, team_id, team_name, opponent_id, opponent_name;
grant select on public.v_standings_h2h to anon, authenticated;

-- v_summary_goalie_career.sql
-- Goalie career totals over every season and game type: record, shutouts, goals-against average.
drop view if exists public.v_summary_goalie_career;
create view public.v_summary_goalie_career with (security_invoker = true) as
select g.player_id, max(g.player_name) as player_name,
       count(*) as seasons_played,
       sum(g.games_played) as career_games, sum(g.wins) as career_wins, sum(g.losses) as career_losses,
       sum(g.ties) as career_ties, sum(g.shutouts) as career_shutouts, sum(g.goals_against) as career_goals_against,
       sum(g.goals_against)::double precision / nullif(sum(g.games_played), 0) as career_gaa,
       sum(g.wins)::double precision / nullif(sum(g.games_played), 0) as career_win_pct
from public.fact_goalie_season_stats_basic g
where g.game_type = 'All'
group by g.player_id;
grant select on public.v_summary_goalie_career to anon, authenticated;

-- v_summary_league.sql
-- Per-season league totals and averages from the scoresheet (every game type).
drop materialized view if exists public.v_summary_league;
create materialized view public.v_summary_league as
select r.season_id, min(r.season) as season,
       count(distinct r.game_id) as total_games,
       count(distinct r.player_id) as total_players,
       count(distinct r.team_id) as total_teams,
       sum(r.goals) as total_goals, sum(r.assist) as total_assists, sum(r.points) as total_points,
       sum(r.pim) as total_pim,
       sum(r.goals)::double precision / nullif(count(distinct r.game_id), 0) as avg_goals_per_game
from public.fact_gameroster r
where r.season_id is not null
group by r.season_id;
grant select on public.v_summary_league to anon, authenticated;

-- v_summary_player_career.sql
-- Skater career totals over every season and game type, with points per game.
drop view if exists public.v_summary_player_career;
create view public.v_summary_player_career with (security_invoker = true) as
select s.player_id, max(s.player_name) as player_name,
       count(*) as seasons_played,
       sum(s.games_played) as career_games, sum(s.goals) as career_goals, sum(s.assists) as career_assists,
       sum(s.points) as career_points, sum(s.pim) as career_pim,
       sum(s.points)::double precision / nullif(sum(s.games_played), 0) as points_per_game,
       sum(s.goals)::double precision / nullif(sum(s.games_played), 0) as goals_per_game
from public.fact_player_season_stats_basic s
where s.game_type = 'All'
group by s.player_id;
grant select on public.v_summary_player_career to anon, authenticated;

-- v_summary_team_season.sql
-- Team season record (all game types) with the roster's scoring totals and its top scorer.
drop view if exists public.v_summary_team_season;
create view public.v_summary_team_season with (security_invoker = true) as
select t.season_id, t.season, t.team_id, t.team_name, t.games_played, t.wins, t.losses, t.ties, t.points,
       t.win_pct, t.goals_for, t.goals_against, t.goal_diff, t.goals_for_per_game, t.goals_against_per_game,
       r.roster_size, r.roster_goals, r.roster_assists, r.roster_points,
       top.player_id as top_scorer_id, top.player_name as top_scorer_name, top.points as top_scorer_points
from public.fact_team_season_stats_basic t
left join lateral (
    select count(*) as roster_size, sum(p.goals) as roster_goals, sum(p.assists) as roster_assists,
           sum(p.points) as roster_points
    from public.fact_player_season_stats_basic p
    where p.season_id = t.season_id and p.team_id = t.team_id and p.game_type = 'All'
) r on true
left join lateral (
    select p.player_id, p.player_name, p.points
    from public.fact_player_season_stats_basic p
    where p.season_id = t.season_id and p.team_id = t.team_id and p.game_type = 'All'
    order by p.points desc, p.goals desc, p.player_id
    limit 1
) top on true
where t.game_type = 'All';
grant select on public.v_summary_team_season to anon, authenticated;

commit;
