"""The table catalog: every output table's name, kind, primary key and typed columns.

The catalog drives CSV writing, the manifest, schema generation, upload and validation.
Adding a table is adding one builder (in ``etl/builders``) and one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

ColumnType = Literal["text", "int", "float", "bool", "date", "timestamp"]
TableKind = Literal["dim", "fact", "qa"]

PANDAS_DTYPES: dict[str, str] = {
    "text": "str",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[s]",
    "timestamp": "datetime64[us, UTC]",
}

PG_TYPES: dict[str, str] = {
    "text": "text",
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "date": "date",
    "timestamp": "timestamptz",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    nullable: bool = True
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    kind: TableKind
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    foreign_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    description: str = ""

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name!r}")


def pg_type(column: Column) -> str:
    """PostgreSQL type of a catalog column."""
    return PG_TYPES[column.type]


def conform(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Select the catalog's columns in order and cast them to the catalog's dtypes.

    Raises ValueError naming the table when a builder did not produce a catalog column.
    """
    missing = [c for c in spec.column_names if c not in df.columns]
    if missing:
        raise ValueError(f"builder for {spec.name} did not produce columns {missing}")
    if not _is_positional(df.index):
        df = df.reset_index(drop=True)  # once for the frame (copy-on-write: no data copied), not per column
    out = {}
    for col in spec.columns:
        out[col.name] = _cast(df[col.name], col.type)
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)), copy=False)


def _is_positional(index: pd.Index) -> bool:
    return isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1


def _cast(s: pd.Series, type_: str) -> pd.Series:
    if not _is_positional(s.index):
        s = s.reset_index(drop=True)
    if type_ in ("int", "float", "bool", "text") and s.dtype == PANDAS_DTYPES[type_]:
        return s  # already the catalog's dtype: every cast below would return it unchanged
    if type_ == "int":
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            s = pd.to_numeric(s, errors="coerce")
        if pd.api.types.is_float_dtype(s.dtype):
            s = s.round()
        return s.astype("Int64")
    if type_ == "float":
        return pd.to_numeric(s, errors="coerce").astype("float64")
    if type_ == "bool":
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            s = s.map({"True": True, "False": False, "true": True, "false": False, True: True, False: False})
        return s.astype("boolean")
    if type_ == "date":
        return pd.to_datetime(s, errors="coerce").astype("datetime64[s]")
    if type_ == "timestamp":
        return pd.to_datetime(s, errors="coerce", utc=True).astype("datetime64[us, UTC]")
    return s.astype("str")


def read_table_csv(path: str | Path, spec: TableSpec) -> pd.DataFrame:
    """Read a CSV written by the ETL back with the catalog's dtypes."""
    raw_types = {
        c.name: ("str" if c.type in ("text", "date", "timestamp", "bool") else "float64")
        for c in spec.columns
    }
    df = pd.read_csv(path, dtype=raw_types, keep_default_na=False, na_values=[""])
    return conform(df, spec)


def _c(spec: str, description: str = "") -> Column:
    """Parse 'name:type' or 'name:type!' (not nullable)."""
    name, type_ = spec.split(":")
    nullable = not type_.endswith("!")
    return Column(name, type_.rstrip("!"), nullable, description)  # type: ignore[arg-type]


def _table(
    name: str,
    kind: TableKind,
    pk: tuple[str, ...],
    columns: str,
    fks: dict[str, tuple[str, str]] | None = None,
    description: str = "",
) -> TableSpec:
    cols = tuple(_c(tok) for tok in columns.split())
    pk_cols = [c for c in cols if c.name in pk]
    if len(pk_cols) != len(pk):
        raise ValueError(f"catalog: {name} primary key {pk} not among its columns")
    cols = tuple(Column(c.name, c.type, False, c.description) if c.name in pk else c for c in cols)
    return TableSpec(name, kind, pk, cols, fks or {}, description)


_PLAYER = {"player_id": ("dim_player", "player_id")}
_GAME = {"game_id": ("dim_schedule", "game_id")}
_TEAM = {"team_id": ("dim_team", "team_id")}

_TRACKED_PLAYER_STATS = """
    tracked_goals:int tracked_primary_assists:int tracked_secondary_assists:int tracked_assists:int
    tracked_points:int shots:int shots_on_goal:int shots_blocked:int shots_missed:int
    corsi_for:int corsi_against:int fenwick_for:int fenwick_against:int
    toi_seconds:float shift_count:int plus_minus:int plus_minus_ev:int
    faceoff_wins:int faceoff_losses:int giveaways:int takeaways:int zone_entries:int zone_exits:int
"""

_DASHBOARD_PLAYER_STATS = """
    player_game_id:text player_name:text team_name:text opponent_team_name:text date:date game_type:text
    season_id:text skill_rating:float pim:int g:int a:int pts:int primary_assists:int secondary_assists:int
    sog:int shooting_pct:float fo_wins:int fo_losses:int fo_total:int fo_pct:float cf_pct:float ff_pct:float
    cf_pct_rel:float ff_pct_rel:float plus_ev:int minus_ev:int plus_minus_total:int
    goals_per_60:float assists_per_60:float points_per_60:float avg_shift:float
    zone_entries_successful:int zone_exits_successful:int blocks:int hits:int
    penalties_taken:int penalties_drawn:int game_score:float
    rush_shots:int rush_goals:int rush_assists:int rush_points:int rush_involvement:int
    rush_off_shot_generated:int rush_off_goal_generated:int rush_off_success:float breakaway_goals:int
    backchecks:int forechecks:int dekes:int screens:int crash_net:int cutbacks:int cycles:int delays:int
    drives_corner:int drives_middle:int drives_wide:int drives_total:int give_and_go:int poke_checks:int
    stick_checks:int second_touch:int zone_ent_denials:int breakouts:int loose_puck_wins:int
    puck_battles_total:int pass_attempts:int pass_completed:int pass_pct:float puck_recoveries:int dump_ins:int
    bad_giveaways:int plays_successful:int plays_unsuccessful:int play_success_rate:float
    primary_def_events:int support_def_events:int def_involvement:int
    odd_man_rushes:int rush_xg:float xg_for:float war:float player_rating:float adjusted_rating:float
    performance_index:float rating_diff:float
"""
_MICRO_STATS = """
    backchecks:int forechecks:int dekes:int screens:int crash_net:int cutbacks:int cycles:int delays:int
    drives_corner:int drives_middle:int drives_wide:int drives_total:int give_and_go:int poke_checks:int
    stick_checks:int second_touch:int zone_ent_denials:int breakouts:int loose_puck_wins:int
    puck_battles_total:int pass_attempts:int pass_completed:int pass_pct:float puck_recoveries:int dump_ins:int
    bad_giveaways:int blocks:int plays_successful:int plays_unsuccessful:int play_success_rate:float
    primary_def_events:int support_def_events:int def_involvement:int
"""
_SEASON = {"season_id": ("dim_season", "season_id")}

_TABLES = [
    # ---------------------------------------------------------------- dims
    _table("dim_league", "dim", ("league_id",), "league_id:text league_name:text",
           description="Leagues (from the league workbook)."),
    _table("dim_season", "dim", ("season_id",),
           "season_id:text season:int session:text league_id:text start_date:date",
           {"league_id": ("dim_league", "league_id")}, "Seasons (from the league workbook)."),
    _table("dim_team", "dim", ("team_id",),
           "team_id:text team_name:text long_team_name:text team_cd:text league_id:text team_color1:text "
           "team_color2:text team_color3:text team_color4:text primary_color:text team_logo:text team_url:text",
           {"league_id": ("dim_league", "league_id")},
           "Teams (from the league workbook, its column names); primary_color is team_color1."),
    _table("dim_player", "dim", ("player_id",),
           "player_id:text player_full_name:text player_first_name:text player_last_name:text player_name:text "
           "player_primary_position:text current_skill_rating:int player_rating_ly:int highest_beer_league:text "
           "jersey_number:int player_norad_current_team:text player_norad_current_team_id:text team_id:text "
           "random_player_full_name:text player_url:text other_url:text player_image:text birth_year:int "
           "player_gender:text",
           description="Players (from the league workbook, its column names). player_name is the full name, "
           "team_id the current team, jersey_number the primary number; birth_year and player_gender are "
           "not in the shared data (null)."),
    _table("dim_schedule", "dim", ("game_id",),
           "game_id:int season_id:text season:int league_id:text date:date game_time:text home_team_id:text "
           "away_team_id:text home_team_name:text away_team_name:text game_type:text schedule_type:text "
           "playoff_round:text last_period_type:text home_total_goals:int away_total_goals:int "
           "official_home_goals:int official_away_goals:int "
           "home_team_period1_goals:int home_team_period2_goals:int home_team_period3_goals:int "
           "home_team_periodot_goals:int away_team_period1_goals:int away_team_period2_goals:int "
           "away_team_period3_goals:int away_team_periodot_goals:int "
           "home_pp_goals:int home_pp_opportunities:int home_pk_goals_against:int home_pk_opportunities:int "
           "away_pp_goals:int away_pp_opportunities:int away_pk_goals_against:int away_pk_opportunities:int "
           "game_url:text video_url_1:text video_url_2:text video_start_offset:float",
           {"season_id": ("dim_season", "season_id"), "home_team_id": ("dim_team", "team_id"),
            "away_team_id": ("dim_team", "team_id")},
           "Games as the league schedule lists them (its column names; totals as written in the schedule). "
           "official_*_goals are the scoresheet's (what standings count); schedule_type is game_type; "
           "power-play columns are not in the league data (null)."),
    _table("dim_event_type", "dim", ("event_type_id",),
           "event_type_id:text event_type_code:text event_type_name:text event_category:text "
           "description:text is_corsi:bool is_fenwick:bool",
           description="Tracker event types (workbook vocabulary)."),
    _table("dim_event_detail", "dim", ("event_detail_id",),
           "event_detail_id:text event_detail_code:text event_detail_name:text event_type:text category:text "
           "description:text is_shot_on_goal:bool is_goal:bool is_miss:bool is_block:bool danger_potential:text",
           description="Event detail vocabulary (workbook)."),
    _table("dim_event_detail_2", "dim", ("event_detail_2_id",),
           "event_detail_2_id:text event_detail_2_code:text event_detail_2_name:text event_type:text "
           "event_type_macro:text category:text description:text is_shot_on_goal:bool is_goal:bool "
           "is_miss:bool is_block:bool danger_potential:text",
           description="Second event detail vocabulary (workbook)."),
    _table("dim_play_detail", "dim", ("play_detail_id",),
           "play_detail_id:text play_detail_code:text play_detail_name:text play_category:text "
           "skill_level:text description:text",
           description="Play detail vocabulary (workbook dim_play_detail)."),
    _table("dim_play_detail_2", "dim", ("play_detail_id",),
           "play_detail_id:text play_detail_code:text play_detail_name:text play_category:text "
           "skill_level:text description:text",
           description="Second play detail vocabulary (workbook dim_play_detail_2)."),
    _table("dim_period", "dim", ("period_id",), "period_id:int period_name:text period_type:text",
           description="Periods: 1-3 regulation, 4 overtime, 5 shootout."),
    _table("dim_strength", "dim", ("strength",),
           "strength:text skaters_for:int skaters_against:int is_even:bool situation:text",
           description="Manpower situations 'NvM' (N skaters for the team of reference, M against)."),
    # ---------------------------------------------------------------- facts
    _table("fact_gameroster", "fact", ("game_id", "player_id"),
           "game_id:int player_id:text player_full_name:text team_id:text team_name:text opp_team_id:text "
           "opp_team_name:text team_venue:text player_game_number:int player_game_number_raw:text "
           "player_position:text games_played:int goals:int assist:int points:int pim:int pim_total:int "
           "goals_against:int shutouts:int sub:int is_sub:bool skill_rating:int player_skill_rating:int "
           "date:date season:int season_id:text",
           {**_GAME, **_PLAYER, **_TEAM},
           "The official scoresheet: one row per player per game (workbook fact_gameroster, its column names). "
           "player_game_number is the jersey (null when not a number, as written in player_game_number_raw)."),
    _table("fact_events", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int period:int clock_start_s:float clock_end_s:float event_type:text "
           "event_detail:text event_detail_2:text success:bool team_id:text team_venue:text zone:text "
           "linked_event_id:int strength:text puck_x:float puck_y:float source_file:text "
           "season_id:text home_team_id:text away_team_id:text home_team:text away_team:text "
           "event_start_min:int event_start_sec:int event_end_min:int event_end_sec:int "
           "time_start_total_seconds:float event_team_zone:text shift_id:int "
           "player_game_number:int player_name:text player_role:text player_team:text play_detail1:text "
           "play_detail_2:text event_player_ids:text opp_player_ids:text is_goal:bool is_save:bool "
           "is_rebound:bool is_rush:bool is_highlight:bool danger_level:text linked_event_key:text "
           "puck_x_start:float puck_y_start:float play_key:text sequence_key:text running_video_time:float",
           {**_GAME, **_TEAM}, "One row per tracked event. Clocks are seconds remaining in the period; "
           "player_* columns describe event_player_1; shift_id is the shift the event happened in."),
    _table("fact_event_players", "fact", ("game_id", "event_id", "seq"),
           "game_id:int event_id:int seq:int role:text side:text role_number:int team_id:text team_venue:text "
           "jersey:int player_id:text play_detail_1:text play_detail_2:text play_success:text player_role:text",
           {**_GAME, **_PLAYER, **_TEAM},
           "One row per player in an event: role event_player_N (event team) or opp_player_N (opponent)."),
    _table("fact_shifts", "fact", ("game_id", "shift_id"),
           "game_id:int shift_id:int period:int clock_start_s:float clock_end_s:float duration_s:float "
           "start_type:text stop_type:text home_skaters:int away_skaters:int strength:text "
           "home_empty_net:bool away_empty_net:bool source_file:text "
           "season_id:text home_team_id:text away_team_id:text home_team:text away_team:text shift_index:int "
           "shift_start_total_seconds:float shift_end_total_seconds:float player_id:text "
           "cf:int ca:int ff:int fa:int sa:int cf_pct:float ff_pct:float fo_pct:float",
           _GAME, "One row per shift (interval between line changes); strength is home v away skaters; "
           "cf/ca/ff/fa/sa and the percentages are the home team's; player_id is empty (one row per shift)."),
    _table("fact_shift_players", "fact", ("game_id", "shift_id", "team_venue", "slot"),
           "game_id:int shift_id:int team_venue:text slot:text team_id:text jersey:int player_id:text is_goalie:bool "
           "is_first_segment:bool logical_shift_number:int",
           {**_GAME, **_PLAYER, **_TEAM}, "One row per player on the ice in a shift (slots F1 F2 F3 D1 D2 X G)."),
    _table("fact_goals", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int period:int clock_s:float team_id:text team_venue:text goal_type:text "
           "scorer_player_id:text scorer_jersey:int primary_assist_player_id:text primary_assist_jersey:int "
           "secondary_assist_player_id:text secondary_assist_jersey:int goalie_player_id:text strength:text",
           {**_GAME, **_TEAM}, "Tracked goals (event type Goal) with scorer and linked assists."),
    _table("fact_shots", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int period:int clock_s:float team_id:text team_venue:text "
           "shooter_player_id:text shooter_jersey:int event_detail:text shot_type:text result:text "
           "is_on_goal:bool is_goal:bool is_blocked:bool is_missed:bool x:float y:float "
           "distance_ft:float angle_deg:float",
           {**_GAME, **_TEAM}, "Tracked shot attempts (event type Shot)."),
    _table("fact_faceoffs", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int period:int clock_s:float zone:text event_detail:text "
           "winner_team_id:text winner_player_id:text winner_jersey:int loser_team_id:text "
           "loser_player_id:text loser_jersey:int",
           _GAME, "Tracked faceoffs; the event team won the draw."),
    _table("fact_zone_entries", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int period:int clock_s:float team_id:text player_id:text jersey:int "
           "entry_type:text success:bool",
           {**_GAME, **_PLAYER, **_TEAM}, "Tracked zone entries (Zone_Entry_Exit / Zone_Entry)."),
    _table("fact_zone_exits", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int period:int clock_s:float team_id:text player_id:text jersey:int "
           "exit_type:text success:bool",
           {**_GAME, **_PLAYER, **_TEAM}, "Tracked zone exits (Zone_Entry_Exit / Zone_Exit)."),
    _table("fact_player_game_stats", "fact", ("game_id", "player_id"),
           "game_id:int player_id:text team_id:text team_venue:text jersey:int position:text game_status:text "
           "goals:int assists:int points:int" + _TRACKED_PLAYER_STATS + _DASHBOARD_PLAYER_STATS,
           {**_GAME, **_PLAYER, **_TEAM},
           "Per player per game: official goals/assists/points (scoresheet) and tracked stats (events, shifts). "
           "Tracked columns are null when the game is untracked; toi/shift/on-ice columns null without shifts."),
    _table("fact_goalie_game_stats", "fact", ("game_id", "player_id"),
           "game_id:int player_id:text team_id:text game_status:text official_goals_against:int "
           "shots_against:int saves:int goals_against:int save_pct:float toi_seconds:float "
           "date:date player_name:text team_name:text hd_shots_against:int hd_saves:int saves_blocker:int "
           "saves_butterfly:int saves_chest:int saves_glove:int saves_pad:int saves_scramble:int saves_stick:int "
           "goals_saved_above_avg:float goalie_war:float goalie_gar_total:float",
           {**_GAME, **_PLAYER, **_TEAM}, "Per goalie per game: tracked shots against, saves, goals against; "
           "saves by type from Save events; hd_* only for games with shot locations; war/gar from models."),
    _table("fact_team_game_stats", "fact", ("game_id", "team_id"),
           "game_id:int team_id:text opponent_team_id:text team_venue:text game_status:text "
           "goals:int goals_against:int result:text tracked_goals:int tracked_goals_against:int "
           "shots:int shots_on_goal:int corsi_for:int corsi_against:int fenwick_for:int fenwick_against:int "
           "faceoff_wins:int faceoff_losses:int giveaways:int takeaways:int zone_entries:int zone_exits:int "
           "season_id:text game_type:text team_name:text assists:int points:int sog:int shooting_pct:float "
           "cf_pct:float blocks:int hits:int plus_minus_total:int avg_game_score:float toi_seconds:float "
           "xg_for:float war:float gar_total:float avg_adjusted_rating:float",
           {**_GAME, **_TEAM}, "Per team per game: official result and tracked team totals."),
    _table("fact_player_season_stats", "fact", ("season_id", "player_id"),
           "season_id:text player_id:text games_played:int goals:int assists:int points:int tracked_games:int"
           + _TRACKED_PLAYER_STATS,
           {"season_id": ("dim_season", "season_id"), **_PLAYER},
           "Per player per season: official totals over all games; tracked totals over complete games only."),
    _table("fact_goalie_season_stats", "fact", ("season_id", "player_id"),
           "season_id:text player_id:text games_played:int official_goals_against:int tracked_games:int "
           "shots_against:int saves:int goals_against:int save_pct:float",
           {"season_id": ("dim_season", "season_id"), **_PLAYER},
           "Per goalie per season; tracked columns over complete games only."),
    _table("fact_team_season_stats", "fact", ("season_id", "team_id"),
           "season_id:text team_id:text games_played:int wins:int losses:int ties:int goals_for:int "
           "goals_against:int tracked_games:int shots:int shots_on_goal:int corsi_for:int corsi_against:int "
           "fenwick_for:int fenwick_against:int faceoff_wins:int faceoff_losses:int",
           {"season_id": ("dim_season", "season_id"), **_TEAM},
           "Per team per season; tracked columns over complete games only."),
    _table("fact_game_status", "fact", ("game_id",),
           "game_id:int season_id:text game_date:date home_team_id:text away_team_id:text home_team:text "
           "away_team:text official_home_goals:int official_away_goals:int tracked_home_goals:int "
           "tracked_away_goals:int tracking_status:text has_shifts:bool",
           _GAME, "Every scheduled game with its tracking status (complete / partial / untracked)."),
    _table("fact_player_season_stats_basic", "fact", ("season_id", "game_type", "player_id"),
           "season_id:text season:int game_type:text player_id:text player_name:text team_id:text team_name:text "
           "position:text games_played:int goals:int assists:int points:int pim:int points_per_game:float "
           "tracked_games:int shots:int shooting_pct:float cf_pct:float xg_for:float xg_per_game:float "
           "xg_adj:float goals_above_expected:float war:float gar:float player_rating:float",
           {"season_id": ("dim_season", "season_id"), **_PLAYER},
           "Per skater per season and game type (Regular, Playoffs, All) from the scoresheet; shots, "
           "shooting_pct and cf_pct over complete tracked games; xg/war/gar/rating filled by the models."),
    _table("fact_goalie_season_stats_basic", "fact", ("season_id", "game_type", "player_id"),
           "season_id:text season:int game_type:text player_id:text player_name:text team_id:text team_name:text "
           "games_played:int wins:int losses:int ties:int shutouts:int goals_against:int gaa:float win_pct:float "
           "tracked_games:int shots_against:int saves:int save_pct:float goalie_war:float goalie_gar:float",
           {"season_id": ("dim_season", "season_id"), **_PLAYER},
           "Per goalie per season and game type: W-L-T and shutouts from the team result of each game the "
           "goalie dressed for; saves over complete tracked games; war/gar filled by the models."),
    _table("fact_team_season_stats_basic", "fact", ("season_id", "game_type", "team_id"),
           "season_id:text season:int game_type:text team_id:text team_name:text games_played:int wins:int "
           "losses:int ties:int points:int goals_for:int goals_against:int goal_diff:int win_pct:float "
           "goals_for_per_game:float goals_against_per_game:float",
           {"season_id": ("dim_season", "season_id"), **_TEAM},
           "Team record per season and game type from official results (2 points a win, 1 a tie)."),
    _table("fact_video", "fact", ("video_key",),
           "video_key:text game_id:int video_type_id:text video_url:text period_1_start:float",
           _GAME, "Game videos: the schedule's video_url and the tracker exports' video links (period_1_start: "
           "seconds into the video where period 1 starts)."),
    # ---------------------------------------------------------------- tracked analytics (dashboard)
    _table("fact_shot_xy", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int shot_id:text player_id:text team_id:text team_venue:text period:int "
           "shot_x:float shot_y:float distance_ft:float angle_deg:float box_id:text danger_zone:text "
           "result:text is_goal:bool",
           {**_GAME, **_PLAYER, **_TEAM},
           "Shot attempts with a location (JSON 25.0) and the league's danger zone (dim_rinkcoordzones)."),
    _table("fact_saves", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int period:int clock_start_s:float team_id:text team_venue:text "
           "goalie_player_id:text event_type:text save_type:text save_result:text shot_event_id:int "
           "shot_result:text shooter_player_id:text danger_level:text",
           {**_GAME, **_TEAM}, "Save events: goalie, save type and result, the shot stopped and its danger."),
    _table("fact_zone_entry_summary", "fact", ("game_id", "player_id"),
           "game_id:int player_id:text team_id:text total_entries:int successful_entries:int failed_entries:int "
           "controlled_entries:int dump_entries:int",
           {**_GAME, **_PLAYER, **_TEAM}, "Zone entries per player per game (the carrier, event_player_1)."),
    _table("fact_zone_exit_summary", "fact", ("game_id", "player_id"),
           "game_id:int player_id:text team_id:text total_exits:int successful_exits:int failed_exits:int "
           "controlled_exits:int clear_exits:int",
           {**_GAME, **_PLAYER, **_TEAM}, "Zone exits per player per game (event_player_1)."),
    _table("fact_player_micro_stats", "fact", ("game_id", "player_id"),
           "game_id:int player_id:text team_id:text player_name:text" + _MICRO_STATS,
           {**_GAME, **_PLAYER, **_TEAM}, "Micro stats per player per game from play details and events."),
    _table("fact_line_combos", "fact", ("game_id", "venue", "combo_type", "forward_combo"),
           "game_id:int season_id:text venue:text team_id:text home_team_id:text away_team_id:text "
           "combo_type:text forward_combo:text shifts:int toi_together:float corsi_for:int corsi_against:int "
           "cf_pct:float goals_for:int goals_against:int",
           {**_GAME, **_SEASON}, "Forward lines (F1-F3) and defence pairs (D1-D2) on the ice together."),
    _table("fact_wowy", "fact", ("game_id", "player_1_id", "player_2_id"),
           "game_id:int season_id:text venue:text home_team_id:text away_team_id:text player_1_id:text "
           "player_2_id:text toi_together:float toi_apart:float cf_together:int ca_together:int "
           "cf_pct_together:float cf_apart:int ca_apart:int cf_pct_apart:float cf_pct_delta:float",
           {**_GAME, **_SEASON}, "Teammate pairs: Corsi share with and without each other (both orders)."),
    _table("fact_player_qoc_summary", "fact", ("game_id", "player_id"),
           "game_id:int player_id:text team_venue:text shifts_tracked:int toi_seconds:float "
           "avg_own_rating:float avg_opp_rating:float rating_diff:float",
           {**_GAME, **_PLAYER}, "Quality of competition and teammates: skill ratings on the ice, TOI-weighted."),
    _table("fact_team_zone_time", "fact", ("game_id", "venue"),
           "game_id:int venue:text team_id:text offensive_zone_events:int neutral_zone_events:int "
           "defensive_zone_events:int offensive_zone_pct:float neutral_zone_pct:float defensive_zone_pct:float",
           _GAME, "Tracked events per team per game by zone, from the team's side."),
    _table("fact_puck_xy_long", "fact", ("game_id", "event_id", "point_number"),
           "game_id:int event_id:int point_number:int x:float y:float",
           _GAME, "Every point of the puck's path in an event (JSON 25.0)."),
    _table("fact_puck_xy_wide", "fact", ("game_id", "event_id"),
           "game_id:int event_id:int period:int event_type:text event_detail:text point_count:int "
           + " ".join(f"x_{n}:float y_{n}:float" for n in range(1, 11)),
           _GAME, "The puck's path per event, its first ten points as columns (JSON 25.0)."),
    _table("fact_player_xy_long", "fact", ("game_id", "event_id", "seq", "point_number"),
           "game_id:int event_id:int seq:int point_number:int player_id:text player_name:text jersey:int "
           "team_venue:text player_role:text x:float y:float",
           {**_GAME, **_PLAYER}, "Every point of each player's path in an event (JSON 25.0)."),
    # ---------------------------------------------------------------- qa
    _table("qa_game_completeness", "qa", ("game_id",),
           "game_id:int source_file:text home_team_id:text away_team_id:text official_home_goals:int "
           "official_away_goals:int tracked_home_goals:int tracked_away_goals:int events:int event_players:int "
           "shifts:int periods_covered:text has_shifts:bool status:text note:text",
           _GAME, "Per game: tracked vs official goals; status complete / partial / untracked."),
    _table("qa_data_issues", "qa", ("issue_id",),
           "issue_id:int game_id:int file:text sheet:text row:int column:text severity:text category:text "
           "message:text action:text",
           description="Every anomaly found in the inputs, with what the ETL did about it."),
]

TABLES: dict[str, TableSpec] = {t.name: t for t in _TABLES}

# Foreign keys declared in the database where the dashboard embeds one relation in another (PostgREST needs a
# constraint to embed: dim_schedule?select=...,dim_season!inner(...)). Declared NOT VALID: the league's data
# has rows that do not resolve, and the validate job reports them. (table, column, referenced table, column)
EMBED_FOREIGN_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("dim_schedule", "season_id", "dim_season", "season_id"),
)

