"""The table catalog and the pure building blocks that need no real data."""

from __future__ import annotations

import pandas as pd
import pytest

from etl.builders.events import shot_flags
from etl.canonical import check_shift_clocks
from etl.catalog import TABLES, Column, conform, pg_type, read_table_csv
from etl.issues import Issues
from etl.writer import table_csv


def test_every_table_has_kind_key_and_typed_columns():
    assert {"fact_player_game_stats", "qa_data_issues", "dim_player", "fact_goals"} <= set(TABLES)
    for name, spec in TABLES.items():
        assert spec.name == name and spec.kind in ("dim", "fact", "qa")
        assert set(spec.primary_key) <= set(spec.column_names)
        assert len(set(spec.column_names)) == len(spec.columns), name
        assert all(not spec.column(k).nullable for k in spec.primary_key)
        for col, (ref, ref_col) in spec.foreign_keys.items():
            assert col in spec.column_names and ref_col in TABLES[ref].column_names


def test_player_game_stats_has_the_required_columns():
    required = ("game_id player_id team_id goals assists points tracked_goals tracked_primary_assists "
                "tracked_secondary_assists tracked_points shots shots_on_goal corsi_for corsi_against fenwick_for "
                "fenwick_against toi_seconds shift_count plus_minus plus_minus_ev faceoff_wins faceoff_losses "
                "giveaways takeaways zone_entries zone_exits").split()
    assert set(required) <= set(TABLES["fact_player_game_stats"].column_names)


def test_pg_types():
    assert [pg_type(Column("c", t)) for t in ("text", "int", "float", "bool", "date", "timestamp")] == [
        "text", "bigint", "double precision", "boolean", "date", "timestamptz"]


def test_written_csv_reads_back_with_catalog_types(tmp_path):
    spec = TABLES["dim_season"]
    df = conform(pd.DataFrame({"season_id": ["N1", "N2"], "season": [2025.0, None], "session": ["F", None],
                               "league_id": ["N", "N"], "start_date": ["2025-08-01", None]}), spec)
    (tmp_path / "dim_season.csv").write_bytes(table_csv(spec, df))
    back = read_table_csv(tmp_path / "dim_season.csv", spec)
    pd.testing.assert_frame_equal(back, df)
    assert str(back["season"].dtype) == "Int64" and str(back["start_date"].dtype) == "datetime64[s]"


def test_conform_names_the_missing_column():
    with pytest.raises(ValueError, match="dim_league.*league_name"):
        conform(pd.DataFrame({"league_id": ["N"]}), TABLES["dim_league"])


def test_shot_results_follow_the_detail():
    flags = shot_flags(pd.Series(["Shot_Goal", "Shot_OnNetSaved", "Shot_Blocked", "Shot_Deflected", "Shot_Missed",
                                  "Shot_MissedPost", "Shot_OnNetTippedGoal", "Shot_BlockedSameTeam", None]))
    assert flags["result"].tolist() == ["goal", "saved", "blocked", "blocked", "missed", "missed", "goal",
                                        "blocked", "unknown"]
    assert flags["is_on_goal"].tolist() == [True, True, False, False, False, False, True, False, False]


def test_shift_clock_errors_are_cut_and_reported():
    shifts = pd.DataFrame({"shift_id": [1, 2, 3, 4], "period": [1, 1, 1, 1], "row": [2, 3, 4, 5],
                           "clock_start_s": [600.0, 540.0, 495.0, 520.0],
                           "clock_end_s": [540.0, 495.0, 520.0, 480.0]})
    issues = Issues()
    fixed = check_shift_clocks(shifts, 1, "f.json", "shifts", issues)
    assert pd.isna(fixed.loc[2, "clock_end_s"])  # runs backwards: no duration
    assert fixed.loc[1, "clock_end_s"] == 520.0  # cut at the next shift's start
    assert [r["category"] for r in issues.rows] == ["shift_clock_invalid"] * 2
