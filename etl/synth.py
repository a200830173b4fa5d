"""Synthetic league and tracker data in the real BenchSight input formats.

`generate()` writes a league workbook (`blb/BLB_Tables.xlsx`), tracker workbooks
(`tracking/xlsx/<game_id>_tracking.xlsx`, in both real column layouts) and tracker JSON exports
(`tracking/json/<game_id>.json`, versions 23.8 and 25.0) for a made-up league. Tests that must run
without the real data and the scale benchmarks (`bench/etl.py`) use it.

Every game is simulated once into a canonical form (shifts, events, official scoresheet) and then
written in one or both tracker formats, so a game emitted as xlsx and JSON has identical content. A
complete game's tracked goals and assists equal its official scoresheet; a partial game stops being
tracked before one of its goals, as real partly tracked games do.

The rates below were measured from the real data in ../shared/data (never copied rows): each sheet was
read with `pandas.read_excel(engine="calamine")` and the JSON exports with `json.load`, and counted with
value_counts/groupby over the fully tracked games 18969, 18981 and 18987 (events, shifts), 18965 and
18977 (events), the league workbook's dim_schedule (572 games) and fact_gameroster (14,726 rows).
Names, teams and ids are generated from syllables; no real person or team appears.
`python -m etl.synth --stats --games 200` prints the same measures over simulated games.

Quirks of the real files that are reproduced, so readers meet them in tests: workbooks spell detail-2
values with a hyphen (`Pass-Forehand`) and drop the `Possession_` prefix, JSON keeps the vocabulary
spelling (`Pass_Forehand`, `Possession_PuckRetrieval`); the wide layout fills input columns on an event's
first row only and names roles `event_team_player_1`, the slim layout repeats them and says `event_player_1`;
v23.8 JSON has integer jerseys, boolean success and no coordinates, v25.0 string jerseys, `s`/`u` success
and x/y for players and puck; the clock keeps running through dead time between a stoppage and its faceoff.
JSON is written compact (the tracker indents by one space; json's indenting encoder is ~10x slower).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import sys
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import xlsxwriter

__all__ = ["SynthSet", "generate", "main"]

# --------------------------------------------------------------------------------------------------
# Calibration, measured from the real data (see module docstring for the approach).
# --------------------------------------------------------------------------------------------------

PERIOD_MINUTES = 18  # dim_schedule.period_length is 00:18:00 for 552 of 572 games
PERIODS = 3  # 571 of 572 games end in regulation; ties are allowed
MINOR_PENALTY_MINUTES = 3  # penaltyLengths.minor in every JSON export; fact_gameroster pim steps of 3

# Official goals per team per game (dim_schedule home/away_total_goals, 1,144 team-games; mean 4.56).
GOALS_PER_TEAM = {0: 0.028, 1: 0.072, 2: 0.129, 3: 0.138, 4: 0.171, 5: 0.135, 6: 0.106, 7: 0.089,
                  8: 0.063, 9: 0.033, 10: 0.016, 11: 0.008, 12: 0.007, 13: 0.003, 14: 0.002}
# fact_gameroster: 0.916 assists per goal. Split into 0/1/2 assists per goal with that mean.
ASSISTS_PER_GOAL = {0: 0.30, 1: 0.484, 2: 0.216}
# fact_gameroster: 0.26 penalty minutes per player-game, ~26 players a game -> ~2.3 minors a game.
PENALTIES_PER_GAME = 2.3
# fact_gameroster rows per team per game: median 14, IQR 12-22 (includes goalie).
SKATERS_DRESSED = (11, 14)
# Tracked events per fully tracked game: 1594, 1296, 1578 (xlsx), 1632 (18965), mean ~1525; the
# free-play gap below is tuned so a simulated game lands there (check: `python -m etl.synth --stats`).
FREE_GAP_SECONDS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4)
# Shifts per fully tracked game: 98, 106, 106 (mean length 30.6-34.1 s, sd ~28 s, max ~130 s);
# ~70% of shifts start on the fly, the rest at a faceoff.
ON_THE_FLY_SHIFT_MEAN_SECONDS = 40.0
ON_THE_FLY_SHIFT_SHAPE = 1.6
# Stoppages that are not goals or penalties, per period (shift stop types of 18969/18981/18987:
# goalie freezes ~7/game each way, icings ~5, puck out of play ~4, offside ~1 -> ~9 a period).
STOPPAGES_PER_PERIOD = 13.0
STOPPAGE_REASONS = {"freeze": 0.55, "icing": 0.25, "out": 0.14, "offside": 0.06}
DEAD_SECONDS = {"goal": (18, 35), "penalty": (15, 40), "freeze": (4, 22), "icing": (5, 20),
                "out": (5, 20), "offside": (4, 15)}

# Event type mix of free play (share of all events in the fully tracked games: Possession .275,
# Zone_Entry_Exit .194, Pass .171, Turnover .125, Shot .070, Play .016, LoosePuck .003; Save,
# Rebound, Stoppage, Faceoff, DeadIce, Goal and Penalty follow from shots and stoppages).
# Weights are adjusted for shots drawn outside the attacking zone becoming zone entries.
FREE_TYPE_MIX = {"Possession": 0.275, "Zone_Entry_Exit": 0.145, "Pass": 0.171, "Turnover": 0.125,
                 "Shot": 0.108, "Play": 0.016, "LoosePuck": 0.003}
POSSESSION_DETAIL = {"": 0.515, "PuckRetrieval": 0.289, "PuckRecovery": 0.167, "Regroup": 0.021,
                     "Breakaway": 0.008}
PASS_DETAIL = {"Pass_Completed": 0.623, "Pass_Missed": 0.239, "Pass_Deflected": 0.088,
               "Pass_Intercepted": 0.050}
PASS_DETAIL_2 = {"": 0.34, "Pass_Forehand": 0.389, "Pass_Backhand": 0.082, "Pass_Rim/Wrap": 0.06,
                 "Pass_Stretch": 0.037, "Pass_ReceiverMissed": 0.027, "Pass_Drop": 0.027,
                 "Pass_Bank": 0.021, "Pass_Lob": 0.007, "Pass_Tipped": 0.004, "Pass_OneTouch": 0.001}
# Shot_Goal (3.5% of shots) is not drawn: goals come from the official score.
SHOT_DETAIL = {"Shot_OnNetSaved": 0.488, "Shot_Blocked": 0.251, "Shot_Missed": 0.201,
               "Shot_BlockedSameTeam": 0.017, "Shot_Deflected": 0.017, "Shot_TippedOnNetSaved": 0.013,
               "Shot_DeflectedOnNetSaved": 0.007, "Shot_MissedPost": 0.006}
SHOT_DETAIL_2 = {"Shot_Wrist": 0.519, "": 0.363, "Shot_Backhand": 0.035, "Shot_Tip": 0.025,
                 "Shot_OneTime": 0.019, "Shot_WrapAround": 0.013, "Shot_Poke": 0.01, "Shot_Snap": 0.006,
                 "Shot_Slap": 0.003}
GOAL_DETAIL_2 = {"Goal_Wrist": 0.545, "Goal_Backhand": 0.182, "Goal_Tip": 0.091, "Goal_Poke": 0.091,
                 "Goal_Snap": 0.091}
SAVE_DETAIL_2 = {"": 0.327, "Save_Butterfly": 0.157, "Save_Chest": 0.111, "Save_LeftPad": 0.105,
                 "Save_Glove": 0.105, "Save_RightPad": 0.098, "Save_Shoulder": 0.059, "Save_Stick": 0.02,
                 "Save_Blocker": 0.007, "Save_Other": 0.011}
REBOUND_DETAIL = {"Rebound_TeamRecovered": 0.53, "Rebound_OppTeamRecovered": 0.375,
                  "Rebound_ShotGenerated": 0.063, "Rebound_FlurryGenerated": 0.032}
ZONE_ENTRY_2 = {"": 0.36, "ZoneEntry_Rush": 0.35, "ZoneEntry_DumpIn": 0.09, "ZoneEntry_PassMiss/Misplay": 0.08,
                "ZoneEntry_FromExitClear": 0.08, "ZoneEntry_Pass": 0.02, "ZoneEntry_Chip": 0.02}
ZONE_EXIT_2 = {"": 0.36, "ZoneExit_Rush": 0.2, "ZoneExit_PassMiss/Misplay": 0.13, "ZoneExit_Pass": 0.11,
               "ZoneExit_Clear": 0.10, "ZoneExit_Chip": 0.035, "ZoneExit_CausedTurnover": 0.03,
               "ZoneExit_OppTeam": 0.035}
ZONE_FAILED_SHARE = 0.03  # Zone_Entryfailed / Zone_ExitFailed / Zone_KeepinFailed ~1.2% each
GIVEAWAY_SHARE = 0.80  # Turnover_Giveaway .79, Turnover_Takeaway .19
GIVEAWAY_2 = {"": 0.36, "Giveaway_ZoneClear/Dump": 0.13, "Giveaway_AttemptedZoneClear/Dump": 0.12,
              "Giveaway_PassMissed": 0.115, "Giveaway_PassIntercepted": 0.057, "Giveaway_ShotBlocked": 0.05,
              "Giveaway_Misplayed": 0.046, "Giveaway_PassBlocked": 0.038, "Giveaway_DumpInZone": 0.032,
              "Giveaway_ZoneEntry/ExitMisplay": 0.025, "Giveaway_BattleLost": 0.027}
TAKEAWAY_2 = {"": 0.38, "Takeaway_PokeCheck": 0.42, "Takeaway_BattleWon": 0.15, "Takeaway_PassIntercepted": 0.05}
PLAY_DETAIL = {"Play_Defensive": 0.7, "Play_Offensive": 0.3}
PLAY_DEFENSIVE_2 = {"": 0.34, "Play_PokeCheck": 0.43, "Play_SeperateFromPuck": 0.14, "Play_AttemptedClear": 0.09}
PLAY_OFFENSIVE_2 = {"": 0.34, "Play_Deke": 0.3, "Play_Dump/RimInZone": 0.18, "Play_DumpChase": 0.18}
PENALTY_DETAIL_2 = {"Penalty_Tripping": 0.4, "": 0.3, "Penalty_Roughing": 0.2, "Penalty_Hooking": 0.1}
# Per-player play details: 27% of player rows carry one (StickCheck, SecondTouch, InShotPassLane...).
PLAY_DETAIL_ROW_SHARE = 0.27
OFFENSIVE_PLAY_DETAILS = ("SecondTouch", "Breakout", "PuckRetrievalDumpIn", "Deke", "CutBack", "Delay",
                          "DriveMiddle", "DriveWide", "Cycle")
DEFENSIVE_PLAY_DETAILS = ("StickCheck", "InShotPassLane", "PokeCheck", "Backcheck", "ManOnMan",
                          "GapControl", "Contain", "BlockedShot")
# Extra players per event beyond event_team_player_1 (mean event/opp players per event by type).
EXTRA_PLAYERS = {  # type: (mean event players, mean opp players)
    "Possession": (1.02, 0.49), "Zone_Entry_Exit": (1.32, 0.72), "Pass": (1.94, 0.60),
    "Turnover": (1.22, 0.60), "Shot": (1.11, 1.22), "Play": (1.06, 0.83), "LoosePuck": (1.17, 1.33),
    "Save": (1.0, 1.0), "Rebound": (1.01, 0.01), "Stoppage": (0.98, 0.03), "DeadIce": (1.0, 0.0),
    "Faceoff": (1.59, 0.99), "Goal": (1.0, 1.18), "Penalty": (1.0, 0.3),
}
# Share of events whose success flag is left blank by the tracker (Pass .54, Shot .59, Zone .60).
SUCCESS_BLANK_SHARE = 0.55

# Format mix of the real inputs: 8 tracker workbooks (6 wide layout, 2 slim), 6 JSON (5 v23.8, 1 v25.0).
SLIM_LAYOUT_SHARE = 0.25
JSON_V25_SHARE = 0.2

# --------------------------------------------------------------------------------------------------
# Real formats: sheet names and column order of each input (schema, not data).
# --------------------------------------------------------------------------------------------------

WIDE_SHEETS = ("examples", "Sheet1", "Rules", "Lists", "events", "shifts", "game_rosters")
SLIM_SHEETS = ("events", "shifts")

WIDE_EVENT_COLUMNS = (
    "event_index_flag_", "sequence_index_flag_", "play_index_flag_", "linked_event_index_flag_",
    "event_start_min_", "event_start_sec_", "event_end_min_", "event_end_sec_", "player_game_number_",
    "event_team_zone_", "event_type_", "event_detail_", "event_detail_2_", "event_successful_",
    "play_detail1_", "play_detail2_", "play_detail_successful_", "pressured_pressurer_", "event_index_",
    "linked_event_index_", "sequence_index_", "play_index_", "team_", "player_game_number",
    "role_abrev_binary_", "period", "event_index", "linked_event_index", "tracking_event_index",
    "event_start_min", "event_start_sec", "event_end_min", "event_end_sec", "role_abrev",
    "event_team_zone2_", "event_team_zone", "home_team_zone_", "away_team_zone_", "team_venue_",
    "team_venue_abv_", "home_team_zone", "away_team_zone", "team_venue", "team_venue_abv", "side_of_puck",
    "sequence_index", "play_index", "play_detail1", "play_detail_2", "play_detail_successful",
    "pressured_pressurer", "zone_change_index", "game_id", "home_team", "away_team", "Type", "event_detail",
    "event_detail_2", "event_successful", "shift_index", "duration", "time_start_total_seconds",
    "time_end_total_seconds", "running_intermission_duration", "period_start_total_running_seconds",
    "running_video_time", "event_running_start", "event_running_end", "player_role", "role_number",
    "player_id", "player_team",
)
SLIM_EVENT_COLUMNS = (
    "event_index_flag_", "sequence_index_flag_", "play_index_flag_", "linked_event_index_flag_",
    "event_start_min_", "event_start_sec_", "event_end_min_", "event_end_sec_", "event_team_zone_",
    "event_type_", "event_detail_", "event_detail_2_", "event_successful_", "team_", "period",
    "event_index", "game_id", "home_team", "away_team", "strength", "event_team_zone", "event_start_min",
    "event_start_sec", "event_end_min", "event_end_sec", "event_detail", "event_detail_2",
    "event_successful", "is_highlight", "Type", "player_game_number_", "role_abrev", "player_game_number",
    "role_abrev_binary_", "player_role", "player_name", "play_detail1_", "play_detail2_",
    "play_detail_successful_", "pressured_pressurer_", "side_of_puck_", "play_detail1", "play_detail_2",
    "play_detail_successful", "pressured_pressurer", "side_of_puck",
)
WIDE_SHIFT_COLUMNS = (
    "shift_index", "Period", "shift_start_min", "shift_start_sec", "shift_end_min", "shift_end_sec",
    "shift_start_type", "shift_stop_type", "home_forward_1", "home_forward_2", "home_forward_3",
    "home_defense_1", "home_defense_2", "home_xtra", "home_goalie", "away_forward_1", "away_forward_2",
    "away_forward_3", "away_defense_1", "away_defense_2", "away_xtra", "away_goalie", "stoppage_time",
    "home_ozone_start", "home_ozone_end", "home_dzone_start", "home_dzone_end", "home_nzone_start",
    "home_nzone_end", "game_id", "home_team", "away_team", "shift_start_total_seconds",
    "shift_end_total_seconds", "shift_duration", "home_team_strength", "away_team_strength", "home_team_en",
    "away_team_en", "home_team_pk", "home_team_pp", "away_team_pp", "away_team_pk", "situation", "strength",
    "home_goals", "away_goals", "home_team_plus", "home_team_minus", "away_team_plus", "away_team_minus",
    "period_start_total_running_seconds", "running_video_time", "shift_start_running_time",
    "shift_end_running_time",
)
SLIM_SHIFT_COLUMNS = (
    "shift_index", "Period", "shift_start_min", "shift_start_sec", "shift_end_min", "shift_end_sec",
    "shift_start_type", "shift_stop_type", "shift_duration", "stoppage_time", "home_forward_1",
    "home_forward_2", "home_forward_3", "home_defense_1", "home_defense_2", "home_goalie", "home_xtra",
    "away_forward_1", "away_forward_2", "away_forward_3", "away_defense_1", "away_defense_2", "away_goalie",
    "away_xtra", "game_id", "home_team", "away_team", "strength", "home_team_strength", "away_team_strength",
    "home_team_en", "away_team_en", "home_team_pk", "home_team_pp", "away_team_pp", "away_team_pk",
    "situation", "home_goals", "away_goals", "home_team_plus", "home_team_minus", "away_team_plus",
    "away_team_minus",
)

LEAGUE_COLUMNS = {
    "dim_player": ("index", "player_first_name", "player_last_name", "player_full_name", "player_id",
                   "player_primary_position", "current_skill_rating", "player_hand", "highest_beer_league",
                   "player_rating_ly", "player_leadership", "player_norad", "player_csaha",
                   "player_norad_primary_number", "player_csah_primary_number", "player_norad_current_team",
                   "player_csah_current_team", "player_norad_current_team_id", "player_csah_current_team_id",
                   "other_url", "player_url", "player_image", "random_player_first_name",
                   "random_player_last_name", "random_player_full_name"),
    "dim_team": ("index", "team_name", "team_id", "norad_team", "csah_team", "league_id", "league",
                 "long_team_name", "team_cd", "team_color1", "team_color2", "team_color3", "team_color4",
                 "team_logo", "team_url"),
    "dim_league": ("index", "league_id", "league"),
    "dim_season": ("index", "season_id", "season", "session", "norad", "csah", "league_id", "league",
                   "start_date"),
    "dim_schedule": ("index", "game_id", "season", "season_id", "game_url", "home_team_game_id",
                     "away_team_game_id", "date", "game_time", "home_team_name", "away_team_name",
                     "home_team_id", "away_team_id", "head_to_head_id", "game_type", "playoff_round",
                     "last_period_type", "period_length", "ot_period_length", "shootout_rounds",
                     "home_total_goals", "away_total_goals", "home_team_period1_goals",
                     "home_team_period2_goals", "home_team_period3_goals", "home_team_periodOT_goals",
                     "away_team_period1_goals", "away_team_period2_goals", "away_team_period3_goals",
                     "away_team_periodOT_goals", "home_team_seeding", "away_team_seeding", "home_team_w",
                     "home_team_l", "home_team_t", "home_team_pts", "away_team_w", "away_team_l",
                     "away_team_t", "away_team_pts", "video_id", "video_start_time", "video_end_time",
                     "video_title", "video_url"),
    "fact_gameroster": ("index", "game_id", "team_game_id", "opp_team_game_id", "player_game_id",
                        "team_venue", "team_name", "opp_team_name", "player_game_number", "n_player_url",
                        "player_position", "games_played", "goals", "assist", "goals_against", "pim",
                        "shutouts", "team_id", "opp_team_id", "key", "player_full_name", "player_id", "date",
                        "season", "sub", "current_team", "skill_rating"),
    "dim_event_type": ("event_type_id", "event_type_code", "event_type_name", "event_category",
                       "description", "is_corsi", "is_fenwick"),
    "dim_event_detail": ("event_detail_id", "event_detail_code", "event_detail_name", "event_type",
                         "category", "description", "is_shot_on_goal", "is_goal", "is_miss", "is_block",
                         "danger_potential"),
    "dim_event_detail_2": ("event_detail_2_id", "event_detail_2_code", "event_detail_2_name", "event_type",
                           "event_type_macro", "category", "description", "is_shot_on_goal", "is_goal",
                           "is_miss", "is_block", "danger_potential"),
    "dim_play_detail": ("play_detail_id", "play_detail_code", "play_detail_name", "play_category",
                        "skill_level", "description"),
    "dim_play_detail_2": ("play_detail_id", "play_detail_code", "play_detail_name", "play_category",
                          "skill_level", "description"),
    "dim_rinkboxcoord": ("box_id", "box_id_rev", "x_min", "x_max", "y_min", "y_max", "area", "x_description",
                         "y_description", "danger", "zone", "side"),
    "dim_rinkcoordzones": ("box_id", "box_id_rev", "x_min", "x_max", "y_min", "y_max", "y_description",
                           "x_description", "danger", "slot", "zone", "side", "dotside", "depth"),
}
LEAGUE_SHEETS = ("dim_rinkboxcoord", "dim_rinkcoordzones", "dim_player", "dim_team", "dim_league",
                 "dim_season", "dim_schedule", "fact_gameroster", "dim_event_type", "dim_event_detail",
                 "dim_event_detail_2", "dim_play_detail", "dim_play_detail_2")

EVENT_TYPES = (  # code, category, corsi, fenwick
    ("Shot", "offensive", True, True), ("Save", "goaltending", False, False),
    ("Pass", "playmaking", False, False), ("Faceoff", "faceoff", False, False),
    ("Turnover", "turnover", False, False), ("Zone_Entry_Exit", "transition", False, False),
    ("Possession", "possession", False, False), ("Penalty", "penalty", False, False),
    ("Hit", "physical", False, False), ("Block", "defensive", True, False),
    ("Stoppage", "stoppage", False, False), ("Goal", "scoring", True, True),
    ("LoosePuck", "transition", False, False), ("Rebound", "goaltending", False, False),
    ("DeadIce", "time", False, False), ("Play", "other", False, False),
    ("Intermission", "time", False, False), ("GameStart", "time", False, False),
    ("GameEnd", "time", False, False),
)
FACEOFF_DETAILS = ("Faceoff_AfterStoppage", "Faceoff_AfterGoal", "Faceoff_AfterPenalty", "Faceoff_GameStart",
                   "Faceoff_PeriodStart")
STOPPAGE_DETAILS = ("Stoppage_Play", "Stoppage_Period", "Stoppage_GameEnd")
STOPPAGE_DETAIL_2 = ("Stoppage_Goal", "Stoppage_GoalieStoppage", "Stoppage_Icing", "Stoppage_PuckOutofPlay",
                     "Stoppage_Offsides", "Stoppage_Penalty", "Stoppage_PeriodEnd")
ZONE_DETAILS = ("Zone_Entry", "Zone_Exit", "Zone_Keepin", "Zone_Entryfailed", "Zone_ExitFailed",
                "Zone_KeepinFailed")
ASSIST_PLAY_DETAILS = ("AssistPrimary", "AssistSecondary")

# --------------------------------------------------------------------------------------------------
# Made-up league: names from syllables.
# --------------------------------------------------------------------------------------------------

_FIRST_A = ("Bra", "Cor", "Dal", "Ev", "Fen", "Gar", "Hal", "Ja", "Kel", "Lor", "Mar", "Nol", "Or", "Per",
            "Quin", "Ros", "Sel", "Tor", "Vel", "Wyn", "Ar", "Bel", "Cal", "Dor")
_FIRST_B = ("en", "an", "ic", "ey", "o", "in", "am", "is", "a", "yn", "el", "on")
_LAST_A = ("Ash", "Birch", "Cold", "Dun", "Elm", "Frost", "Gale", "Holt", "Iron", "Kest", "Lark", "Moss",
           "North", "Oak", "Pike", "Quarry", "Reed", "Stone", "Thorn", "Vale", "Wick", "Yarrow")
_LAST_B = ("ford", "ley", "wood", "ridge", "by", "ton", "well", "mere", "croft", "dale", "stead", "hurst")
_TEAM_NAMES = ("Ironbark", "Kestrels", "Driftwood", "Lanterns", "Stonechats", "Quarrymen", "Thornbacks",
               "Gulls", "Millrace", "Foxglove", "Harrows", "Tidewater", "Bellwether", "Cinders")
_COLORS = ("#1F4E79", "#8B1E3F", "#2E7D32", "#F9A825", "#6A1B9A", "#00838F", "#D84315", "#37474F",
           "#AD1457", "#558B2F", "#4527A0", "#795548", "#0277BD", "#EF6C00")
LEAGUE_ID, LEAGUE_NAME = "S", "SYNTH"
TEAMS = 10
SKATERS_PER_TEAM = (11, 5)  # forwards, defense on a team's books, plus one goalie


@dataclass(frozen=True, slots=True)
class Player:
    player_id: str
    first: str
    last: str
    position: str  # Forward / Defense / Goalie
    number: int
    rating: int

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def pos(self) -> str:
        return self.position[0]


@dataclass(frozen=True, slots=True)
class Team:
    team_id: str
    name: str
    code: str
    color: str
    players: tuple[Player, ...]


def _build_league(rng: random.Random) -> list[Team]:
    names: set[str] = set()
    teams = []
    next_player = 200001
    for t in range(TEAMS):
        numbers = rng.sample(range(2, 99), sum(SKATERS_PER_TEAM) + 1)
        players = []
        positions = ["Forward"] * SKATERS_PER_TEAM[0] + ["Defense"] * SKATERS_PER_TEAM[1] + ["Goalie"]
        for position, number in zip(positions, numbers):
            while True:
                first = rng.choice(_FIRST_A) + rng.choice(_FIRST_B)
                last = rng.choice(_LAST_A) + rng.choice(_LAST_B)
                if f"{first} {last}" not in names:
                    names.add(f"{first} {last}")
                    break
            players.append(Player(f"P{next_player}", first, last, position, number, rng.randint(2, 6)))
            next_player += 1
        name = _TEAM_NAMES[t % len(_TEAM_NAMES)] + ("" if t < len(_TEAM_NAMES) else f" {t // len(_TEAM_NAMES) + 1}")
        teams.append(Team(f"S{10001 + t}", name, name[:3].upper(), _COLORS[t % len(_COLORS)], tuple(players)))
    return teams


# --------------------------------------------------------------------------------------------------
# Canonical game: one simulation, written in any format.
# --------------------------------------------------------------------------------------------------

SLOTS = ("F1", "F2", "F3", "D1", "D2", "G", "X")


@dataclass(slots=True)
class EventPlayer:
    num: int
    venue: str  # home / away
    role: str  # event / opp
    role_num: int
    play_d1: str = ""
    play_d2: str = ""
    xy: tuple[float, float] | None = None


@dataclass(slots=True)
class Event:
    idx: int
    period: int
    type: str
    detail1: str
    detail2: str
    venue: str  # the event team
    zone: str  # o/n/d from the event team's point of view
    success: bool | None
    start: int  # seconds left in the period
    end: int
    strength: str
    shift_idx: int | None
    linked: int | None = None
    sequence: int | None = None
    play: int | None = None
    assist_to: int | None = None
    players: list[EventPlayer] = field(default_factory=list)
    puck: list[tuple[float, float]] = field(default_factory=list)
    net: tuple[float, float] | None = None


@dataclass(slots=True)
class Shift:
    idx: int
    period: int
    start: int
    end: int
    start_type: str
    stop_type: str
    stoppage: int
    home: dict[str, int | None]
    away: dict[str, int | None]
    home_goals: int = 0  # score when the shift starts
    away_goals: int = 0
    home_plus: int = 0
    away_plus: int = 0
    zone_start: str = "n"  # puck zone from the home team's point of view
    zone_end: str = "n"


@dataclass(slots=True)
class Goal:
    period: int
    clock: int
    venue: str
    scorer: int
    assists: tuple[int, ...]
    tracked: bool = True


@dataclass(frozen=True, slots=True)
class GameSpec:
    game_id: int
    seed: int
    home: Team
    away: Team
    date: dt.date
    partial: bool
    formats: tuple[str, ...]  # subset of xlsx / json
    layout: str  # wide / slim (xlsx)
    json_version: str  # 23.8 / 25.0


@dataclass(slots=True)
class SimGame:
    spec: GameSpec
    roster: dict[str, list[Player]]
    events: list[Event]
    shifts: list[Shift]
    goals: list[Goal]
    penalties: list[tuple[str, int]]  # (venue, jersey)
    intermission: int
    home_attacks_right_p1: bool


def _pick(rng: random.Random, dist: dict) -> object:
    r = rng.random() * sum(dist.values())
    for key, weight in dist.items():
        r -= weight
        if r <= 0:
            return key
    return key


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _other(venue: str) -> str:
    return "away" if venue == "home" else "home"


_FLIP = {"o": "d", "d": "o", "n": "n"}


class _Simulator:
    """Plays one game: official goals and penalties first, then shifts, then the event stream."""

    def __init__(self, spec: GameSpec) -> None:
        self.spec = spec
        self.rng = random.Random(f"benchsight-synth:{spec.seed}:{spec.game_id}")
        self.period_seconds = PERIOD_MINUTES * 60
        self.events: list[Event] = []
        self.shifts: list[Shift] = []
        self.goals: list[Goal] = []
        self.penalties: list[tuple[str, int]] = []
        self.chain = 0
        self.sequence = 0
        self.puck_zone = "n"  # home point of view
        self.possession = "home"
        self.score = {"home": 0, "away": 0}

    # ---- rosters and lines -----------------------------------------------------------------------
    def _dress(self, team: Team) -> list[Player]:
        rng = self.rng
        skaters = [p for p in team.players if p.position != "Goalie"]
        goalie = [p for p in team.players if p.position == "Goalie"]
        dressed = rng.randint(*SKATERS_DRESSED)
        forwards = [p for p in skaters if p.position == "Forward"]
        defense = [p for p in skaters if p.position == "Defense"]
        n_def = min(len(defense), max(4, round(dressed * 0.35)))
        chosen = rng.sample(forwards, min(len(forwards), dressed - n_def)) + rng.sample(defense, n_def)
        return sorted(chosen + goalie, key=lambda p: p.number)

    @staticmethod
    def _lines(roster: list[Player]) -> tuple[list[list[int]], list[list[int]], int]:
        forwards = [p.number for p in roster if p.position == "Forward"]
        defense = [p.number for p in roster if p.position == "Defense"]
        goalie = next(p.number for p in roster if p.position == "Goalie")
        f_lines = [[forwards[(3 * k + j) % len(forwards)] for j in range(3)] for k in range(3)]
        d_pairs = [[defense[(2 * k + j) % len(defense)] for j in range(2)] for k in range(max(2, len(defense) // 2))]
        return f_lines, d_pairs, goalie

    # ---- plan --------------------------------------------------------------------------------------
    def _plan(self) -> tuple[list[tuple[int, int, str, str]], int]:
        """Stoppages as (period, clock, kind, venue), sorted by game time, and the tracking cut."""
        rng, P = self.rng, self.period_seconds
        while True:
            n_home, n_away = _pick(rng, GOALS_PER_TEAM), _pick(rng, GOALS_PER_TEAM)
            if not self.spec.partial or n_home + n_away > 0:
                break
        taken: dict[int, list[int]] = {1: [], 2: [], 3: []}

        def free_time() -> tuple[int, int]:
            while True:
                period, clock = rng.randint(1, PERIODS), rng.randint(20, P - 40)
                if all(abs(clock - c) > 45 for c in taken[period]):
                    taken[period].append(clock)
                    return period, clock

        plan = []
        for venue, n in (("home", n_home), ("away", n_away)):
            plan += [(*free_time(), "goal", venue) for _ in range(n)]
        n_pen = min(8, _poisson(rng, PENALTIES_PER_GAME))
        plan += [(*free_time(), "penalty", rng.choice(("home", "away"))) for _ in range(n_pen)]
        for period in range(1, PERIODS + 1):
            n_stop = max(0, round(rng.gauss(STOPPAGES_PER_PERIOD, 2.5)))
            for _ in range(n_stop):
                clock = rng.randint(10, P - 10)
                if all(abs(clock - c) > 12 for c in taken[period]):
                    taken[period].append(clock)
                    plan.append((period, clock, _pick(rng, STOPPAGE_REASONS), rng.choice(("home", "away"))))
        plan.sort(key=lambda s: (s[0], -s[1]))
        cut = 0
        if self.spec.partial:
            goal_slots = [i for i, s in enumerate(plan) if s[2] == "goal"]
            k = rng.choice(goal_slots[len(goal_slots) // 2:])  # about half of the goals stay tracked
            period, clock = plan[k][0], plan[k][1]
            cut = (period - 1) * P + (P - clock) - rng.randint(5, 40)  # game seconds tracked
            cut = max(cut, 30)
        return plan, cut

    # ---- simulate ----------------------------------------------------------------------------------
    def run(self) -> SimGame:
        spec, rng, P = self.spec, self.rng, self.period_seconds
        roster = {"home": self._dress(spec.home), "away": self._dress(spec.away)}
        lines = {v: self._lines(roster[v]) for v in ("home", "away")}
        line_idx = {"home": [0, 0], "away": [0, 0]}
        plan, cut = self._plan()
        penalty_until: dict[str, tuple[int, int]] = {}  # venue -> (period, clock the penalty expires)
        self._event(1, "GameStart", "", "", "home", P, P, "5v5", None, players=[])
        stops = iter(plan)
        pending = next(stops, None)
        for period in range(1, PERIODS + 1):
            clock = P
            start_type = "GameStart" if period == 1 else "PeriodStart"
            stoppage = 0
            self.puck_zone, self.possession = "n", rng.choice(("home", "away"))
            while clock > 0:
                # the next boundary: a planned stoppage, a penalty expiring, an on-the-fly change or period end
                length = max(3, int(rng.gammavariate(ON_THE_FLY_SHIFT_SHAPE,
                                                     ON_THE_FLY_SHIFT_MEAN_SECONDS / ON_THE_FLY_SHIFT_SHAPE)))
                live = clock - stoppage  # play resumes after the dead time of the previous stoppage
                end, stop_kind, stop_venue = max(live - length, 0), "", ""
                # a planned stoppage inside the dead time or right after a change moves a little later
                while pending and pending[0] == period and pending[1] > live - 5:
                    if pending[2] in ("goal", "penalty") and live - 5 > 0:
                        pending = (period, live - 5, pending[2], pending[3])
                    elif pending[2] in ("goal", "penalty"):
                        pending = (period, max(live - 1, 0), pending[2], pending[3])
                        break
                    else:
                        pending = next(stops, None)
                for venue, (p_exp, c_exp) in list(penalty_until.items()):
                    if p_exp != period:
                        del penalty_until[venue]
                    elif c_exp >= live:  # expired, or expires during the dead time
                        del penalty_until[venue]
                    elif c_exp > end:
                        end = c_exp
                if pending and pending[0] == period and pending[1] >= end:
                    end, stop_kind, stop_venue = pending[1], pending[2], pending[3]
                    pending = next(stops, None)
                elif end == 0:
                    stop_kind = "period"
                shift = self._shift(period, clock, end, start_type, stoppage, lines, line_idx, penalty_until,
                                    stop_kind, stop_venue)
                self._play(shift, start_type, stop_kind, stop_venue)
                if stop_kind == "goal":
                    if stop_venue == "home":
                        shift.home_plus = 1
                    else:
                        shift.away_plus = 1
                if stop_kind == "penalty":
                    expires = end - MINOR_PENALTY_MINUTES * 60
                    if expires > 0:
                        penalty_until[stop_venue] = (period, expires)
                stoppage = rng.randint(*DEAD_SECONDS[stop_kind]) if stop_kind in DEAD_SECONDS else 0
                stoppage = min(stoppage, max(end - 1, 0))
                start_type = {"goal": "FaceoffAfterGoal", "penalty": "FaceoffAfterPenalty", "": "OnTheFly"}.get(
                    stop_kind, "OtherFaceoff")
                # lines change at most boundaries, always after goals and penalties
                for venue in ("home", "away"):
                    if stop_kind in ("goal", "penalty") or rng.random() < 0.85:
                        line_idx[venue][0] = (line_idx[venue][0] + 1) % 3
                    if stop_kind in ("goal", "penalty") or rng.random() < 0.6:
                        line_idx[venue][1] = (line_idx[venue][1] + 1) % len(lines[venue][1])
                clock = end
            penalty_until.clear()
        self._event(PERIODS, "GameEnd", "", "", "home", 0, 0, "5v5", None, players=[])
        if cut:
            self._cut(cut)
        return SimGame(spec, roster, self.events, self.shifts, self.goals, self.penalties,
                       intermission=rng.randint(60, 900), home_attacks_right_p1=rng.random() < 0.5)

    def _cut(self, cut: int) -> None:
        P = self.period_seconds
        game_seconds = lambda period, clock: (period - 1) * P + (P - clock)  # noqa: E731
        self.events = [e for e in self.events if game_seconds(e.period, e.start) <= cut]
        kept = []
        for s in self.shifts:
            if game_seconds(s.period, s.start) >= cut:
                break
            if game_seconds(s.period, s.end) > cut:
                s.end = P - (cut - (s.period - 1) * P)
                s.stop_type = ""
            kept.append(s)
        self.shifts = kept
        for g in self.goals:
            g.tracked = game_seconds(g.period, g.clock) <= cut
        for i, e in enumerate(self.events):
            e.idx = i
        # assist passes point at the goal event by index; re-point after re-indexing
        goal_by_chain = {e.linked: e.idx for e in self.events if e.type == "Goal"}
        for e in self.events:
            if e.assist_to is not None:
                e.assist_to = goal_by_chain.get(e.linked)

    def _shift(self, period, start, end, start_type, stoppage, lines, line_idx, penalty_until, stop_kind,
               stop_venue) -> Shift:
        on_ice = {}
        for venue in ("home", "away"):
            f_lines, d_pairs, goalie = lines[venue]
            f = f_lines[line_idx[venue][0]]
            d = d_pairs[line_idx[venue][1]]
            short = venue in penalty_until
            on_ice[venue] = {"F1": f[0], "F2": f[1], "F3": None if short else f[2], "D1": d[0], "D2": d[1],
                             "G": goalie, "X": None}
        stop_type = ""
        if stop_kind == "goal":
            stop_type = f"{stop_venue.title()} Goal"
        elif stop_kind == "penalty":
            stop_type = f"{stop_venue.title()} Penalty"
        elif stop_kind == "freeze":
            shooter = _other(stop_venue)
            stop_type = f"{stop_venue.title()} Goalie Stopped (after {shooter.title()} SOG)"
        elif stop_kind == "icing":
            stop_type = f"{stop_venue.title()} Icing"
        elif stop_kind == "offside":
            stop_type = f"{stop_venue.title()} Offside"
        elif stop_kind == "out":
            stop_type = "Puck Out of Play"
        elif stop_kind == "period":
            stop_type = "Period End"
        shift = Shift(len(self.shifts) + 1, period, start, end, start_type, stop_type, stoppage,
                      on_ice["home"], on_ice["away"], self.score["home"], self.score["away"],
                      zone_start=self.puck_zone)
        self.shifts.append(shift)
        return shift

    # ---- events ------------------------------------------------------------------------------------
    def _event(self, period, type_, d1, d2, venue, start, end, strength, shift_idx, players=None,
               success=None, linked=None) -> Event:
        zone = self.puck_zone if venue == "home" else _FLIP[self.puck_zone]
        e = Event(len(self.events), period, type_, d1, d2, venue, zone, success, start, end, strength,
                  shift_idx, linked=linked, sequence=self.sequence or None,
                  players=players if players is not None else [])
        self.events.append(e)
        return e

    def _skaters(self, shift: Shift, venue: str) -> list[int]:
        slots = shift.home if venue == "home" else shift.away
        return [slots[s] for s in ("F1", "F2", "F3", "D1", "D2") if slots[s] is not None]

    def _players(self, shift: Shift, type_: str, venue: str, first: int | None = None,
                 second: int | None = None, opp_first: int | None = None) -> list[EventPlayer]:
        rng = self.rng
        mean_e, mean_o = EXTRA_PLAYERS.get(type_, (1.0, 0.5))
        own = self._skaters(shift, venue)
        opp = self._skaters(shift, _other(venue))
        n_e = 1 + (rng.random() < min(mean_e - 1, 0.95)) + (rng.random() < 0.02)
        n_o = int(mean_o) + (rng.random() < mean_o - int(mean_o))
        chosen_e = [p for p in (first, second) if p is not None]
        for num in rng.sample(own, len(own)):
            if len(chosen_e) >= n_e:
                break
            if num not in chosen_e:
                chosen_e.append(num)
        chosen_o = [opp_first] if opp_first is not None else []
        for num in rng.sample(opp, len(opp)):
            if len(chosen_o) >= n_o:
                break
            if num not in chosen_o:
                chosen_o.append(num)
        players = [EventPlayer(n, venue, "event", i + 1) for i, n in enumerate(chosen_e)]
        players += [EventPlayer(n, _other(venue), "opp", i + 1) for i, n in enumerate(chosen_o)]
        for p in players:
            if rng.random() < PLAY_DETAIL_ROW_SHARE:
                p.play_d1 = rng.choice(OFFENSIVE_PLAY_DETAILS if p.role == "event" else DEFENSIVE_PLAY_DETAILS)
        return players

    def _success(self, ok: bool) -> bool | None:
        return None if self.rng.random() < SUCCESS_BLANK_SHARE else ok

    def _play(self, shift: Shift, start_type: str, stop_kind: str, stop_venue: str) -> None:
        rng, period = self.rng, shift.period
        strength = _strength(shift)
        t = shift.start
        if start_type != "OnTheFly":
            if shift.stoppage:  # the clock keeps running through the dead time, as in the real games
                slots = shift.home if self.possession == "home" else shift.away
                self._event(period, "DeadIce", "", "", self.possession, t, max(t - shift.stoppage, 0), strength,
                            shift.idx, players=[EventPlayer(slots["F1"], self.possession, "event", 1)])
                t = max(t - shift.stoppage, 0)
            detail = {"GameStart": "Faceoff_GameStart", "PeriodStart": "Faceoff_PeriodStart",
                      "FaceoffAfterGoal": "Faceoff_AfterGoal", "FaceoffAfterPenalty": "Faceoff_AfterPenalty"}.get(
                start_type, "Faceoff_AfterStoppage")
            if start_type in ("GameStart", "PeriodStart", "FaceoffAfterGoal"):
                self.puck_zone = "n"
            winner = rng.choice(("home", "away"))
            center = shift.home["F1"] if winner == "home" else shift.away["F1"]
            opp_center = shift.away["F1"] if winner == "home" else shift.home["F1"]
            self.sequence += 1
            self._event(period, "Faceoff", detail, "", winner, t, t, strength, shift.idx,
                        players=self._players(shift, "Faceoff", winner, first=center, opp_first=opp_center))
            self.possession = winner
        stop_at = shift.end + (4 if stop_kind == "goal" else 1 if stop_kind else 0)
        while True:
            t -= rng.choice(FREE_GAP_SECONDS)
            if t <= stop_at:
                break
            self._free_event(shift, t, strength)
        shift.zone_end = self.puck_zone
        if stop_kind:
            self._stoppage(shift, stop_kind, stop_venue, strength)

    def _free_event(self, shift: Shift, t: int, strength: str) -> None:
        rng, period, venue = self.rng, shift.period, self.possession
        type_ = _pick(rng, FREE_TYPE_MIX)
        own_zone = self.puck_zone if venue == "home" else _FLIP[self.puck_zone]
        if type_ == "Shot" and own_zone != "o":
            type_ = "Zone_Entry_Exit"
        if type_ == "Possession":
            d1 = _pick(rng, POSSESSION_DETAIL)
            d1 = f"Possession_{d1}" if d1 else ""
            end = max(t - rng.choice((0, 0, 1, 2, 3, 5)), 0)
            self._event(period, type_, d1, "", venue, t, end, strength, shift.idx,
                        players=self._players(shift, type_, venue))
        elif type_ == "Pass":
            d1 = _pick(rng, PASS_DETAIL)
            self._event(period, type_, d1, _pick(rng, PASS_DETAIL_2), venue, t, t, strength, shift.idx,
                        players=self._players(shift, type_, venue), success=self._success(d1 == "Pass_Completed"))
            if d1 == "Pass_Intercepted" or (d1 == "Pass_Missed" and rng.random() < 0.4):
                self.possession = _other(venue)
        elif type_ == "Zone_Entry_Exit":
            if own_zone == "n":
                d1, d2, new_zone = "Zone_Entry", _pick(rng, ZONE_ENTRY_2), "o"
            elif own_zone == "d":
                d1, d2, new_zone = "Zone_Exit", _pick(rng, ZONE_EXIT_2), "n"
            else:
                d1, d2, new_zone = "Zone_Keepin", rng.choice(("", "Zone_KeepIn")), "o"
            failed = rng.random() < ZONE_FAILED_SHARE
            if failed:
                d1 = {"Zone_Entry": "Zone_Entryfailed", "Zone_Exit": "Zone_ExitFailed"}.get(d1, "Zone_KeepinFailed")
            self._event(period, type_, d1, d2, venue, t, t, strength, shift.idx,
                        players=self._players(shift, type_, venue), success=self._success(not failed))
            if failed:
                self.possession = _other(venue)
            else:
                self.puck_zone = new_zone if venue == "home" else _FLIP[new_zone]
        elif type_ == "Turnover":
            if rng.random() < GIVEAWAY_SHARE:
                self._event(period, type_, "Turnover_Giveaway", _pick(rng, GIVEAWAY_2), venue, t, t, strength,
                            shift.idx, players=self._players(shift, type_, venue))
            else:
                taker = _other(venue)
                self._event(period, type_, "Turnover_Takeaway", _pick(rng, TAKEAWAY_2), taker, t, t, strength,
                            shift.idx, players=self._players(shift, type_, taker))
            self.possession = _other(venue)
            self.sequence += 1
        elif type_ == "Shot":
            self._shot(shift, t, strength, _pick(rng, SHOT_DETAIL))
        elif type_ == "Play":
            d1 = _pick(rng, PLAY_DETAIL)
            actor = venue if d1 == "Play_Offensive" else _other(venue)
            d2 = _pick(rng, PLAY_OFFENSIVE_2 if d1 == "Play_Offensive" else PLAY_DEFENSIVE_2)
            self._event(period, type_, d1, d2, actor, t, t, strength, shift.idx,
                        players=self._players(shift, type_, actor), success=self._success(True))
        else:  # LoosePuck
            self._event(period, type_, "LoosePuck_Battle", "", venue, t, t, strength, shift.idx,
                        players=self._players(shift, type_, venue))
            if rng.random() < 0.5:
                self.possession = _other(venue)

    def _goalie(self, shift: Shift, venue: str) -> int:
        return (shift.home if venue == "home" else shift.away)["G"]

    def _shot(self, shift: Shift, t: int, strength: str, d1: str, *, freeze: bool = False) -> None:
        rng, period, venue = self.rng, shift.period, self.possession
        goalie_venue = _other(venue)
        goalie = self._goalie(shift, goalie_venue)
        on_net = "OnNet" in d1
        self.chain += 1
        shot = self._event(period, "Shot", d1, _pick(rng, SHOT_DETAIL_2), venue, t, t, strength, shift.idx,
                           players=self._players(shift, "Shot", venue, opp_first=goalie if on_net else None),
                           success=self._success(on_net), linked=self.chain if on_net else None)
        shot.puck, shot.net = [_shot_xy(rng)], (_net_xy(rng) if on_net else None)
        if d1.startswith("Shot_Blocked"):
            if rng.random() < 0.45:
                self.possession = goalie_venue
            return
        if not on_net:
            if rng.random() < 0.5:
                self.possession = goalie_venue
            return
        save_detail = "Save_Freeze" if freeze else "Save_Rebound"
        shooter = shot.players[0].num
        self._event(period, "Save", save_detail, _pick(rng, SAVE_DETAIL_2), goalie_venue, t, t, strength, shift.idx,
                    players=[EventPlayer(goalie, goalie_venue, "event", 1), EventPlayer(shooter, venue, "opp", 1)],
                    linked=self.chain)
        if freeze:
            return
        d1 = _pick(rng, REBOUND_DETAIL)
        recovering = venue if d1 != "Rebound_OppTeamRecovered" else goalie_venue
        self._event(period, "Rebound", d1, "", recovering, max(t - 1, 0), max(t - 1, 0), strength, shift.idx,
                    players=self._players(shift, "Rebound", recovering), linked=self.chain)
        self.possession = recovering

    def _stoppage(self, shift: Shift, kind: str, venue: str, strength: str) -> None:
        rng, period, t = self.rng, shift.period, shift.end
        if kind == "goal":
            self.possession = venue
            self.puck_zone = "o" if venue == "home" else "d"
            skaters = self._skaters(shift, venue)
            scorer = rng.choice(skaters)
            n_assists = min(_pick(rng, ASSISTS_PER_GOAL), len(skaters) - 1)
            assists = tuple(rng.sample([s for s in skaters if s != scorer], n_assists))
            self.chain += 1
            goal_idx = len(self.events) + n_assists + 1  # assist passes, the shot, then the goal
            if n_assists == 2:
                a2 = self._event(period, "Pass", "Pass_Completed", "Pass_Forehand", venue, t + 3, t + 3, strength,
                                 shift.idx, players=[EventPlayer(assists[1], venue, "event", 1, "AssistSecondary"),
                                                     EventPlayer(assists[0], venue, "event", 2)],
                                 success=True, linked=self.chain)
                a2.assist_to = goal_idx
            if n_assists >= 1:
                a1 = self._event(period, "Pass", "Pass_Completed", "Pass_Forehand", venue, t + 1, t + 1, strength,
                                 shift.idx, players=[EventPlayer(assists[0], venue, "event", 1, "AssistPrimary"),
                                                     EventPlayer(scorer, venue, "event", 2)],
                                 success=True, linked=self.chain)
                a1.assist_to = goal_idx
            goalie = self._goalie(shift, _other(venue))
            shot_players = [EventPlayer(scorer, venue, "event", 1), EventPlayer(goalie, _other(venue), "opp", 1)]
            shot = self._event(period, "Shot", "Shot_Goal", "", venue, t, t, strength, shift.idx,
                               players=shot_players, success=True, linked=self.chain)
            xy, net = _shot_xy(rng), _net_xy(rng)
            shot.puck, shot.net = [xy], net
            goal = self._event(period, "Goal", "Goal_Scored", _pick(rng, GOAL_DETAIL_2), venue, t, t, strength,
                               shift.idx, players=[EventPlayer(scorer, venue, "event", 1),
                                                   EventPlayer(goalie, _other(venue), "opp", 1)],
                               success=True, linked=self.chain)
            goal.puck, goal.net = [xy], net
            assert goal.idx == goal_idx
            self.goals.append(Goal(period, t, venue, scorer, assists))
            self.score[venue] += 1
            self._event(period, "Stoppage", "Stoppage_Play", "Stoppage_Goal", venue, t, t, strength, shift.idx,
                        players=[EventPlayer(scorer, venue, "event", 1)], linked=self.chain)
        elif kind == "penalty":
            offender = rng.choice(self._skaters(shift, venue))
            fouled = rng.choice(self._skaters(shift, _other(venue)))
            self.penalties.append((venue, offender))
            players = [EventPlayer(offender, venue, "event", 1)]
            if rng.random() < 0.3:
                players.append(EventPlayer(fouled, _other(venue), "opp", 1))
            self._event(period, "Penalty", "Penalty_Minor", _pick(rng, PENALTY_DETAIL_2), venue, t, t, strength,
                        shift.idx, players=players)
            self._event(period, "Stoppage", "Stoppage_Play", "Stoppage_Penalty", venue, t, t, strength, shift.idx,
                        players=[EventPlayer(offender, venue, "event", 1)])
        elif kind == "freeze":
            self.possession = _other(venue)
            self.puck_zone = "d" if venue == "home" else "o"
            self._shot(shift, t, strength, "Shot_OnNetSaved", freeze=True)
            self._event(period, "Stoppage", "Stoppage_Play", "Stoppage_GoalieStoppage", venue, t, t, strength,
                        shift.idx, players=[EventPlayer(self._goalie(shift, venue), venue, "event", 1)])
        elif kind == "period":
            last = period == PERIODS
            self._event(period, "Stoppage", "Stoppage_GameEnd" if last else "Stoppage_Period",
                        "" if last else "Stoppage_PeriodEnd", self.possession, 0, 0, strength, shift.idx,
                        players=[EventPlayer(self._skaters(shift, self.possession)[0], self.possession, "event", 1)])
            if not last:
                self._event(period, "Intermission", "", "", "home", 0, 0, strength, shift.idx, players=[])
        else:
            d2 = {"icing": "Stoppage_Icing", "out": "Stoppage_PuckOutofPlay", "offside": "Stoppage_Offsides"}[kind]
            actor = rng.choice(self._skaters(shift, venue))
            self._event(period, "Stoppage", "Stoppage_Play", d2, venue, t, t, strength, shift.idx,
                        players=[EventPlayer(actor, venue, "event", 1)])


def _strength(shift: Shift) -> str:
    home = sum(shift.home[s] is not None for s in ("F1", "F2", "F3", "D1", "D2"))
    away = sum(shift.away[s] is not None for s in ("F1", "F2", "F3", "D1", "D2"))
    return f"{home}v{away}"


def _shot_xy(rng: random.Random) -> tuple[float, float]:
    """A shot location in the attacking zone, attacking towards +x (the net at x=89)."""
    dist = min(abs(rng.gauss(0, 28)) + 6, 62)
    angle = rng.uniform(-1.2, 1.2)
    return round(89 - dist * math.cos(angle), 2), round(max(-42, min(42, dist * math.sin(angle))), 2)


def _net_xy(rng: random.Random) -> tuple[float, float]:
    return round(rng.uniform(0, 72), 2), round(rng.uniform(0, 48), 2)


def simulate(spec: GameSpec) -> SimGame:
    return _Simulator(spec).run()


# --------------------------------------------------------------------------------------------------
# Tracker writers.
# --------------------------------------------------------------------------------------------------


def _clock(seconds: int) -> str:
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _hyphen(detail: str) -> str:
    """Tracker workbooks spell detail-2 values `Pass-Forehand` where the vocabulary says `Pass_Forehand`."""
    return detail.replace("_", "-", 1) if detail else detail


def _xlsx_detail(detail: str) -> str:
    """Workbooks drop the `Possession_` prefix (`PuckRetrieval`), as the real ones do."""
    return detail.removeprefix("Possession_")


def _running(game: SimGame, period: int) -> int:
    return (period - 1) * (PERIOD_MINUTES * 60 + game.intermission)


def _names(game: SimGame) -> dict[tuple[str, int], Player]:
    return {(venue, p.number): p for venue, players in game.roster.items() for p in players}


def _wide_event_rows(game: SimGame):
    spec, P = game.spec, PERIOD_MINUTES * 60
    names = _names(game)
    team_name = {"home": spec.home.name, "away": spec.away.name}
    zone_changes = 0
    last_zone = None
    for e in game.events:
        home_zone = e.zone if e.venue == "home" else _FLIP[e.zone]
        if home_zone != last_zone:
            zone_changes, last_zone = zone_changes + 1, home_zone
        success = None if e.success is None else ("s" if e.success else "u")
        d1 = _xlsx_detail(e.detail1) or None
        d2 = _hyphen(e.detail2) or None
        end_min = end_sec = None
        if e.end != e.start:
            end_min, end_sec = e.end // 60, e.end % 60
        start_min, start_sec = (e.start // 60, e.start % 60) if e.type != "GameStart" else (None, None)
        running = _running(game, e.period)
        video = running + (P - e.start)
        venue_cap = e.venue.title()
        base = {
            "event_index_": e.idx, "linked_event_index_": e.linked, "sequence_index_": e.sequence,
            "play_index_": e.play, "period": e.period, "event_index": 1000 + e.idx,
            "linked_event_index": None if e.linked is None else 9000 + e.linked, "tracking_event_index": 1000 + e.idx,
            "event_start_min": start_min, "event_start_sec": start_sec, "event_end_min": end_min,
            "event_end_sec": end_sec, "event_team_zone2_": e.zone, "event_team_zone": e.zone,
            "team_venue_": venue_cap, "team_venue_abv_": e.venue[0], "home_team_zone": home_zone,
            "away_team_zone": _FLIP[home_zone], "team_venue": venue_cap, "team_venue_abv": e.venue[0],
            "sequence_index": None if e.sequence is None else 5000 + e.sequence,
            "play_index": None if e.play is None else 6000 + e.play, "zone_change_index": zone_changes,
            "game_id": spec.game_id, "home_team": spec.home.name, "away_team": spec.away.name, "Type": e.type,
            "event_detail": d1, "event_detail_2": d2, "event_successful": success, "shift_index": e.shift_idx,
            "duration": e.start - e.end, "time_start_total_seconds": e.start, "time_end_total_seconds": e.end,
            "running_intermission_duration": (e.period - 1) * game.intermission,
            "period_start_total_running_seconds": running, "running_video_time": video,
            "event_running_start": max(video - 5, 0), "event_running_end": video + (e.start - e.end) + 5,
        }
        first_only = {
            "event_index_flag_": 1, "event_start_min_": start_min, "event_start_sec_": start_sec,
            "event_end_min_": end_min, "event_end_sec_": end_sec, "event_team_zone_": e.zone,
            "event_type_": e.type, "event_detail_": d1, "event_detail_2_": d2, "event_successful_": success,
            "team_": e.venue[0], "home_team_zone_": home_zone, "away_team_zone_": _FLIP[home_zone],
            "linked_event_index_flag_": 1 if e.linked is not None else None,
        }
        if not e.players:
            yield [{**base, **first_only}.get(c) for c in WIDE_EVENT_COLUMNS]
            continue
        for i, p in enumerate(e.players):
            row = dict(base)
            if i == 0:
                row.update(first_only)
            player = names.get((p.venue, p.num))
            row.update({
                "player_game_number_": p.num, "player_game_number": p.num,
                "play_detail1_": p.play_d1 or None, "play_detail2_": p.play_d2 or None,
                "play_detail1": p.play_d1 or None, "play_detail_2": p.play_d2 or None,
                "role_abrev_binary_": 1 if p.role == "event" else None, "role_abrev": p.role[0],
                "side_of_puck": "Offensive" if p.role == "event" else "Defensive",
                "player_role": f"{p.role}_team_player_{p.role_num}", "role_number": p.role_num,
                "player_id": player.player_id if player else None, "player_team": team_name[p.venue],
            })
            yield [row.get(c) for c in WIDE_EVENT_COLUMNS]


_ZONE_WORD = {"o": "Offensive", "d": "Defensive", "n": "Neutral"}


def _slim_event_rows(game: SimGame):
    spec = game.spec
    names = _names(game)
    for e in game.events:
        success = 1 if e.success else None
        d1 = _xlsx_detail(e.detail1) or None
        d2 = _hyphen(e.detail2) or None
        start_min, start_sec = (e.start // 60, e.start % 60) if e.type != "GameStart" else (None, None)
        end_min, end_sec = (e.end // 60, e.end % 60) if e.type != "GameStart" else (None, None)
        base = {
            "event_index_flag_": e.idx, "event_start_min_": start_min, "event_start_sec_": start_sec,
            "event_end_min_": end_min, "event_end_sec_": end_sec, "event_team_zone_": e.zone,
            "event_type_": e.type, "event_detail_": d1, "event_detail_2_": d2, "event_successful_": success,
            "team_": e.venue[0], "period": e.period, "event_index": 1000 + e.idx, "game_id": spec.game_id,
            "home_team": spec.home.name, "away_team": spec.away.name, "strength": e.strength,
            "event_team_zone": _ZONE_WORD[e.zone], "event_start_min": start_min, "event_start_sec": start_sec,
            "event_end_min": end_min, "event_end_sec": end_sec, "event_detail": d1, "event_detail_2": d2,
            "event_successful": success, "is_highlight": 0, "Type": e.type,
        }
        if not e.players:
            yield [base.get(c) for c in SLIM_EVENT_COLUMNS]
            continue
        for p in e.players:
            player = names.get((p.venue, p.num))
            side = "Offensive" if p.role == "event" else "Defensive"
            row = dict(base)
            row.update({
                "player_game_number_": p.num, "player_game_number": p.num, "role_abrev": f"{p.role[0]}1",
                "role_abrev_binary_": p.role[0], "player_role": f"{p.role}_player_{p.role_num}",
                "player_name": player.name if player else f"#{p.num}",
                "play_detail1_": p.play_d1 or None, "play_detail2_": p.play_d2 or None,
                "play_detail1": p.play_d1 or None, "play_detail_2": p.play_d2 or None,
                "side_of_puck_": side, "side_of_puck": side,
            })
            yield [row.get(c) for c in SLIM_EVENT_COLUMNS]


def _shift_values(game: SimGame, s: Shift) -> dict:
    spec = game.spec
    home_n = sum(s.home[k] is not None for k in ("F1", "F2", "F3", "D1", "D2"))
    away_n = sum(s.away[k] is not None for k in ("F1", "F2", "F3", "D1", "D2"))
    situation = "Full Strength" if home_n == away_n else "Power Play"
    running = _running(game, s.period)
    P = PERIOD_MINUTES * 60
    row = {
        "shift_index": s.idx, "Period": s.period, "shift_start_min": s.start // 60, "shift_start_sec": s.start % 60,
        "shift_end_min": s.end // 60, "shift_end_sec": s.end % 60,
        "shift_start_type": s.start_type if s.start_type != "OnTheFly" or game.spec.layout == "slim" else None,
        "shift_stop_type": s.stop_type or None, "stoppage_time": s.stoppage,
        "game_id": spec.game_id, "home_team": spec.home.name, "away_team": spec.away.name,
        "shift_start_total_seconds": s.start, "shift_end_total_seconds": s.end, "shift_duration": s.start - s.end,
        "home_team_strength": home_n, "away_team_strength": away_n, "home_team_en": 0, "away_team_en": 0,
        "home_team_pk": int(home_n < away_n), "home_team_pp": int(home_n > away_n),
        "away_team_pp": int(away_n > home_n), "away_team_pk": int(away_n < home_n), "situation": situation,
        "strength": f"{home_n}v{away_n}", "home_goals": s.home_goals, "away_goals": s.away_goals,
        "home_team_plus": s.home_plus if home_n == away_n else 0,
        "home_team_minus": s.away_plus if home_n == away_n else 0,
        "away_team_plus": s.away_plus if home_n == away_n else 0,
        "away_team_minus": s.home_plus if home_n == away_n else 0,
        "home_ozone_start": 1 if s.zone_start == "o" else None, "home_ozone_end": 1 if s.zone_end == "o" else None,
        "home_dzone_start": 1 if s.zone_start == "d" else None, "home_dzone_end": 1 if s.zone_end == "d" else None,
        "home_nzone_start": 1 if s.zone_start == "n" else None, "home_nzone_end": 1 if s.zone_end == "n" else None,
        "period_start_total_running_seconds": running, "running_video_time": running + (P - s.start),
        "shift_start_running_time": max(running + (P - s.start) - 5, 0),
        "shift_end_running_time": running + (P - s.end) + 3,
    }
    for venue, slots in (("home", s.home), ("away", s.away)):
        for slot, col in (("F1", "forward_1"), ("F2", "forward_2"), ("F3", "forward_3"), ("D1", "defense_1"),
                          ("D2", "defense_2"), ("G", "goalie"), ("X", "xtra")):
            row[f"{venue}_{col}"] = slots[slot]
    return row


def write_tracker_xlsx(game: SimGame, path: Path) -> None:
    """One tracker workbook in the game's layout (`wide`: 72 event columns, `slim`: 46)."""
    wide = game.spec.layout == "wide"
    event_columns, shift_columns = ((WIDE_EVENT_COLUMNS, WIDE_SHIFT_COLUMNS) if wide
                                    else (SLIM_EVENT_COLUMNS, SLIM_SHIFT_COLUMNS))
    events = [event_columns, *(_wide_event_rows(game) if wide else _slim_event_rows(game))]
    shifts = [shift_columns]
    for s in game.shifts:
        values = _shift_values(game, s)
        shifts.append([values.get(c) for c in shift_columns])
    sheets: dict[str, list] = {"events": events, "shifts": shifts}
    if wide:
        rosters = [("game_id", "team_venue", "team_name", "player_game_number", "player_full_name", "player_id",
                    "player_position")]
        for venue, team in (("home", game.spec.home), ("away", game.spec.away)):
            rosters += [(game.spec.game_id, venue, team.name, p.number, p.name, p.player_id, p.position)
                        for p in game.roster[venue]]
        sheets = {"examples": [], "Sheet1": [],
                  "Rules": [("rule", "description"), ("Goal", "Shot_Goal followed by Goal_Scored, one linked index")],
                  "Lists": [("event_type",), *((code,) for code, *_r in EVENT_TYPES)],
                  "events": events, "shifts": shifts, "game_rosters": rosters}
    _write_xlsx(path, sheets)


# A tracker workbook holds ~200,000 cells; xlsxwriter needs ~0.7 s for one, this minimal writer (shared
# strings as Excel writes them, no styles beyond the default) ~0.1 s. calamine and openpyxl read both alike.
_XLSX_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_XLSX_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XLSX_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XLSX_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_XLSX_STYLES = (
    f'<styleSheet xmlns="{_XLSX_NS}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/>'
    '</fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def _column_letters(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


_COLUMN_LETTERS = [_column_letters(i) for i in range(256)]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sheet_xml(rows, strings: dict[str, int]) -> str:
    parts = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', f'<worksheet xmlns="{_XLSX_NS}"><sheetData>']
    letters = _COLUMN_LETTERS
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                cells.append(f'<c r="{letters[c]}{r}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, (int, float)):
                cells.append(f'<c r="{letters[c]}{r}"><v>{value}</v></c>')
            else:
                index = strings.setdefault(str(value), len(strings))
                cells.append(f'<c r="{letters[c]}{r}" t="s"><v>{index}</v></c>')
        parts.append(f'<row r="{r}">{"".join(cells)}</row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts)


def _write_xlsx(path: Path, sheets: dict[str, list]) -> None:
    names = list(sheets)
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_XLSX_CT}.worksheet+xml"/>'
                        for i in range(1, len(names) + 1))
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_XLSX_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_XLSX_CT}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_XLSX_CT}.sharedStrings+xml"/>{overrides}</Types>')
    root_rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_XLSX_PKG_REL}">'
                 f'<Relationship Id="rId1" Type="{_XLSX_REL}/officeDocument" Target="xl/workbook.xml"/>'
                 '</Relationships>')
    sheet_entries = "".join(f'<sheet name="{_escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                            for i, name in enumerate(names, start=1))
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_XLSX_NS}" '
                f'xmlns:r="{_XLSX_REL}"><sheets>{sheet_entries}</sheets></workbook>')
    rels = "".join(f'<Relationship Id="rId{i}" Type="{_XLSX_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i in range(1, len(names) + 1))
    rels += f'<Relationship Id="rId{len(names) + 1}" Type="{_XLSX_REL}/styles" Target="styles.xml"/>'
    rels += f'<Relationship Id="rId{len(names) + 2}" Type="{_XLSX_REL}/sharedStrings" Target="sharedStrings.xml"/>'
    workbook_rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     f'<Relationships xmlns="{_XLSX_PKG_REL}">{rels}</Relationships>')
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        strings: dict[str, int] = {}
        parts = [(f"xl/worksheets/sheet{i}.xml", _sheet_xml(sheets[name], strings))
                 for i, name in enumerate(names, start=1)]
        shared = "".join(f"<si><t>{_escape(text)}</t></si>" for text in strings)
        parts += [("[Content_Types].xml", content_types), ("_rels/.rels", root_rels), ("xl/workbook.xml", workbook),
                  ("xl/_rels/workbook.xml.rels", workbook_rels), ("xl/styles.xml", _XLSX_STYLES),
                  ("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst '
                   f'xmlns="{_XLSX_NS}" uniqueCount="{len(strings)}">{shared}</sst>')]
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # fixed: same seed, same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text, compresslevel=1)


def _json_players_v23(e: Event, names) -> list[dict]:
    out = []
    for p in e.players:
        player = names.get((p.venue, p.num))
        out.append({"num": p.num, "name": player.name if player else "", "team": p.venue,
                    "role": f"{p.role}_player_{p.role_num}", "roleNum": p.role_num, "playD1": p.play_d1,
                    "playD2": p.play_d2, "playSuccess": "", "pressure": "",
                    "sideOfPuck": "Offensive" if p.role == "event" else "Defensive", "xy": []})
    return out


_TYPE_ID = {code: f"ET{i:04d}" for i, (code, *_r) in enumerate(EVENT_TYPES, start=1)}


def _json_players_v25(e: Event, names, flip: bool, rng: random.Random) -> list[dict]:
    out = []
    base = e.puck[0] if e.puck else (rng.uniform(-95, 95), rng.uniform(-40, 40))
    for p in e.players:
        player = names.get((p.venue, p.num))
        x = base[0] + rng.uniform(-8, 8)
        y = max(-42.5, min(42.5, base[1] + rng.uniform(-8, 8)))
        if flip:
            x, y = -x, -y
        item = {"num": str(p.num), "name": player.name if player else "", "team": p.venue,
                "role": f"{p.role}_team_player_{p.role_num}", "roleNum": p.role_num,
                "xy": [{"x": round(x, 2), "y": round(y, 2), "seq": 1}], "playD1": p.play_d1, "playD2": p.play_d2,
                "playSuccess": "", "pressure": "", "pressuredBy": "",
                "sideOfPuck": "Offensive" if p.role == "event" else "Defensive"}
        if player:
            item = {"id": player.player_id, **item, "pos": player.pos, "rating": None}
        out.append(item)
    return out


def tracker_json(game: SimGame) -> dict:
    """The tracker's JSON export of one game, in the game's version (23.8 or 25.0)."""
    spec, v25 = game.spec, game.spec.json_version == "25.0"
    names = _names(game)
    rng = random.Random(f"benchsight-synth-json:{spec.seed}:{spec.game_id}")
    attacks_right = {1: game.home_attacks_right_p1, 2: not game.home_attacks_right_p1, 3: game.home_attacks_right_p1}
    events = []
    for e in game.events:
        if v25:
            success = "" if e.success is None else ("s" if e.success else "u")
        else:
            success = e.success
        item = {"idx": e.idx, "period": e.period, "type": e.type, "team": e.venue, "zone": e.zone,
                "success": success, "detail1": e.detail1, "detail2": e.detail2, "start_time": _clock(e.start),
                "end_time": _clock(e.end), "strength": e.strength, "linkedEventIdx": e.linked,
                "assistToGoalIdx": e.assist_to, "sequenceIdx": e.sequence, "playIdx": e.play}
        if v25:
            # coordinates are rink-absolute: flip when the event team attacks towards -x this period
            flip = (e.venue == "home") != attacks_right[e.period]
            item["players"] = _json_players_v25(e, names, flip, rng)
            item["puckXY"] = [{"x": -x if flip else x, "y": -y if flip else y, "seq": i + 1}
                              for i, (x, y) in enumerate(e.puck)]
            item["netXY"] = {"x": e.net[0], "y": e.net[1]} if e.net else None
            item.update({"typeCode": e.type, "typeId": _TYPE_ID.get(e.type, ""), "detail1Code": e.detail1,
                         "detail1Id": "", "detail2Code": e.detail2, "detail2Id": "",
                         "linkedEventChain": [] if e.linked is None else [e.linked], "game_id": spec.game_id})
        else:
            item["players"] = _json_players_v23(e, names)
            item["puckXY"] = []
            item["netXY"] = None
        item["isHighlight"] = False
        events.append(item)
    shifts = []
    for s in game.shifts:
        sides = {}
        for venue, slots in (("home", s.home), ("away", s.away)):
            side = {}
            for slot in SLOTS:
                num = slots[slot]
                player = names.get((venue, num)) if num is not None else None
                if num is None:
                    side[slot] = None
                elif v25:
                    side[slot] = {"id": player.player_id, "num": str(num), "name": player.name, "pos": player.pos,
                                  "rating": None}
                else:
                    side[slot] = {"num": num, "name": player.name}
            sides[venue] = side
        item = {"period": s.period, "start_time": _clock(s.start), "end_time": _clock(s.end),
                "start_type": s.start_type, "stop_type": s.stop_type, "strength": _strength(s),
                "duration": s.start - s.end, "stoppageTime": s.stoppage, **sides}
        if v25:
            item = {"idx": s.idx - 1, "game_id": spec.game_id, **item}
        shifts.append(item)
    rosters = {venue: [{"id": p.player_id, "num": str(p.number), "name": p.name, "pos": p.pos, "rating": None}
                       for p in game.roster[venue]] for venue in ("home", "away")}
    stamp = dt.datetime.combine(spec.date + dt.timedelta(days=3), dt.time(18, 0)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    period_offsets = {str(p): _running(game, p) + 1 for p in range(1, PERIODS + 1)}
    doc = {
        "exportDate": stamp, "version": spec.json_version, "gameId": spec.game_id, "homeTeam": spec.home.name,
        "awayTeam": spec.away.name, "homeColor": spec.home.color, "awayColor": spec.away.color,
        "homeLogo": "", "awayLogo": "", "rosters": rosters, "events": events, "shifts": shifts,
        "evtIdx": len(events), "shiftIdx": len(shifts), "videos": [],
        "videoTiming": {"videoStartOffset": 0, "intermission1": game.intermission,
                        "intermission2": game.intermission, "timeouts": [], "youtubeUrl": "",
                        "periodOffsets": {**period_offsets, "OT": None},
                        "gameStart": {"period": 1, "time": _clock(PERIOD_MINUTES * 60)}, "intermission3": 300},
        "periodLengths": {"1": PERIOD_MINUTES, "2": PERIOD_MINUTES, "3": PERIOD_MINUTES, "OT": 5},
        "penaltyLengths": {"minor": MINOR_PENALTY_MINUTES, "major": 6, "misconduct": 10},
        "homeAttacksRightP1": game.home_attacks_right_p1,
        "settings": {"sbUrl": "", "sbKey": "", "autoSaveInt": "30", "pressureDist": "5", "xyHistCnt": "5",
                     "periodLength": str(PERIOD_MINUTES), "otLength": "5",
                     "penaltyLengthMinor": str(MINOR_PENALTY_MINUTES), "penaltyLengthMajor": "6",
                     "penaltyLengthMisconduct": "10"},
        "customChainPresets": [], "linePresets": {}, "currentPeriod": 1, "currentTeam": "home",
        "slots": {v: {s: None for s in SLOTS} for v in ("home", "away")}, "savedAt": stamp,
    }
    if v25:
        doc.update({"highlightVideos": [], "autoSettings": {}, "customRules": [], "customLinkingRules": [],
                    "eventMacros": []})
    return doc


def write_tracker_json(game: SimGame, path: Path) -> None:
    # compact: the tracker indents by one space, but indenting makes json use its slow pure-Python encoder
    path.write_text(json.dumps(tracker_json(game), separators=(",", ":")), encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# Per-game work (runs in worker processes) and the official scoresheet.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GameResult:
    game_id: int
    files: tuple[Path, ...]
    official: dict[str, int]  # venue -> goals
    tracked: dict[str, int]  # venue -> goals in the tracking files
    period_goals: dict[str, tuple[int, ...]]
    roster: dict[str, tuple[tuple[str, int, int, int, int], ...]]  # venue -> (player_id, num, goals, assists, pim)
    goals_against: dict[str, int]
    events: int
    shifts: int


def _run_game(spec: GameSpec, tracking_dir: Path | None) -> GameResult:
    game = simulate(spec)
    files: list[Path] = []
    if tracking_dir is not None:
        if "xlsx" in spec.formats:
            path = tracking_dir / "xlsx" / f"{spec.game_id}_tracking.xlsx"
            write_tracker_xlsx(game, path)
            files.append(path)
        if "json" in spec.formats:
            path = tracking_dir / "json" / f"{spec.game_id}.json"
            write_tracker_json(game, path)
            files.append(path)
    goals = {(v, p.number): 0 for v in ("home", "away") for p in game.roster[v]}
    assists = dict.fromkeys(goals, 0)
    pim = dict.fromkeys(goals, 0)
    period_goals = {"home": [0] * PERIODS, "away": [0] * PERIODS}
    for g in game.goals:
        goals[(g.venue, g.scorer)] += 1
        for a in g.assists:
            assists[(g.venue, a)] += 1
        period_goals[g.venue][g.period - 1] += 1
    for venue, num in game.penalties:
        pim[(venue, num)] += MINOR_PENALTY_MINUTES
    official = {v: sum(period_goals[v]) for v in ("home", "away")}
    tracked = {v: sum(1 for g in game.goals if g.venue == v and g.tracked) for v in ("home", "away")}
    roster = {v: tuple((p.player_id, p.number, goals[(v, p.number)], assists[(v, p.number)], pim[(v, p.number)])
                       for p in game.roster[v]) for v in ("home", "away")}
    return GameResult(spec.game_id, tuple(files), official, tracked,
                      {v: tuple(period_goals[v]) for v in period_goals}, roster,
                      {"home": official["away"], "away": official["home"]},
                      len(game.events), len(game.shifts))


def _run_chunk(specs: list[GameSpec], tracking_dir: Path | None) -> list[GameResult]:
    return [_run_game(spec, tracking_dir) for spec in specs]


# --------------------------------------------------------------------------------------------------
# League workbook.
# --------------------------------------------------------------------------------------------------


def _season_of(date: dt.date) -> tuple[int, str, dt.date]:
    first_year = date.year if date.month >= 8 else date.year - 1
    return int(f"{first_year}{first_year + 1}"), f"{LEAGUE_ID}{first_year}{first_year + 1}F", dt.date(first_year, 8, 1)


def _vocabulary_rows() -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {}
    rows["dim_event_type"] = [(f"ET{i:04d}", code, code.replace("_", " "), category, f"{code.replace('_', ' ')} event",
                               corsi, fenwick) for i, (code, category, corsi, fenwick) in enumerate(EVENT_TYPES, 1)]
    details = sorted({*[f"Possession_{d}" for d in POSSESSION_DETAIL if d], *PASS_DETAIL, *SHOT_DETAIL, "Shot_Goal",
                      "Goal_Scored", "Save_Rebound", "Save_Freeze", *REBOUND_DETAIL, *ZONE_DETAILS,
                      "Turnover_Giveaway", "Turnover_Takeaway", *PLAY_DETAIL, "LoosePuck_Battle", "Penalty_Minor",
                      *FACEOFF_DETAILS, *STOPPAGE_DETAILS})
    rows["dim_event_detail"] = []
    for i, code in enumerate(details, 1):
        etype = code.split("_")[0]
        rows["dim_event_detail"].append((
            f"ED{i:04d}", code, code.replace("_", " "), etype, etype.lower(), f"{etype}: {code}",
            code in ("Shot_Goal", "Shot_OnNetSaved", "Shot_TippedOnNetSaved", "Shot_DeflectedOnNetSaved"),
            code in ("Shot_Goal", "Goal_Scored"), code.startswith("Shot_Missed"), code.startswith("Shot_Blocked"),
            "high" if code in ("Shot_Goal", "Goal_Scored") else None))
    details_2 = sorted({d for mix in (PASS_DETAIL_2, SHOT_DETAIL_2, GOAL_DETAIL_2, SAVE_DETAIL_2, ZONE_ENTRY_2,
                                      ZONE_EXIT_2, GIVEAWAY_2, TAKEAWAY_2, PLAY_DEFENSIVE_2, PLAY_OFFENSIVE_2,
                                      PENALTY_DETAIL_2) for d in mix if d} | set(STOPPAGE_DETAIL_2) | {"Zone_KeepIn"})
    rows["dim_event_detail_2"] = []
    for i, code in enumerate(details_2, 1):
        etype = code.split("_")[0]
        rows["dim_event_detail_2"].append((
            f"ED{i:03d}", code, code.replace("_", " "), etype, etype, etype.lower(), f"{etype} - {code}",
            False, etype == "Goal", False, False, None))
    play = sorted({*OFFENSIVE_PLAY_DETAILS, *DEFENSIVE_PLAY_DETAILS, *ASSIST_PLAY_DETAILS})
    rows["dim_play_detail"] = [(f"PD{i:04d}", code, code, "scoring" if code.startswith("Assist") else
                                "offensive" if code in OFFENSIVE_PLAY_DETAILS else "defensive", "Medium",
                                f"play: {code}") for i, code in enumerate(play, 1)]
    rows["dim_play_detail_2"] = list(rows["dim_play_detail"])
    return rows


def _rink_rows() -> dict[str, list[tuple]]:
    """Rink boxes on the standard 200x85 ft rink: goal lines at +/-89, blue lines at +/-25."""
    box_rows, zone_rows = [], []
    x_bands = ((89, 100, "behind net"), (73, 89, "low"), (57, 73, "low-mid"), (41, 57, "mid-high"), (25, 41, "high"))
    y_bands = ((-42.5, -25.5, "boards", "left"), (-25.5, -8.5, "interior", "left"), (-8.5, 8.5, "center", "center"),
               (8.5, 25.5, "interior", "right"), (25.5, 42.5, "boards", "right"))
    n = 0
    for x0, x1, xdesc in x_bands:
        for y0, y1, ydesc, side in y_bands:
            n += 1
            danger = "high" if (ydesc == "center" and x0 >= 57 and x0 < 89) else "mid" if ydesc == "interior" else "low"
            area = round((x1 - x0) * (y1 - y0), 1)
            box_rows.append((f"O{n:02d}", f"D{n:02d}", float(x0), float(x1), y0, y1, area, xdesc, ydesc, danger,
                             "offensive", side))
            box_rows.append((f"D{n:02d}", f"O{n:02d}", -float(x1), -float(x0) - 0.00001, -y1, -y0, area, xdesc, ydesc,
                             danger, "defensive", "left" if side == "right" else "right" if side == "left" else side))
    for i, (y0, y1, ydesc, side) in enumerate(((-42.5, -14.16667, "boards", "left"), (-14.16667, 14.16667, "center",
                                                "center"), (14.16667, 42.5, "boards", "right")), 1):
        area = round(25 * (y1 - y0), 5)
        box_rows.append((f"N{i:02d}", f"N{7 - i:02d}", 0.0, 25.0, y0, y1, area, "offensive side", ydesc, "low",
                         "neutral", side))
        box_rows.append((f"N{7 - i:02d}", f"N{i:02d}", -24.99999, 0.0, y0, y1, area, "defensive side", ydesc, "low",
                         "neutral", side))
    n = 0
    for x in range(100, -100, -10):
        for y in (-42.5, -30.0, -15.0, -7.5, 0.0, 7.5, 15.0, 30.0):
            y1 = {-42.5: -30.0, -30.0: -15.0, -15.0: -7.5, -7.5: 0.0, 0.0: 7.5, 7.5: 15.0, 15.0: 30.0, 30.0: 42.5}[y]
            n += 1
            x0, x1 = float(x - 10), float(x)
            zone = "offensive" if x0 >= 25 else "defensive" if x1 <= -25 else "neutral"
            prefix = {"offensive": "OZ", "defensive": "DZ", "neutral": "NZ"}[zone]
            side = "center" if -7.5 <= y < 7.5 else "left" if y < 0 else "right"
            slot = "slot" if zone == "offensive" and 60 <= x0 < 89 and -15 <= y < 15 else "outside"
            danger = "high" if slot == "slot" and -7.5 <= y < 7.5 else "mid" if slot == "slot" else "low"
            mirror = {"OZ": "DZ", "DZ": "OZ", "NZ": "NZ"}[prefix]
            zone_rows.append((f"{prefix}{n:02d}", f"{mirror}{n:02d}",
                              x0, x1, y, y1, f"y {y} to {y1}", f"x {x0:g} to {x1:g}", danger, slot, zone, side,
                              "inside trapezoid" if side == "center" else "outside trapezoid",
                              "below goal line" if abs(x0) >= 89 or abs(x1) > 89 else "above goal line"))
    return {"dim_rinkboxcoord": box_rows, "dim_rinkcoordzones": zone_rows}


def write_league_workbook(path: Path, teams: list[Team], specs: list[GameSpec], results: dict[int, GameResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "default_date_format": "yyyy-mm-dd",
                                         "strings_to_urls": False})
    wb.set_properties({"created": dt.datetime(2025, 1, 1)})  # fixed: same seed, same bytes
    time_format = wb.add_format({"num_format": "hh:mm:ss"})
    tables: dict[str, list[tuple]] = {}
    tables.update(_rink_rows())
    team_of = {p.player_id: t for t in teams for p in t.players}
    tables["dim_player"] = [
        (i, p.first, p.last, p.name, p.player_id, p.position, p.rating, None, None, p.rating, None, "Y", None, p.number,
         None, team_of[p.player_id].name, None, team_of[p.player_id].team_id, None, None, None, None, p.name,
         p.first, p.last)
        for i, p in enumerate(p for t in teams for p in t.players)]
    tables["dim_team"] = [(i, t.name, t.team_id, "Y", "N", LEAGUE_ID, LEAGUE_NAME, f"{t.name} Hockey Club", t.code,
                           t.color, "#FFFFFF", "#000000", None, None, None) for i, t in enumerate(teams)]
    tables["dim_league"] = [(0, LEAGUE_ID, LEAGUE_NAME)]
    seasons = sorted({_season_of(s.date) for s in specs})
    tables["dim_season"] = [(i, sid, season, "F", "Y", "N", LEAGUE_ID, LEAGUE_NAME, start)
                            for i, (season, sid, start) in enumerate(seasons)]
    schedule, roster_rows = [], []
    for i, spec in enumerate(specs):
        res = results[spec.game_id]
        season, season_id, _ = _season_of(spec.date)
        h, a = res.official["home"], res.official["away"]
        outcome = {"home": (int(h > a), int(h < a), int(h == a)), "away": (int(a > h), int(a < h), int(h == a))}
        pts = {v: 2 * outcome[v][0] + outcome[v][2] for v in outcome}
        per = {v: [g or None for g in res.period_goals[v]] for v in ("home", "away")}
        gid = spec.game_id
        schedule.append((
            i, gid, season, season_id, None, f"{gid}{spec.home.team_id}", f"{gid}{spec.away.team_id}", spec.date,
            "18:45:00", spec.home.name, spec.away.name, spec.home.team_id, spec.away.team_id,
            "_".join(sorted((spec.home.team_id, spec.away.team_id))), "Regular", None, "Regulation",
            dt.time(0, PERIOD_MINUTES), dt.time(0, 0), 0, h, a, *per["home"], None, *per["away"], None, None, None,
            *outcome["home"], pts["home"], *outcome["away"], pts["away"], None, None, None, None, None))
        for venue, team, opp in (("home", spec.home, spec.away), ("away", spec.away, spec.home)):
            players = {p.player_id: p for p in team.players}
            for player_id, num, goals, assists, pim in res.roster[venue]:
                p = players[player_id]
                goalie = p.position == "Goalie"
                ga = res.goals_against[venue] if goalie else 0
                roster_rows.append((
                    len(roster_rows), gid, f"{gid}{team.team_id}", f"{gid}{opp.team_id}",
                    f"{gid}{team.team_id}{player_id}", venue, team.name, opp.name, num, f"{p.name} – {p.rating}",
                    p.position, 1, goals, assists, ga, pim, int(goalie and ga == 0), team.team_id, opp.team_id,
                    f"{gid}{team.name}{num}", p.name, player_id, spec.date, season, None, team.name, p.rating))
    tables["dim_schedule"] = schedule
    tables["fact_gameroster"] = roster_rows
    tables.update(_vocabulary_rows())
    time_columns = {LEAGUE_COLUMNS["dim_schedule"].index("period_length"),
                    LEAGUE_COLUMNS["dim_schedule"].index("ot_period_length")}
    for name in LEAGUE_SHEETS:
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, LEAGUE_COLUMNS[name])
        for r, row in enumerate(tables[name], start=1):
            ws.write_row(r, 0, row)
            if name == "dim_schedule":
                for c in time_columns:
                    ws.write_datetime(r, c, row[c], time_format)
    wb.close()


# --------------------------------------------------------------------------------------------------
# generate()
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthSet:
    """Where a synthetic data set was written and what its official results are."""

    root: Path
    blb: Path  # the league workbook, root/blb/BLB_Tables.xlsx
    tracking: Path  # root/tracking with xlsx/<game_id>_tracking.xlsx and json/<game_id>.json
    game_ids: tuple[int, ...]  # tracked games
    official_goals: dict[int, dict[str, int]]  # game_id -> {"home": n, "away": m} on the scoresheet
    tracked_goals: dict[int, dict[str, int]]  # game_id -> goals present in the tracking files
    partial_game_ids: frozenset[int]
    files: dict[int, tuple[Path, ...]]  # game_id -> tracking files (two when written in both formats)
    untracked_game_ids: tuple[int, ...] = ()
    events: dict[int, int] = field(default_factory=dict)  # game_id -> tracked events
    shifts: dict[int, int] = field(default_factory=dict)

    @property
    def complete_game_ids(self) -> tuple[int, ...]:
        return tuple(g for g in self.game_ids if g not in self.partial_game_ids)

    @property
    def both_formats_game_ids(self) -> tuple[int, ...]:
        return tuple(g for g in self.game_ids if len(self.files[g]) > 1)


def generate(out_dir: Path, *, games: int, seed: int = 0, formats: Sequence[str] = ("xlsx", "json"),
             partial_fraction: float = 0.0, both_formats_fraction: float = 0.0, start_game_id: int = 90000,
             xlsx_fraction: float = 0.5, untracked_games: int = 0, workers: int | None = None) -> SynthSet:
    """Write a synthetic league workbook and `games` tracked games under `out_dir`.

    formats: the tracker formats to write. With both, each game is written as xlsx with probability
      `xlsx_fraction`, else as JSON; `both_formats_fraction` of the games are written in both.
    partial_fraction: share of games tracked only up to a point before one of their goals.
    untracked_games: extra scheduled games with official results but no tracking files.
    workers: processes writing games (default: up to 2 for more than 20 games). The output does not
      depend on it: every game draws from its own seeded random stream.
    """
    formats = tuple(formats)
    unknown = set(formats) - {"xlsx", "json"}
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of ('xlsx', 'json'), got {formats!r}")
    if both_formats_fraction and set(formats) != {"xlsx", "json"}:
        raise ValueError("both_formats_fraction needs formats=('xlsx', 'json')")
    for name, value in (("partial_fraction", partial_fraction), ("both_formats_fraction", both_formats_fraction),
                        ("xlsx_fraction", xlsx_fraction)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {value}")
    if games < 0 or untracked_games < 0:
        raise ValueError("games and untracked_games must not be negative")
    out_dir = Path(out_dir)
    tracking = out_dir / "tracking"
    (tracking / "xlsx").mkdir(parents=True, exist_ok=True)
    (tracking / "json").mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"benchsight-synth-league:{seed}")
    teams = _build_league(rng)

    total = games + untracked_games
    n_partial = round(games * partial_fraction)
    n_both = round(games * both_formats_fraction)
    order = list(range(games))
    rng.shuffle(order)
    partial = set(order[:n_partial])
    both = set(order[n_partial:n_partial + n_both]) if n_both <= games - n_partial else set(order[:n_both])
    specs: list[GameSpec] = []
    first_date = dt.date(2025, 9, 7)
    pairs = [(h, a) for h in range(TEAMS) for a in range(TEAMS) if h != a]
    rng.shuffle(pairs)
    for i in range(total):
        home, away = pairs[i % len(pairs)]
        date = first_date + dt.timedelta(days=7 * (i // (TEAMS // 2)))
        if i >= games:
            game_formats: tuple[str, ...] = ()
        elif i in both:
            game_formats = ("xlsx", "json")
        elif len(formats) == 1:
            game_formats = formats
        else:
            game_formats = ("xlsx",) if rng.random() < xlsx_fraction else ("json",)
        layout = "slim" if rng.random() < SLIM_LAYOUT_SHARE else "wide"
        version = "25.0" if rng.random() < JSON_V25_SHARE else "23.8"
        specs.append(GameSpec(start_game_id + i, seed, teams[home], teams[away], date, i in partial,
                              game_formats, layout, version))

    tracked_specs = [s for s in specs if s.formats]
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if games > 20 else 1
    results: dict[int, GameResult] = {}
    if workers > 1 and len(tracked_specs) > 1:
        chunks = [tracked_specs[i::workers * 4] for i in range(workers * 4)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for chunk_results in pool.map(_run_chunk, chunks, [tracking] * len(chunks)):
                results.update((r.game_id, r) for r in chunk_results)
    else:
        results.update((r.game_id, r) for r in _run_chunk(tracked_specs, tracking))
    results.update((r.game_id, r) for r in _run_chunk([s for s in specs if not s.formats], None))
    blb = out_dir / "blb" / "BLB_Tables.xlsx"
    write_league_workbook(blb, teams, specs, results)

    tracked_ids = tuple(s.game_id for s in tracked_specs)
    return SynthSet(
        root=out_dir, blb=blb, tracking=tracking, game_ids=tracked_ids,
        official_goals={g: dict(results[g].official) for g in tracked_ids + tuple(s.game_id for s in specs[games:])},
        tracked_goals={g: dict(results[g].tracked) for g in tracked_ids},
        partial_game_ids=frozenset(s.game_id for s in tracked_specs if s.partial),
        files={g: results[g].files for g in tracked_ids},
        untracked_game_ids=tuple(s.game_id for s in specs[games:]),
        events={g: results[g].events for g in tracked_ids},
        shifts={g: results[g].shifts for g in tracked_ids},
    )


def calibration_stats(games: int = 40, seed: int = 0) -> dict[str, object]:
    """The calibrated measures over `games` simulated complete games, to compare with the real data."""
    rng = random.Random(f"benchsight-synth-league:{seed}")
    teams = _build_league(rng)
    sims = [simulate(GameSpec(90000 + i, seed, teams[i % TEAMS], teams[(i + 1) % TEAMS], dt.date(2025, 9, 7),
                              False, ("json",), "wide", "23.8")) for i in range(games)]
    n_events = sum(len(g.events) for g in sims)
    types: dict[str, int] = {}
    for g in sims:
        for e in g.events:
            types[e.type] = types.get(e.type, 0) + 1
    lengths = [s.start - s.end for g in sims for s in g.shifts]
    mean_len = sum(lengths) / len(lengths)
    sd_len = (sum((x - mean_len) ** 2 for x in lengths) / len(lengths)) ** 0.5
    n_goals = sum(len(g.goals) for g in sims)
    return {
        "events_per_game": round(n_events / games, 1),
        "player_rows_per_game": round(sum(max(len(e.players), 1) for g in sims for e in g.events) / games, 1),
        "shifts_per_game": round(sum(len(g.shifts) for g in sims) / games, 1),
        "shift_seconds_mean": round(mean_len, 1), "shift_seconds_sd": round(sd_len, 1),
        "on_the_fly_share": round(sum(s.start_type == "OnTheFly" for g in sims for s in g.shifts)
                                  / max(sum(len(g.shifts) for g in sims), 1), 3),
        "goals_per_team_game": round(n_goals / games / 2, 2),
        "assists_per_goal": round(sum(len(x.assists) for g in sims for x in g.goals) / max(n_goals, 1), 3),
        "penalties_per_game": round(sum(len(g.penalties) for g in sims) / games, 2),
        "type_mix": {k: round(v / n_events, 4) for k, v in sorted(types.items(), key=lambda kv: -kv[1])},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m etl.synth", description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, nargs="?", help="directory to write blb/ and tracking/ into")
    parser.add_argument("--games", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--formats", default="xlsx,json", help="comma-separated: xlsx,json")
    parser.add_argument("--xlsx-fraction", type=float, default=0.5)
    parser.add_argument("--partial-fraction", type=float, default=0.0)
    parser.add_argument("--both-formats-fraction", type=float, default=0.0)
    parser.add_argument("--untracked-games", type=int, default=0)
    parser.add_argument("--start-game-id", type=int, default=90000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--stats", action="store_true",
                        help="print the calibrated measures of simulated games instead of writing files")
    args = parser.parse_args(argv)
    if args.stats:
        print(json.dumps(calibration_stats(args.games, args.seed), indent=1))
        return 0
    if args.out is None:
        parser.error("OUT is required (the folder to write blb/ and tracking/ into)")
    started = time.perf_counter()
    synth = generate(args.out, games=args.games, seed=args.seed, formats=tuple(args.formats.split(",")),
                     partial_fraction=args.partial_fraction, both_formats_fraction=args.both_formats_fraction,
                     start_game_id=args.start_game_id, xlsx_fraction=args.xlsx_fraction,
                     untracked_games=args.untracked_games, workers=args.workers)
    elapsed = time.perf_counter() - started
    n_events = sum(synth.events.values())
    n_shifts = sum(synth.shifts.values())
    print(f"wrote {len(synth.game_ids)} tracked games ({len(synth.partial_game_ids)} partial, "
          f"{len(synth.both_formats_game_ids)} in both formats, {len(synth.untracked_game_ids)} untracked) "
          f"to {synth.root} in {elapsed:.1f} s; {n_events / max(len(synth.game_ids), 1):.0f} events and "
          f"{n_shifts / max(len(synth.game_ids), 1):.0f} shifts per game")
    return 0


if __name__ == "__main__":
    sys.exit(main())
