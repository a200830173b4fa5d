"""The dashboard contract (tests/contracts/dashboard-reads.tsv, a copy of ../shared/contracts): the ETL on the
real league data, uploaded, serves every relation and column the league's dashboard reads to the role that
reads it (anon for the public pages), with rows for the tracked games; standings of one season agree with
the schedule's results computed here, independently of the views.

Run one half with -k, e.g. `pytest tests/test_dashboard_contract.py -k "fact_shot_xy or fact_saves"`.
"""

from __future__ import annotations

import asyncio
import os
import csv
from collections import defaultdict
from pathlib import Path

import asyncpg
import pandas as pd
import pytest
from conftest import _scratch_database
from etl_fixtures import etl_cache, full_run, sample_data  # noqa: F401

from daemon import database, warehouse
from daemon.config import PROJECT_ROOT
from etl.catalog import TABLES
from handlers.schema import views_sql
from handlers.staging_blb import _stage, read_sheet_rows

pytestmark = pytest.mark.sample_data

CONTRACT = Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", PROJECT_ROOT.parent / "shared" / "data")).parent \
    / "contracts" / "dashboard-reads.tsv"  # ../shared/contracts, beside the sample data
TRACKED_GAMES = (18969, 18981, 18987)  # complete, with events and shifts in both tracker formats
COORDINATE_GAME = 19038  # the JSON 25.0 export: the only game with shot, puck and player coordinates
SEASON = "N20242025F"  # the season whose standings are checked by hand


def _contract() -> tuple[dict[str, list[str]], set[str]]:
    if not CONTRACT.is_file():
        return {}, set()
    with open(CONTRACT, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return {r["name"]: r["columns_used"].split(",") for r in rows}, {r["name"] for r in rows if r["kind"] == "view"}


RELATIONS, VIEWS = _contract()

# Columns whose data the league does not have: they exist and are null (README, "The dashboard layer").
NULL_BY_DESIGN: dict[str, set[str]] = {
    "dim_player": {"birth_year", "player_gender", "jersey_number", "other_url"},
    "dim_schedule": {f"{v}_{c}" for v in ("home", "away") for c in
                     ("pp_goals", "pp_opportunities", "pk_goals_against", "pk_opportunities")}
                    | {f"{v}_team_period{p}_goals" for v in ("home", "away") for p in "123"}
                    | {"video_url_1", "video_url_2", "video_start_offset"},
    "fact_player_season_stats_basic": {"xg_for", "xg_per_game", "xg_adj", "goals_above_expected", "war", "gar",
                                       "player_rating"},
    # model columns (the ML layer fills xG; WAR/GAR and ratings stay null: README "ML") and data not tracked
    "fact_player_game_stats": {"xg_for", "rush_xg", "war", "player_rating", "adjusted_rating", "performance_index",
                               "rating_diff", "hits", "odd_man_rushes"},
    "fact_team_game_stats": {"xg_for", "war", "gar_total", "avg_adjusted_rating", "hits"},
    "fact_goalie_game_stats": {"goalie_war", "goalie_gar_total", "hd_saves", "hd_shots_against"},
    "fact_events": {"running_video_time", "danger_level"},
    "fact_shifts": {"player_id"},
    "fact_saves": {"danger_level"},
}
# Relations with data for some tracked games only: of the tracked games, only 18981's export links its video.
GAMES_WITH_DATA = {"fact_video": {18981}, **{t: {COORDINATE_GAME} for t in (
    "fact_shot_xy", "fact_player_xy_long", "fact_puck_xy_long", "fact_puck_xy_wide")}}


def _params():
    for name in RELATIONS:
        yield pytest.param(name, id=name)


def _client_rows(game_id: int) -> list[str]:
    """What the tracker pages write: one video link, one event and one shift of a game."""
    return [
        f"insert into public.tracker_videos (game_id, video_url, video_type) "
        f"values ({game_id}, 'https://www.youtube.com/watch?v=x', 'youtube')",
        f"insert into public.stage_events_tracking (game_id, event_index, period, type, team, start_time) "
        f"values ({game_id}, 0, 1, 'Faceoff', 'home', '18:00')",
        f"insert into public.stage_shifts_tracking (game_id, shift_index, period, start_time, end_time) "
        f"values ({game_id}, 0, 1, '18:00', '16:38')",
    ]


@pytest.fixture(scope="module")
def warehouse_url(full_run, sample_data, pg_server_url, template_db):  # noqa: F811
    """A migrated database with the real data's ETL output uploaded (with the views), the two league sheets
    the tracker reads staged, and one row in each client-written table."""
    databases = _scratch_database(pg_server_url, "bs_contract", template_db)
    url = next(databases)

    async def load() -> None:
        conn = await database.connect(url)
        try:
            files = warehouse.table_files(full_run.out, list(TABLES.values()))
            await warehouse.load_tables(conn, files, views_sql=views_sql(PROJECT_ROOT / "sql"))
            for statement in _client_rows(TRACKED_GAMES[0]):
                await conn.execute(statement)
        finally:
            await conn.close()
        pool = await database.create_pool(url, 1)
        try:
            for sheet in ("dim_schedule", "fact_gameroster"):
                rows = read_sheet_rows(sample_data / "blb" / "BLB_Tables.xlsx", sheet)
                await _stage(pool, sheet, rows, "BLB_Tables.xlsx", True)
        finally:
            await pool.close()

    asyncio.run(load())
    yield url
    next(databases, None)


def _fetch(url: str, sql: str, *args, role: str | None = None) -> list[asyncpg.Record]:
    """Rows of a query, as the database owner or as a Supabase role (SET ROLE, as PostgREST does)."""
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                if role:
                    await conn.execute(f"set local role {role}")
                return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def _reader(relation: str) -> str:
    """Who reads the relation: the public pages with the anon key, the tracker pages signed in."""
    return "authenticated" if relation in ("tracker_videos", "stage_events_tracking", "stage_shifts_tracking") \
        else "anon"


@pytest.mark.parametrize("relation", list(_params()))
def test_every_contract_column_is_served_with_rows_for_the_tracked_games(warehouse_url, relation):
    columns = RELATIONS[relation]
    select = ", ".join(f'"{c}"' for c in columns)
    per_game = "game_id" in columns and relation not in VIEWS  # a view answers what it selects (v_recent_games)
    if per_game:
        rows = _fetch(warehouse_url, f"select {select} from public.{relation} where game_id = any($1::bigint[])",
                      [*TRACKED_GAMES, COORDINATE_GAME], role=_reader(relation))
    else:
        rows = _fetch(warehouse_url, f"select {select} from public.{relation}", role=_reader(relation))
    assert rows, f"{relation}: no rows" + (f" for games {TRACKED_GAMES}" if per_game else "")
    if per_game and not relation.startswith(("stage_", "tracker_")):
        expected = GAMES_WITH_DATA.get(relation, set(TRACKED_GAMES))
        assert expected <= {r["game_id"] for r in rows}, f"{relation}: not every tracked game has rows"
    empty = [c for c in columns if all(r[c] is None for r in rows)]
    assert sorted(set(empty) - NULL_BY_DESIGN.get(relation, set())) == [], f"{relation}: columns never filled"


def _standings_from_schedule(url: str, season_id: str, regular_only: bool) -> pd.DataFrame:
    """W-L-T, points (2 a win, 1 a tie), GF, GA per team from dim_schedule's official scores."""
    games = _fetch(url, "select home_team_id, away_team_id, official_home_goals, official_away_goals "
                        "from public.dim_schedule where season_id = $1 and ($2 = false or game_type = 'Regular') "
                        "and official_home_goals is not null", season_id, regular_only)
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for g in games:
        for team, gf, ga in ((g["home_team_id"], g["official_home_goals"], g["official_away_goals"]),
                             (g["away_team_id"], g["official_away_goals"], g["official_home_goals"])):
            row = table[team]
            row["games_played"] += 1
            row["wins"] += gf > ga
            row["losses"] += gf < ga
            row["ties"] += gf == ga
            row["goals_for"] += gf
            row["goals_against"] += ga
            row["points"] += 2 if gf > ga else 1 if gf == ga else 0
    return pd.DataFrame.from_dict(table, orient="index").sort_index()


STANDING_COLUMNS = ["games_played", "wins", "losses", "ties", "goals_for", "goals_against", "points"]

# N20242025F regular season, checked by hand against the workbook's own per-game W/L/T flags (dim_schedule
# home_team_w ... away_team_pts): they follow the schedule's totals, which three games' scoresheets contradict
# (17966: 2-2 there, 1-2 on the scoresheet; 17965: 5-4 vs 4-4; 17961: 5-5 vs 4-5). Results follow the
# scoresheet, so N10007 has 13 points (flags: 14), N10002 14 (13), N10003 29 (31), N10006 22 (21), N10009 27 (26).
HAND_CHECKED_REGULAR_POINTS = {"N10001": 27, "N10002": 14, "N10003": 29, "N10004": 23, "N10005": 27,
                               "N10006": 22, "N10007": 13, "N10008": 34, "N10009": 27}


def test_regular_season_record_of_one_season_matches_the_schedule_and_the_hand_check(warehouse_url):
    expected = _standings_from_schedule(warehouse_url, SEASON, regular_only=True)
    served = pd.DataFrame([dict(r) for r in _fetch(
        warehouse_url, "select team_id, games_played, wins, losses, ties, goals_for, goals_against, points "
                       "from public.fact_team_season_stats_basic where season_id = $1 and game_type = 'Regular'",
        SEASON, role="anon")]).set_index("team_id").sort_index()
    pd.testing.assert_frame_equal(served[STANDING_COLUMNS], expected[STANDING_COLUMNS], check_dtype=False,
                                  check_names=False)
    assert served["points"].to_dict() == HAND_CHECKED_REGULAR_POINTS


def test_standings_of_one_season_match_the_schedule_results_over_all_game_types(warehouse_url):
    expected = _standings_from_schedule(warehouse_url, SEASON, regular_only=False)
    served = pd.DataFrame([dict(r) for r in _fetch(
        warehouse_url, "select team_id, games_played, wins, losses, ties, goals_for, goals_against, points, "
                       "goal_diff, standing from public.v_standings_all_seasons where season_id = $1", SEASON,
        role="anon")]).set_index("team_id").sort_index()
    pd.testing.assert_frame_equal(served[STANDING_COLUMNS], expected[STANDING_COLUMNS], check_dtype=False,
                                  check_names=False)
    assert (served["goal_diff"] == served["goals_for"] - served["goals_against"]).all()
    assert (expected["games_played"] > _standings_from_schedule(warehouse_url, SEASON, True)["games_played"]).any()
    leader = served.sort_values("standing").iloc[0]
    assert leader["points"] == expected["points"].max() and leader["standing"] == 1


def test_goalie_record_comes_from_the_team_results_of_the_games_dressed(warehouse_url):
    goalie = _fetch(warehouse_url, "select player_id, wins, losses, ties, shutouts, games_played from "
                                   "public.fact_goalie_season_stats_basic where season_id = $1 and "
                                   "game_type = 'All' order by games_played desc, player_id limit 1", SEASON)[0]
    games = _fetch(warehouse_url, """
        select r.team_id, s.home_team_id, s.official_home_goals, s.official_away_goals
        from public.fact_gameroster r join public.dim_schedule s using (game_id)
        where r.player_id = $1 and r.player_position = 'Goalie' and s.season_id = $2""",
                   goalie["player_id"], SEASON)
    w = l = t = so = 0
    for g in games:
        home = g["team_id"] == g["home_team_id"]
        gf, ga = ((g["official_home_goals"], g["official_away_goals"]) if home
                  else (g["official_away_goals"], g["official_home_goals"]))
        w, l, t, so = w + (gf > ga), l + (gf < ga), t + (gf == ga), so + (ga == 0)
    assert (goalie["games_played"], goalie["wins"], goalie["losses"], goalie["ties"], goalie["shutouts"]) == \
        (len(games), w, l, t, so)


def test_schedule_embeds_its_season_through_a_not_valid_foreign_key(warehouse_url):
    fk = _fetch(warehouse_url, "select convalidated, pg_get_constraintdef(oid) as def from pg_constraint "
                               "where conrelid = 'public.dim_schedule'::regclass and contype = 'f'")
    assert [(r["convalidated"], r["def"]) for r in fk] == [
        (False, "FOREIGN KEY (season_id) REFERENCES dim_season(season_id) NOT VALID")]
