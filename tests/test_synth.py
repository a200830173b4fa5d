"""The synthetic data generator writes the real input formats, deterministically, with tracked goals that
agree with the official scoresheet; and the ETL reads what it writes."""

from __future__ import annotations

import filecmp
import json
import os
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from etl import synth

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DATA = Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", REPO.parent / "shared" / "data"))
needs_sample_data = pytest.mark.skipif(
    not (SAMPLE_DATA / "blb" / "BLB_Tables.xlsx").exists(),
    reason=f"real league data not found at {SAMPLE_DATA} (set BENCHSIGHT_SAMPLE_DATA to compare formats with it)",
)

LEAGUE_SHEETS_AN_ETL_NEEDS = {
    "dim_player", "dim_team", "dim_season", "dim_league", "dim_schedule", "fact_gameroster", "dim_event_type",
    "dim_event_detail", "dim_event_detail_2", "dim_play_detail", "dim_play_detail_2", "dim_rinkboxcoord",
    "dim_rinkcoordzones",
}


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory: pytest.TempPathFactory) -> synth.SynthSet:
    return synth.generate(tmp_path_factory.mktemp("synth"), games=6, seed=7, partial_fraction=0.34,
                          both_formats_fraction=0.34, untracked_games=1)


def _read_xlsx(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, engine="calamine")


def _workbooks(s: synth.SynthSet) -> list[Path]:
    return [p for files in s.files.values() for p in files if p.suffix == ".xlsx"]


def _exports(s: synth.SynthSet) -> list[Path]:
    return [p for files in s.files.values() for p in files if p.suffix == ".json"]


def _goals_in_workbook(path: Path) -> tuple[int, Counter, Counter]:
    """(game_id, goals per venue, goals + assists per jersey and venue) as tracked in a tracker workbook."""
    events = _read_xlsx(path)["events"]
    game_id = int(events["game_id"].dropna().iloc[0])
    venue = "team_venue" if "team_venue" in events else "team_"
    first_rows = events.drop_duplicates("event_index")
    goals = first_rows[first_rows["Type"] == "Goal"]
    per_team = Counter(str(v)[0].lower() for v in goals[venue])
    scorers = events[(events["Type"] == "Goal") & events["player_role"].str.startswith("event")]
    points = Counter((str(v)[0].lower(), int(n)) for v, n in zip(scorers[venue], scorers["player_game_number"]))
    assists = events[events["play_detail1"].isin(["AssistPrimary", "AssistSecondary"])]
    points.update((str(v)[0].lower(), int(n)) for v, n in zip(assists[venue], assists["player_game_number"]))
    return game_id, Counter({"home": per_team["h"], "away": per_team["a"]}), points


def _goals_in_export(path: Path) -> tuple[int, Counter, Counter]:
    doc = json.loads(path.read_text())
    per_team: Counter = Counter()
    points: Counter = Counter()
    for e in doc["events"]:
        if e["type"] == "Goal":
            per_team[e["team"]] += 1
            scorer = next(p for p in e["players"] if p["role"].startswith("event"))
            points[(e["team"][0], int(scorer["num"]))] += 1
        for p in e["players"]:
            if p["playD1"] in ("AssistPrimary", "AssistSecondary"):
                points[(p["team"][0], int(p["num"]))] += 1
    return doc["gameId"], Counter({"home": per_team["home"], "away": per_team["away"]}), points


# ---- formats -----------------------------------------------------------------------------------------


def test_league_workbook_has_the_sheets_and_columns_an_etl_reads(synth_set):
    sheets = _read_xlsx(synth_set.blb)
    assert LEAGUE_SHEETS_AN_ETL_NEEDS <= set(sheets)
    schedule, roster = sheets["dim_schedule"], sheets["fact_gameroster"]
    assert list(schedule.columns[:4]) == ["index", "game_id", "season", "season_id"]
    assert {"home_total_goals", "away_total_goals", "home_team_period1_goals", "period_length"} <= set(schedule)
    assert {"game_id", "player_id", "player_game_number", "team_venue", "goals", "assist", "pim"} <= set(roster)
    assert len(schedule) == 7  # six tracked games and one untracked
    assert sheets["dim_player"]["player_id"].str.match(r"^P\d{6}$").all()


def test_tracker_workbooks_come_in_both_real_layouts(tmp_path):
    s = synth.generate(tmp_path, games=8, seed=3, formats=("xlsx",))
    layouts = Counter()
    for path in _workbooks(s):
        sheets = _read_xlsx(path)
        events, shifts = sheets["events"], sheets["shifts"]
        if "player_name" in events:  # slim layout: strength, is_highlight, player_name; two sheets
            layouts["slim"] += 1
            assert list(sheets) == ["events", "shifts"]
            assert (events.shape[1], shifts.shape[1]) == (46, 43)
            assert {"strength", "is_highlight", "player_name"} <= set(events)
        else:  # wide layout: trailing-underscore inputs plus derived columns, reference sheets
            layouts["wide"] += 1
            assert {"events", "shifts", "Rules", "Lists", "game_rosters"} <= set(sheets)
            assert (events.shape[1], shifts.shape[1]) == (72, 55)
            assert {"event_type_", "event_detail_", "team_", "player_id", "player_team"} <= set(events)
        assert events["event_index"].is_monotonic_increasing
        # clocks count down within a period
        timed = events.dropna(subset=["event_start_min"]).drop_duplicates("event_index")
        seconds = timed["event_start_min"] * 60 + timed["event_start_sec"]
        assert (seconds.groupby(timed["period"]).diff().dropna() <= 0).all()
        assert seconds.max() == synth.PERIOD_MINUTES * 60
    assert set(layouts) == {"wide", "slim"}


def test_json_exports_carry_rosters_events_and_shift_slots(synth_set):
    versions = set()
    for path in _exports(synth_set):
        doc = json.loads(path.read_text())
        versions.add(doc["version"])
        assert doc["periodLengths"] == {"1": 18, "2": 18, "3": 18, "OT": 5}
        assert {p["pos"] for p in doc["rosters"]["home"]} == {"F", "D", "G"}
        assert set(doc["shifts"][0]["home"]) == {"F1", "F2", "F3", "D1", "D2", "G", "X"}
        shot = next(e for e in doc["events"] if e["type"] == "Shot")
        assert {"idx", "period", "type", "team", "zone", "success", "detail1", "detail2", "start_time",
                "end_time", "strength", "linkedEventIdx", "players", "puckXY", "netXY"} <= set(shot)
        assert {"num", "name", "team", "role", "roleNum", "playD1", "xy"} <= set(shot["players"][0])
    assert versions <= {"23.8", "25.0"}


@needs_sample_data
@pytest.mark.sample_data
def test_synthetic_columns_match_the_real_files(tmp_path):
    s = synth.generate(tmp_path, games=10, seed=5, formats=("xlsx", "json"), xlsx_fraction=0.6)
    real_workbooks = sorted((SAMPLE_DATA / "tracking" / "xlsx").glob("*_tracking.xlsx"))
    real = {"wide": [], "slim": []}
    for path in real_workbooks:
        sheets = pd.read_excel(path, sheet_name=["events", "shifts"], engine="calamine", nrows=0)
        layout = "slim" if "player_name" in sheets["events"] else "wide"
        real[layout].append((list(sheets["events"].columns), list(sheets["shifts"].columns)))
    seen = set()
    for path in _workbooks(s):
        sheets = pd.read_excel(path, sheet_name=["events", "shifts"], engine="calamine", nrows=0)
        events, shifts = list(sheets["events"].columns), list(sheets["shifts"].columns)
        layout = "slim" if "player_name" in events else "wide"
        seen.add(layout)
        assert (events, shifts) in real[layout], f"{path.name}: columns differ from every real {layout} workbook"
        for real_events, real_shifts in real[layout]:  # the real variants only add columns
            assert set(events) <= set(real_events) and set(shifts) <= set(real_shifts)
    assert seen == {"wide", "slim"}

    real_league = pd.read_excel(SAMPLE_DATA / "blb" / "BLB_Tables.xlsx", sheet_name=sorted(LEAGUE_SHEETS_AN_ETL_NEEDS),
                                engine="calamine", nrows=0)
    synthetic_league = pd.read_excel(s.blb, sheet_name=sorted(LEAGUE_SHEETS_AN_ETL_NEEDS), engine="calamine", nrows=0)
    for name in LEAGUE_SHEETS_AN_ETL_NEEDS:
        assert list(synthetic_league[name].columns) == list(real_league[name].columns), name

    real_docs = {}
    for path in (SAMPLE_DATA / "tracking" / "json").glob("*.json"):
        doc = json.loads(path.read_text())
        real_docs.setdefault(doc["version"], []).append(doc)
    for path in _exports(s):
        doc = json.loads(path.read_text())
        reals = real_docs[doc["version"]]
        assert set(doc) <= set().union(*(set(r) for r in reals)), path.name
        real_event_keys = set().union(*(set(e) for r in reals for e in r["events"]))
        real_player_keys = set().union(*(set(p) for r in reals for e in r["events"] for p in e["players"]))
        real_shift_keys = set().union(*(set(x) for r in reals for x in r["shifts"]))
        assert set().union(*(set(e) for e in doc["events"])) <= real_event_keys, path.name
        assert set().union(*(set(p) for e in doc["events"] for p in e["players"])) <= real_player_keys, path.name
        assert set().union(*(set(x) for x in doc["shifts"])) <= real_shift_keys, path.name


# ---- determinism and consistency ---------------------------------------------------------------------


def test_same_seed_writes_the_same_files(tmp_path):
    first = synth.generate(tmp_path / "a", games=3, seed=11, both_formats_fraction=0.34, partial_fraction=0.34)
    second = synth.generate(tmp_path / "b", games=3, seed=11, both_formats_fraction=0.34, partial_fraction=0.34)
    other = synth.generate(tmp_path / "c", games=3, seed=12)
    for a, b in [(first.blb, second.blb), *zip(sorted(p for f in first.files.values() for p in f),
                                              sorted(p for f in second.files.values() for p in f))]:
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs between two runs with seed 11"
    assert first.official_goals == second.official_goals
    assert first.official_goals != other.official_goals


def test_complete_games_track_exactly_the_official_goals_and_assists(synth_set):
    sheets = _read_xlsx(synth_set.blb)
    schedule = sheets["dim_schedule"].set_index("game_id")
    roster = sheets["fact_gameroster"]
    for game_id, files in synth_set.files.items():
        official = {"home": int(schedule.at[game_id, "home_total_goals"]),
                    "away": int(schedule.at[game_id, "away_total_goals"])}
        assert official == synth_set.official_goals[game_id]
        game_roster = roster[roster["game_id"] == game_id]
        official_points = Counter()
        for venue, num, points in zip(game_roster["team_venue"], game_roster["player_game_number"],
                                      game_roster["goals"] + game_roster["assist"]):
            if points:
                official_points[(venue[0], int(num))] = int(points)
        for path in files:
            file_game_id, tracked, points = (_goals_in_workbook(path) if path.suffix == ".xlsx"
                                             else _goals_in_export(path))
            assert file_game_id == game_id
            assert dict(tracked) == synth_set.tracked_goals[game_id]
            if game_id in synth_set.partial_game_ids:
                assert sum(tracked.values()) < sum(official.values()), f"{path.name} is partial"
            else:
                assert dict(tracked) == official, path.name
                assert +points == official_points, f"{path.name}: tracked goals+assists per player differ"


def test_partial_and_both_format_games_are_where_the_options_put_them(synth_set):
    assert len(synth_set.game_ids) == 6
    assert len(synth_set.partial_game_ids) == 2
    assert len(synth_set.both_formats_game_ids) == 2
    assert len(synth_set.untracked_game_ids) == 1
    for game_id in synth_set.both_formats_game_ids:
        workbook, export = sorted(synth_set.files[game_id], key=lambda p: p.suffix != ".xlsx")
        assert _goals_in_workbook(workbook) == _goals_in_export(export)
        events = _read_xlsx(workbook)["events"]
        assert events["event_index"].nunique() == len(json.loads(export.read_text())["events"])


def test_simulated_games_match_the_measured_real_rates():
    stats = synth.calibration_stats(games=12, seed=1)
    assert 1250 <= stats["events_per_game"] <= 1750  # real fully tracked games: 1296-1632
    assert 85 <= stats["shifts_per_game"] <= 115  # real: 98-106
    assert 25 <= stats["shift_seconds_mean"] <= 40  # real: 30.6-34.1
    assert 0.2 <= stats["type_mix"]["Possession"] <= 0.35
    assert 0.04 <= stats["type_mix"]["Shot"] <= 0.1


def test_generate_rejects_options_it_cannot_honour(tmp_path):
    with pytest.raises(ValueError, match="formats"):
        synth.generate(tmp_path, games=1, formats=("csv",))
    with pytest.raises(ValueError, match="both_formats_fraction"):
        synth.generate(tmp_path, games=1, formats=("json",), both_formats_fraction=0.5)


# ---- through the ETL ---------------------------------------------------------------------------------


def test_etl_marks_complete_games_complete_and_partial_games_partial(synth_set, tmp_path):
    etl = pytest.importorskip("etl")
    if not hasattr(etl, "run"):
        pytest.skip("etl.run is not available yet")
    report = etl.run(synth_set.blb, [synth_set.tracking], tmp_path / "out")
    assert report.status in ("ok", "partial"), report.error
    completeness = pd.read_csv(tmp_path / "out" / "qa_game_completeness.csv").set_index("game_id")
    for game_id in synth_set.game_ids:
        row = completeness.loc[game_id]
        official = synth_set.official_goals[game_id]
        assert (row["official_home_goals"], row["official_away_goals"]) == (official["home"], official["away"])
        if game_id in synth_set.partial_game_ids:
            assert row["status"] == "partial"
            assert report.games[game_id].status == "partial"
        else:
            assert row["status"] == "complete"
            assert (row["tracked_home_goals"], row["tracked_away_goals"]) == (official["home"], official["away"])
            assert report.games[game_id].status == "ok"
    for game_id in synth_set.untracked_game_ids:
        assert completeness.loc[game_id, "status"] == "untracked"
    issues = pd.read_csv(tmp_path / "out" / "qa_data_issues.csv")
    disagreements = issues[issues["category"].str.endswith("_disagree")]
    assert set(disagreements["game_id"]) <= set(synth_set.partial_game_ids)
