"""The three tracking rules found wrong against the raw rows (issue 10), and the one-way layering of etl/.

Each test reads the ETL output of the real data (skipped without it) and checks rows by hand against the
tracker files and the league workbook.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from etl_fixtures import etl_cache, full_run, read_table, sample_data  # noqa: F401

pytestmark = pytest.mark.sample_data

REPO = Path(__file__).resolve().parents[1]


def test_shot_that_ends_a_shift_belongs_to_the_ending_shift(full_run):  # noqa: F811
    # each shot is at the clock where one shift ends and the next starts; the ending shift's stop type is
    # '... Goalie Stopped (after ... SOG)' (fact_shifts), so the shot belongs to the ending shift
    ev = read_table(full_run.out, "fact_events").set_index(["game_id", "event_id"])
    shifts = read_table(full_run.out, "fact_shifts").set_index(["game_id", "shift_id"])
    for game, event, ending in ((18977, 1652, 44), (18977, 2338, 87), (18987, 668, 45), (18987, 820, 53)):
        assert ev.loc[(game, event), "event_type"] == "Shot"
        assert "Goalie Stopped" in shifts.loc[(game, ending), "stop_type"]
        assert shifts.loc[(game, ending), "clock_end_s"] == ev.loc[(game, event), "clock_start_s"]
        assert ev.loc[(game, event), "shift_id"] == ending


def test_other_events_on_a_shift_boundary_belong_to_the_starting_shift(full_run):  # noqa: F811
    ev = read_table(full_run.out, "fact_events")
    sh = read_table(full_run.out, "fact_shifts")
    sh = sh.loc[sh["clock_start_s"] > sh["clock_end_s"]]  # a shift of no duration holds no event
    fo = ev.loc[~ev["event_type"].isin(["Goal", "Shot", "Save"])].merge(
        sh[["game_id", "shift_id", "period", "clock_start_s"]].rename(columns={"shift_id": "starting"}),
        on=["game_id", "period", "clock_start_s"])
    ends = sh[["game_id", "period", "clock_end_s"]].rename(columns={"clock_end_s": "clock_start_s"})
    on_boundary = fo.merge(ends, on=["game_id", "period", "clock_start_s"])
    assert len(on_boundary) > 50
    assert (on_boundary["shift_id"] == on_boundary["starting"]).all()


def test_reused_event_index_blocks_are_separate_events(full_run):  # noqa: F811
    # 18987_tracking.xlsx rows 1588-1589: event 836 'Possession' (jerseys 3, 91); rows 1599-1600 and
    # 1610-1611 reuse index 836 for a zone exit and a takeaway (jerseys 91, 12)
    ev = read_table(full_run.out, "fact_events").set_index(["game_id", "event_id"])
    ep = read_table(full_run.out, "fact_event_players")
    assert ev.loc[(18987, 836), "event_type"] == "Possession"
    assert sorted(ep.loc[(ep["game_id"] == 18987) & (ep["event_id"] == 836), "jersey"]) == [3, 91]
    takeaway = ev.loc[(18987, 1613)]
    assert (takeaway["event_type"], takeaway["event_detail"]) == ("Turnover", "Turnover_Takeaway")
    assert sorted(ep.loc[(ep["game_id"] == 18987) & (ep["event_id"] == 1613), "jersey"]) == [12, 91]
    issues = read_table(full_run.out, "qa_data_issues")
    reused = issues.loc[(issues["game_id"] == 18987) & (issues["category"] == "event_index_reused")]
    assert len(reused) == 12
    assert reused["message"].str.contains("event index 836 is reused by rows 1610-1611").any()
    assert reused["action"].str.contains("separate event 1613").any()


def test_jersey_on_the_wrong_team_label_is_credited_to_the_one_wearer(full_run):  # noqa: F811
    # 18965: the tracker labels jersey 5 'away' (Velodrome has no 5); the league workbook's scoresheet has one
    # number 5 in the game: P100040 (Jesse Theken, OS Offices, home)
    ep = read_table(full_run.out, "fact_event_players")
    rows = ep.loc[(ep["game_id"] == 18965) & (ep["team_venue"] == "away") & (ep["jersey"] == 5)]
    assert len(rows) == 3 and (rows["player_id"] == "P100040").all()
    issues = read_table(full_run.out, "qa_data_issues")
    moved = issues.loc[(issues["category"] == "jersey_on_other_team") & (issues["game_id"] == 18965)]
    assert moved["message"].str.contains("jersey 5 \\(away\\).*P100040 \\(3 rows\\)").any()
    every = issues.loc[issues["category"] == "jersey_on_other_team", "message"]
    credited = every.str.extract(r"\((\d+) rows\)")[0].astype(int).sum()
    assert credited == 221  # every such row of the real data (event players; no shift row has one)
    unknown = ep.loc[ep["player_id"].isna()]
    assert len(unknown) == 20  # jerseys worn by nobody (19) or by two players (1) of the game


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_model_layer_never_imports_the_marts():
    """readers -> canonical (and its helper etl/summary.py) -> builders: the model layer imports no builder."""
    model = [REPO / "etl" / "canonical.py", REPO / "etl" / "summary.py", *(REPO / "etl" / "readers").glob("*.py")]
    for path in model:
        bad = sorted(m for m in _imports(path) if m.startswith("etl.builders"))
        assert bad == [], f"{path.relative_to(REPO)} imports {bad}"
