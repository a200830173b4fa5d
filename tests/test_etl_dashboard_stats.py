"""The dashboard's tracked stats (docs/stats.md, "Dashboard columns and tracked analytics") on hand-checked
rows of the real data: each expected value is counted here from the raw tracker JSON or the league workbook,
not from the ETL's own frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from etl_fixtures import etl_cache, full_run, read_table, sample_data  # noqa: F401
from python_calamine import CalamineWorkbook

pytestmark = pytest.mark.sample_data


def _json(sample_data: Path, game_id: int) -> dict:  # noqa: F811
    return json.loads((sample_data / "tracking" / "json" / f"{game_id}.json").read_text())


def _sheet(sample_data: Path, name: str) -> list[dict]:  # noqa: F811
    rows = CalamineWorkbook.from_path(str(sample_data / "blb" / "BLB_Tables.xlsx")).get_sheet_by_name(name).to_python()
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _jersey(sample_data: Path, game_id: int, player_id: str) -> tuple[int, str]:  # noqa: F811
    for r in _sheet(sample_data, "fact_gameroster"):
        if r["game_id"] == game_id and r["player_id"] == player_id:
            return int(r["player_game_number"]), r["team_venue"]
    raise AssertionError(f"{player_id} not on the scoresheet of {game_id}")


def _ep1(event: dict) -> dict | None:
    for p in event.get("players") or []:
        if p.get("role") in ("event_player_1", "event_team_player_1"):
            return p
    return None


def _detail(v) -> str:
    return (v or "").replace("-", "_")


def _row(df, **key):
    m = np.ones(len(df), dtype=bool)
    for k, v in key.items():
        m &= (df[k] == v).to_numpy()
    assert m.sum() == 1, f"{key}: {m.sum()} rows"
    return df.loc[m].iloc[0]


def test_saves_by_type_count_the_goalies_save_events(full_run, sample_data):  # noqa: F811
    jersey, venue = _jersey(sample_data, 18969, "P100016")  # Wyatt Crandall, goalie
    mine = [e for e in _json(sample_data, 18969)["events"] if e["type"] == "Save" and _ep1(e)
            and _ep1(e)["num"] == jersey and e["team"] == venue]
    def n(*types):
        return sum(_detail(e["detail2"]) in types for e in mine)
    g = _row(read_table(full_run.out, "fact_goalie_game_stats"), game_id=18969, player_id="P100016")
    assert g["saves_glove"] == n("Save_Glove") == 5
    assert g["saves_pad"] == n("Save_LeftPad", "Save_RightPad") == 14
    assert g["saves_butterfly"] == n("Save_Butterfly")
    assert g["saves_blocker"] == n("Save_Blocker") and g["saves_chest"] == n("Save_Chest")
    assert g["player_name"] == "Wyatt Crandall" and g["team_name"] == "Velodrome"
    saves = read_table(full_run.out, "fact_saves")
    s = saves.loc[(saves["game_id"] == 18969) & (saves["goalie_player_id"] == "P100016")]
    assert len(s) == len(mine)
    assert (s["shot_result"].dropna().isin(["saved", "goal", "blocked", "missed", "unknown"])).all()


def test_zone_entry_summary_counts_the_carriers_attempts(full_run, sample_data):  # noqa: F811
    jersey, venue = _jersey(sample_data, 18969, "P100192")  # Chris Premo
    entries = [e for e in _json(sample_data, 18969)["events"] if e["type"] == "Zone_Entry_Exit"
               and _detail(e["detail1"]).startswith("Zone_Entry") and _ep1(e) and _ep1(e)["num"] == jersey
               and e["team"] == venue]
    failed = sum(e.get("success") is False or _detail(e["detail1"]).lower().endswith("failed") for e in entries)
    z = _row(read_table(full_run.out, "fact_zone_entry_summary"), game_id=18969, player_id="P100192")
    assert (z["total_entries"], z["failed_entries"]) == (len(entries), failed) == (13, 3)
    carried = sum(_detail(e["detail2"]) == "ZoneEntry_Carried" for e in entries if e.get("success") is not False
                  and not _detail(e["detail1"]).lower().endswith("failed"))
    assert z["controlled_entries"] >= carried


def test_micro_stats_read_play_details_by_their_last_part(full_run, sample_data):  # noqa: F811
    jersey, venue = _jersey(sample_data, 18969, "P100201")  # Garrett Ashcroft
    dekes = 0
    for e in _json(sample_data, 18969)["events"]:
        for p in e.get("players") or []:
            if p.get("num") == jersey and p.get("team") == venue:
                tokens = {str(p.get(k) or "").rsplit("-", 1)[-1] for k in ("playD1", "playD2")}
                dekes += bool(tokens & {"Deke", "OpenIceDeke"})
    m = _row(read_table(full_run.out, "fact_player_micro_stats"), game_id=18969, player_id="P100201")
    assert m["dekes"] == dekes == 8
    p = _row(read_table(full_run.out, "fact_player_game_stats"), game_id=18969, player_id="P100201")
    assert p["dekes"] == 8 and p["player_name"] == "Garrett Ashcroft" and p["opponent_team_name"] == "Platinum"


def test_team_zone_time_mirrors_the_event_teams_zone(full_run, sample_data):  # noqa: F811
    ev = [e for e in _json(sample_data, 18969)["events"] if e.get("team") in ("home", "away")]
    home_o = sum((e["team"] == "home" and e["zone"] == "o") or (e["team"] == "away" and e["zone"] == "d")
                 for e in ev)
    z = _row(read_table(full_run.out, "fact_team_zone_time"), game_id=18969, venue="home")
    assert z["offensive_zone_events"] == home_o == 761
    away = _row(read_table(full_run.out, "fact_team_zone_time"), game_id=18969, venue="away")
    assert away["defensive_zone_events"] == home_o and away["neutral_zone_events"] == z["neutral_zone_events"]


def test_game_score_is_luszczyszyn_formula_on_tracked_counts(full_run):  # noqa: F811
    pgs = read_table(full_run.out, "fact_player_game_stats")
    # Alex Considine, 18969: 1 G, 1 A1, 0 A2, 6 SOG, 2 blocks, no penalties or faceoffs, EV on ice 4 GF 1 GA:
    # 0.75 + 0.7 + 0.075 * 6 + 0.05 * 2 + 0.15 * 4 - 0.15 * 1 = 2.45
    p = _row(pgs, game_id=18969, player_id="P100023")
    assert (p["tracked_goals"], p["primary_assists"], p["secondary_assists"], p["sog"], p["blocks"]) == (1, 1, 0, 6, 2)
    assert (p["plus_ev"], p["minus_ev"]) == (4, 1)
    assert p["game_score"] == pytest.approx(2.45)
    sk = pgs.loc[(pgs["game_status"] != "untracked") & (pgs["position"] != "Goalie")].astype("float64", errors="ignore")
    formula = (0.75 * sk["tracked_goals"] + 0.7 * sk["primary_assists"] + 0.55 * sk["secondary_assists"]
               + 0.075 * sk["sog"] + 0.05 * sk["blocks"] + 0.15 * sk["penalties_drawn"]
               - 0.15 * sk["penalties_taken"] + 0.01 * sk["fo_wins"] - 0.01 * sk["fo_losses"]
               + 0.15 * sk["plus_ev"].fillna(0) - 0.15 * sk["minus_ev"].fillna(0))
    assert np.allclose(sk["game_score"].astype(float), formula.astype(float))
    assert pgs.loc[pgs["game_status"] == "untracked", "game_score"].isna().all()


def test_per_60_rates_and_percentages(full_run):  # noqa: F811
    p = _row(read_table(full_run.out, "fact_player_game_stats"), game_id=18969, player_id="P100023")
    assert p["toi_seconds"] == 1754
    assert p["points_per_60"] == pytest.approx(2 * 3600 / 1754)
    assert p["cf_pct"] == pytest.approx(100 * p["corsi_for"] / (p["corsi_for"] + p["corsi_against"]))
    assert p["shooting_pct"] == pytest.approx(100 / 6)
    assert p["avg_shift"] == pytest.approx(1754 / p["shift_count"])
    for col in ("xg_for", "war", "player_rating", "rush_xg"):
        assert read_table(full_run.out, "fact_player_game_stats")[col].isna().all()


def test_rush_shot_follows_a_carried_entry_within_ten_seconds(full_run, sample_data):  # noqa: F811
    # 18969.json events 10 and 11: Galen Wood (away #49) carries the puck in at 17:37 and shoots at 17:33
    raw = {e["idx"]: e for e in _json(sample_data, 18969)["events"]}
    assert _detail(raw[10]["detail2"]) == "ZoneEntry_Carried" and raw[11]["type"] == "Shot"
    assert _ep1(raw[10])["num"] == _ep1(raw[11])["num"] == 49
    ev = read_table(full_run.out, "fact_events").set_index(["game_id", "event_id"])
    assert ev.loc[(18969, 10), "is_rush"] and ev.loc[(18969, 11), "is_rush"]
    p = _row(read_table(full_run.out, "fact_player_game_stats"), game_id=18969, player_id="P100161")
    assert p["rush_shots"] >= 1 and p["rush_off_shot_generated"] >= 1 and p["rush_involvement"] >= 1


def _box_danger(boxes: list[dict], x: float, y: float) -> str | None:
    if x < 0:
        x, y = -x, -y
    for b in boxes:
        if b["box_id"] and b["x_min"] != "" and b["x_min"] <= x <= b["x_max"] and b["y_min"] <= y <= b["y_max"]:
            return b["danger"]
    return None


def test_shot_locations_get_the_league_boxes_danger(full_run, sample_data):  # noqa: F811
    boxes = _sheet(sample_data, "dim_rinkcoordzones") + _sheet(sample_data, "dim_rinkboxcoord")
    shots = {e["idx"]: e["puckXY"][0] for e in _json(sample_data, 19038)["events"]
             if e["type"] == "Shot" and e.get("puckXY")}
    xy = read_table(full_run.out, "fact_shot_xy")
    xy = xy.loc[xy["game_id"] == 19038].set_index("event_id")
    assert sorted(xy.index) == sorted(shots) and len(shots) >= 5
    for idx, p in shots.items():
        assert (xy.loc[idx, "shot_x"], xy.loc[idx, "shot_y"]) == (p["x"], p["y"])
        assert xy.loc[idx, "danger_zone"] == _box_danger(boxes, p["x"], p["y"])
    ev = read_table(full_run.out, "fact_events").set_index(["game_id", "event_id"])
    assert ev.loc[[(19038, i) for i in shots], "danger_level"].tolist() == xy.loc[list(shots), "danger_zone"].tolist()


def test_puck_and_player_paths_keep_every_point(full_run, sample_data):  # noqa: F811
    events = _json(sample_data, 19038)["events"]
    def usable(points):
        return [p for p in points or [] if isinstance(p, dict) and p.get("x") is not None and p.get("y") is not None]
    puck = sum(len(usable(e.get("puckXY"))) for e in events)
    players = sum(len(usable(p.get("xy"))) for e in events for p in e.get("players") or [])
    long = read_table(full_run.out, "fact_puck_xy_long")
    assert (long["game_id"] == 19038).sum() == puck == 386
    assert (read_table(full_run.out, "fact_player_xy_long")["game_id"] == 19038).sum() == players
    wide = read_table(full_run.out, "fact_puck_xy_wide").set_index(["game_id", "event_id"])
    first = next(e for e in events if len(usable(e.get("puckXY"))) >= 3)
    row = wide.loc[(19038, first["idx"])]
    pts = usable(first["puckXY"])
    assert (row["x_1"], row["y_3"], row["point_count"]) == (pts[0]["x"], pts[2]["y"], len(pts))
    assert row["event_type"] == first["type"]


def test_lines_and_wowy_add_up_over_shifts(full_run, sample_data):  # noqa: F811
    lc = read_table(full_run.out, "fact_line_combos")
    sh = read_table(full_run.out, "fact_shifts")
    game_seconds = sh.loc[sh["game_id"] == 18969, "duration_s"].sum()
    fwd = lc.loc[(lc["game_id"] == 18969) & (lc["combo_type"] == "forwards")]
    assert fwd.groupby("venue")["toi_together"].sum().le(game_seconds).all()
    # the first shift of 18969.json: its home forwards' combination played at least that shift
    first = _json(sample_data, 18969)["shifts"][0]
    assert fwd.loc[fwd["venue"] == "home", "toi_together"].max() > 0 and first
    w = read_table(full_run.out, "fact_wowy")
    w = w.loc[w["game_id"] == 18969]
    both = w.merge(w, left_on=["player_1_id", "player_2_id"], right_on=["player_2_id", "player_1_id"])
    assert len(both) == len(w) and np.allclose(both["toi_together_x"], both["toi_together_y"])
    ok = w["cf_pct_delta"].notna()
    assert np.allclose(w.loc[ok, "cf_pct_delta"], w.loc[ok, "cf_pct_together"] - w.loc[ok, "cf_pct_apart"])


def test_quality_of_competition_weights_opponent_ratings_by_shift_time(full_run, sample_data):  # noqa: F811
    rating = {r["player_id"]: r["current_skill_rating"] for r in _sheet(sample_data, "dim_player")
              if r["player_id"] and r["current_skill_rating"] != ""}
    sp = read_table(full_run.out, "fact_shift_players")
    sp = sp.loc[(sp["game_id"] == 18969) & ~sp["is_goalie"].astype(bool) & sp["player_id"].notna()]
    dur = read_table(full_run.out, "fact_shifts").set_index(["game_id", "shift_id"])["duration_s"]
    mine = sp.loc[sp["player_id"] == "P100023"]
    num = den = 0.0
    for shift_id, venue in zip(mine["shift_id"], mine["team_venue"]):
        opp = [rating[p] for p in sp.loc[(sp["shift_id"] == shift_id) & (sp["team_venue"] != venue), "player_id"]
               if p in rating]
        d = dur[(18969, shift_id)]
        if opp and d > 0:
            num, den = num + d * sum(opp) / len(opp), den + d
    q = _row(read_table(full_run.out, "fact_player_qoc_summary"), game_id=18969, player_id="P100023")
    assert q["avg_opp_rating"] == pytest.approx(num / den)
    assert q["rating_diff"] == pytest.approx(q["avg_own_rating"] - q["avg_opp_rating"])


def test_shift_players_number_their_stints(full_run):  # noqa: F811
    sp = read_table(full_run.out, "fact_shift_players")
    pgs = read_table(full_run.out, "fact_player_game_stats")
    g = sp.loc[(sp["game_id"] == 18969) & (sp["player_id"] == "P100023")]
    assert g["logical_shift_number"].max() == g["is_first_segment"].sum()
    assert g["logical_shift_number"].max() == _row(pgs, game_id=18969, player_id="P100023")["shift_count"]
