"""Bad input fails only what it touches, with a message naming the file, sheet, column or row.

Corrupted copies are made in tmp_path from the real files; nothing is committed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import python_calamine
from etl_fixtures import copy_tracking, etl_cache, read_table, sample_data  # noqa: F401

import etl

pytestmark = pytest.mark.sample_data


def sheet_frame(path: Path, sheet: str) -> pd.DataFrame:
    rows = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    header = [str(h) if h != "" else f"blank_{i}" for i, h in enumerate(rows[0])]
    return pd.DataFrame(rows[1:], columns=header).replace({"": None})


def write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path, engine="xlsxwriter") as xl:
        for name, df in sheets.items():
            df.to_excel(xl, sheet_name=name, index=False)


def run_etl(sample_data: Path, tracking: Path, tmp_path: Path, cache: Path, **kw):
    out = tmp_path / "out"
    return etl.run(sample_data / "blb" / "BLB_Tables.xlsx", [tracking], out, cache_dir=cache, **kw), out


@pytest.fixture
def workbook_18991(sample_data) -> dict[str, pd.DataFrame]:
    src = sample_data / "tracking" / "xlsx" / "18991_tracking.xlsx"
    return {"events": sheet_frame(src, "events"), "shifts": sheet_frame(src, "shifts")}


def test_truncated_workbook_fails_only_its_game(sample_data, tmp_path, etl_cache):
    tracking = copy_tracking(sample_data, tmp_path / "tracking", games=(18981, 18991))
    bad = tracking / "18991_tracking.xlsx"
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    report, out = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "partial"
    assert report.games[18991].status == "failed"
    assert "18991_tracking.xlsx" in report.games[18991].error
    assert report.games[18981].status == "ok"
    events = read_table(out, "fact_events")
    assert set(events["game_id"]) == {18981}
    issues = read_table(out, "qa_data_issues")
    assert ((issues["category"] == "file_failed") & (issues["file"] == "18991_tracking.xlsx")).any()
    comp = read_table(out, "qa_game_completeness").set_index("game_id")
    assert comp.loc[18991, "status"] == "untracked" and "failed" in comp.loc[18991, "note"]


def test_workbook_without_events_sheet_fails_naming_the_sheet(sample_data, tmp_path, etl_cache, workbook_18991):
    tracking = tmp_path / "tracking"
    tracking.mkdir()
    write_workbook(tracking / "18991_tracking.xlsx", {"shifts": workbook_18991["shifts"]})
    report, _ = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "partial"
    assert "sheet 'events' is missing" in report.games[18991].error


def test_renamed_column_fails_naming_the_column(sample_data, tmp_path, etl_cache, workbook_18991):
    tracking = tmp_path / "tracking"
    tracking.mkdir()
    events = workbook_18991["events"].rename(columns={"event_type_": "event_kind"})
    write_workbook(tracking / "18991_tracking.xlsx", {"events": events, "shifts": workbook_18991["shifts"]})
    report, _ = run_etl(sample_data, tracking, tmp_path, etl_cache)
    error = report.games[18991].error
    assert report.games[18991].status == "failed"
    assert "18991_tracking.xlsx" in error and "'events'" in error and "'event_type_'" in error


def test_wrong_types_are_kept_and_flagged(sample_data, tmp_path, etl_cache, workbook_18991):
    tracking = tmp_path / "tracking"
    tracking.mkdir()
    events = workbook_18991["events"].copy()
    player_rows = events.index[events["player_game_number_"].notna()]
    events["player_game_number_"] = events["player_game_number_"].astype(object)
    events.loc[player_rows[5], "player_game_number_"] = "seventy"
    events["period"] = events["period"].astype(object)
    events.loc[player_rows[7], "period"] = "first"
    write_workbook(tracking / "18991_tracking.xlsx", {"events": events, "shifts": workbook_18991["shifts"]})
    report, out = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "ok" and report.games[18991].status == "partial"
    issues = read_table(out, "qa_data_issues")
    bad = issues.loc[(issues["category"] == "bad_value") & (issues["file"] == "18991_tracking.xlsx")]
    assert set(bad["column"]) >= {"player_game_number_", "period"}
    assert bad["row"].notna().all()
    assert read_table(out, "qa_game_completeness").set_index("game_id").loc[18991, "tracked_away_goals"] == 1


def test_duplicated_rows_are_flagged_and_not_double_counted(sample_data, tmp_path, etl_cache, workbook_18991):
    tracking = tmp_path / "tracking"
    tracking.mkdir()
    events = workbook_18991["events"]
    goal_rows = events.index[events["event_index_"] == events.loc[events["event_type_"] == "Goal", "event_index_"]
                             .iloc[0]]
    dup = pd.concat([events, events.loc[goal_rows]]).sort_index(kind="stable").reset_index(drop=True)
    shifts = pd.concat([workbook_18991["shifts"], workbook_18991["shifts"].iloc[[3]]], ignore_index=True)
    write_workbook(tracking / "18991_tracking.xlsx", {"events": dup, "shifts": shifts})
    report, out = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "ok"
    goals = read_table(out, "fact_goals")
    assert len(goals.loc[goals["game_id"] == 18991]) == 1
    issues = read_table(out, "qa_data_issues")
    dups = issues.loc[(issues["category"] == "duplicate_row") & (issues["file"] == "18991_tracking.xlsx")]
    assert set(dups["sheet"]) == {"events", "shifts"}


def test_shift_without_period_is_kept_and_flagged(sample_data, tmp_path, etl_cache, workbook_18991):
    tracking = tmp_path / "tracking"
    tracking.mkdir()
    shifts = workbook_18991["shifts"].copy()
    shifts["Period"] = shifts["Period"].astype(object)
    shifts.loc[4, "Period"] = None
    write_workbook(tracking / "18991_tracking.xlsx", {"events": workbook_18991["events"], "shifts": shifts})
    report, out = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "ok"
    issues = read_table(out, "qa_data_issues")
    flagged = issues.loc[(issues["category"] == "missing_period") & (issues["sheet"] == "shifts")]
    assert flagged["row"].tolist() == [6]  # spreadsheet row of the 5th data row
    shifts_out = read_table(out, "fact_shifts")
    assert shifts_out.loc[shifts_out["game_id"] == 18991, "period"].isna().sum() == 1


def test_jersey_not_on_roster_is_kept_and_flagged(sample_data, tmp_path, etl_cache, workbook_18991):
    tracking = tmp_path / "tracking"
    tracking.mkdir()
    events = workbook_18991["events"].copy()
    row = events.index[events["player_game_number_"].notna()][10]
    events.loc[row, "player_game_number_"] = 777
    write_workbook(tracking / "18991_tracking.xlsx", {"events": events, "shifts": workbook_18991["shifts"]})
    report, out = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "ok"
    issues = read_table(out, "qa_data_issues")
    j = issues.loc[(issues["category"] == "jersey_not_on_roster") & issues["message"].str.contains("jersey 777")]
    assert len(j) == 1 and j["row"].iloc[0] == row + 2
    ep = read_table(out, "fact_event_players")
    assert (ep["jersey"] == 777).sum() == 1


def test_truncated_json_fails_only_its_game(sample_data, tmp_path, etl_cache):
    tracking = copy_tracking(sample_data, tmp_path / "tracking", games=(19038, 18981))
    (tracking / "18981_tracking.xlsx").unlink()
    bad = tracking / "19038.json"
    bad.write_text(bad.read_text()[:5000])
    report, out = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "partial"
    assert report.games[19038].status == "failed" and "19038.json" in report.games[19038].error
    assert "not valid JSON" in report.games[19038].error
    assert report.games[18981].status == "ok"


def test_json_with_wrong_types_is_kept_and_flagged(sample_data, tmp_path, etl_cache):
    tracking = tmp_path / "tracking"
    tracking.mkdir()
    doc = json.loads((sample_data / "tracking" / "json" / "19038.json").read_text())
    doc["events"][5]["period"] = "second"
    doc["events"][6]["players"][0]["num"] = "twelve"
    doc["events"].append(dict(doc["events"][7]))  # duplicated event
    (tracking / "19038.json").write_text(json.dumps(doc))
    report, out = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "ok"
    issues = read_table(out, "qa_data_issues")
    mine = issues.loc[issues["file"] == "19038.json"]
    assert {"missing_period", "bad_value", "duplicate_row"} <= set(mine["category"])


def test_unreadable_league_workbook_fails_run_and_keeps_previous_output(sample_data, tmp_path, etl_cache):
    tracking = copy_tracking(sample_data, tmp_path / "tracking", games=(19038,))
    report, out = run_etl(sample_data, tracking, tmp_path, etl_cache)
    assert report.status == "ok"
    before = (out / "manifest.json").read_text()
    broken = tmp_path / "BLB_Tables.xlsx"
    broken.write_bytes((sample_data / "blb" / "BLB_Tables.xlsx").read_bytes()[:1000])
    failed = etl.run(broken, [tracking], out, cache_dir=etl_cache)
    assert failed.status == "failed" and "BLB_Tables.xlsx" in failed.error
    assert (out / "manifest.json").read_text() == before


def test_league_workbook_in_tracking_folder_is_ignored(sample_data, tmp_path, etl_cache):
    tracking = copy_tracking(sample_data, tmp_path / "tracking", games=(19038,))
    shutil.copy(sample_data / "blb" / "BLB_Tables.xlsx", tracking / "BLB_Tables.xlsx")
    (tracking / "~$19038_tracking.xlsx").write_bytes(b"lock file")
    report, _ = etl.run(tracking / "BLB_Tables.xlsx", [tracking], tmp_path / "out", cache_dir=etl_cache), None
    assert report.status == "ok"
    assert set(report.games) == {19038}
