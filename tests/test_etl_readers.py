"""Readers: each input format yields the same canonical, typed frames."""

from __future__ import annotations

import pandas as pd
import pytest
import python_calamine
from etl_fixtures import sample_data  # noqa: F401

from etl.canonical import (EVENT_COLUMNS, EVENT_PLAYER_COLUMNS, SHIFT_COLUMNS, SHIFT_PLAYER_COLUMNS, parse_clock)
from etl.readers.league_workbook import read_league_workbook
from etl.readers.tracker_json import read_tracker_json
from etl.readers.tracker_workbook import detect_layout, read_tracker_workbook


def test_clock_strings_parse_to_seconds_left():
    s = parse_clock(pd.Series(["18:00", "05:48", "00:0.01", "1:02:03", "", None, "soon"]))
    assert s.iloc[:4].tolist() == [1080.0, 348.0, 0.0, 3723.0]
    assert s.iloc[4:].isna().all()


def test_layout_is_detected_from_columns_not_file_name():
    assert detect_layout(["event_index_", "event_type_", "period"]) == "workbook-derived"
    assert detect_layout(["event_index", "strength", "player_role", "event_type_"]) == "workbook-slim"
    assert detect_layout(["foo", "bar"]) == "unknown"


def _assert_canonical(tg):
    for frame, cols in ((tg.events, EVENT_COLUMNS), (tg.event_players, EVENT_PLAYER_COLUMNS),
                        (tg.shifts, SHIFT_COLUMNS), (tg.shift_players, SHIFT_PLAYER_COLUMNS)):
        assert list(frame.columns) == list(cols)
        for name, dtype in cols.items():
            assert str(frame[name].dtype) == dtype, (name, frame[name].dtype)


@pytest.mark.sample_data
@pytest.mark.parametrize("name, layout", [("18969_tracking.xlsx", "workbook-derived"),
                                          ("18977_tracking.xlsx", "workbook-slim")])
def test_both_workbook_layouts_give_canonical_frames(sample_data, name, layout):
    tg = read_tracker_workbook(sample_data / "tracking" / "xlsx" / name)
    assert tg.format == layout
    _assert_canonical(tg)
    assert (tg.events["event_type"] == "Goal").sum() in (5, 7)
    assert set(tg.event_players["side"]) == {"event", "opp"}
    assert tg.events["event_id"].is_unique


@pytest.mark.sample_data
@pytest.mark.parametrize("name, version", [("18969.json", "json-23.8"), ("19038.json", "json-25.0")])
def test_both_json_versions_give_canonical_frames(sample_data, name, version):
    tg = read_tracker_json(sample_data / "tracking" / "json" / name)
    assert tg.format == version
    _assert_canonical(tg)
    assert len(tg.roster) > 20 and tg.roster["player_id"].str.startswith("P").all()


@pytest.mark.sample_data
def test_derived_layout_rebuilds_what_the_workbook_formulas_computed(sample_data):
    """Players of events typed without players come from the first event of their linked chain; the
    result matches the workbook's own derived jersey column on nearly every row."""
    path = sample_data / "tracking" / "xlsx" / "18969_tracking.xlsx"
    tg = read_tracker_workbook(path)
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("events").to_python()
    raw = pd.DataFrame(rows[1:], columns=rows[0]).replace({"": None})
    raw["row"] = range(2, len(raw) + 2)
    derived = raw.dropna(subset=["player_game_number"])[["row", "player_game_number"]]
    m = derived.merge(tg.event_players[["row", "jersey"]], on="row", how="left")
    agree = (m["jersey"].astype("float") == m["player_game_number"].astype(float)).mean()
    assert agree > 0.98
    goal_players = tg.event_players.merge(tg.events.loc[tg.events["event_type"] == "Goal", ["event_id"]])
    assert goal_players.loc[goal_players["side"] == "event", "jersey"].notna().all()


@pytest.mark.sample_data
def test_workbook_without_recalculated_formulas_is_read_from_inputs(sample_data):
    tg = read_tracker_workbook(sample_data / "tracking" / "xlsx" / "18965_tracking.xlsx")
    goals = tg.events.loc[tg.events["event_type"] == "Goal"]
    assert goals.groupby("team_venue").size().to_dict() == {"away": 2, "home": 4}
    assert goals["clock_start_s"].notna().all()


@pytest.mark.sample_data
def test_stale_game_id_column_loses_to_file_name_and_is_reported(sample_data):
    tg = read_tracker_workbook(sample_data / "tracking" / "xlsx" / "18993_tracking.xlsx")
    assert tg.game_id == 18993
    assert [r["category"] for r in tg.issues.rows] == ["game_id_mismatch"]


@pytest.mark.sample_data
def test_league_workbook_reads_scoresheet_and_flags_duplicates(sample_data):
    league = read_league_workbook(sample_data / "blb" / "BLB_Tables.xlsx")
    assert len(league.sheet("dim_schedule")) == 572
    assert not league.roster.duplicated(["game_id", "player_id"]).any()
    dups = [r for r in league.issues.rows if r["category"] == "duplicate_row"]
    assert len(dups) == 2 and all(r["row"] for r in dups)
    assert league.roster["jersey"].dropna().eq(league.roster["jersey"].dropna().round()).all()
