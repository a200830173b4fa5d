"""Incremental runs: per-file cache by content hash, game filters, cancellation, atomic output."""

from __future__ import annotations

import json
import os

import pytest
from etl_fixtures import copy_tracking, etl_cache, read_table, sample_data  # noqa: F401

import etl

pytestmark = pytest.mark.sample_data


@pytest.fixture
def tracking(sample_data, tmp_path):
    return copy_tracking(sample_data, tmp_path / "tracking", games=(18969, 18981, 19038))


def _run(sample_data, tracking, out, cache, **kw):
    return etl.run(sample_data / "blb" / "BLB_Tables.xlsx", [tracking], out, cache_dir=cache, **kw)


def test_unchanged_inputs_are_not_read_again(sample_data, tracking, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    first = _run(sample_data, tracking, out, cache)
    assert first.files_read == 5
    second = _run(sample_data, tracking, out, cache)
    assert second.files_read == 0 and second.files_cached == 5
    assert second.tables == first.tables


def test_one_changed_game_is_the_only_file_read(sample_data, tracking, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    _run(sample_data, tracking, out, cache)
    doc = json.loads((tracking / "19038.json").read_text())
    doc["events"] = [e for e in doc["events"] if e["type"] != "Goal"]
    (tracking / "19038.json").write_text(json.dumps(doc))
    report = _run(sample_data, tracking, out, cache)
    assert report.files_read == 1
    comp = read_table(out, "qa_game_completeness").set_index("game_id")
    assert comp.loc[19038, "tracked_away_goals"] == 0
    assert comp.loc[18969, "status"] == "complete"


def test_games_filter_updates_those_games_and_keeps_the_rest(sample_data, tracking, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    _run(sample_data, tracking, out, cache)
    (tracking / "18981.json").write_text("{ broken")
    report = _run(sample_data, tracking, out, cache, games=[19038])
    assert report.status == "ok"  # 18981 kept from the previous run, not re-read
    assert report.files_read == 0
    events = read_table(out, "fact_events")
    assert set(events["game_id"]) == {18969, 18981, 19038}


def test_games_filter_without_previous_run_builds_only_those_games(sample_data, tracking, tmp_path):
    report = _run(sample_data, tracking, tmp_path / "out", tmp_path / "cache", games=[19038])
    assert report.games[19038].status == "partial"
    assert report.games[18969].status == "skipped"
    assert set(read_table(tmp_path / "out", "fact_events")["game_id"]) == {19038}


def test_excluded_game_is_left_out(sample_data, tracking, tmp_path):
    report = _run(sample_data, tracking, tmp_path / "out", tmp_path / "cache", exclude_games=[18969])
    assert report.games[18969].status == "skipped"
    assert 18969 not in set(read_table(tmp_path / "out", "fact_events")["game_id"])
    comp = read_table(tmp_path / "out", "qa_game_completeness").set_index("game_id")
    assert comp.loc[18969, "status"] == "untracked"


def test_cancel_raises_and_leaves_previous_output(sample_data, tracking, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    _run(sample_data, tracking, out, cache)
    before = (out / "manifest.json").read_text()
    calls = []

    def cancelled() -> bool:
        calls.append(1)
        return len(calls) > 4

    with pytest.raises(etl.EtlCancelled):
        _run(sample_data, tracking, out, cache, wipe=True, cancelled=cancelled)
    assert (out / "manifest.json").read_text() == before
    assert not [p for p in out.parent.iterdir() if ".tmp-" in p.name]


def test_progress_reports_fractions_and_each_game(sample_data, tracking, tmp_path):
    steps = []
    _run(sample_data, tracking, tmp_path / "out", tmp_path / "cache",
         progress=lambda f, s: steps.append((f, s)))
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    texts = " ".join(s for _, s in steps)
    assert all(f"game {g}" in texts for g in (18969, 18981, 19038))


def test_wipe_clears_the_cache(sample_data, tracking, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    _run(sample_data, tracking, out, cache)
    report = _run(sample_data, tracking, out, cache, wipe=True)
    assert report.files_read == 5


def test_output_folder_is_swapped_in_whole(sample_data, tracking, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.csv").write_text("old")
    _run(sample_data, tracking, out, tmp_path / "cache")
    assert not (out / "stale.csv").exists()
    assert {p.name for p in out.iterdir()} >= {"manifest.json", "fact_events.csv", "qa_data_issues.csv"}
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]
    assert os.access(out / "fact_goals.csv", os.R_OK)


def test_sequential_and_parallel_reads_give_the_same_output(sample_data, tracking, tmp_path):
    one = _run(sample_data, tracking, tmp_path / "one", tmp_path / "c1", workers=1)
    two = _run(sample_data, tracking, tmp_path / "two", tmp_path / "c2", workers=2)
    assert one.tables == two.tables
    for name in ("fact_events", "fact_player_game_stats", "qa_data_issues"):
        assert (tmp_path / "one" / f"{name}.csv").read_bytes() == (tmp_path / "two" / f"{name}.csv").read_bytes()


def _player_stat(out, table: str, key: str, value, player: str, column: str) -> int:
    df = read_table(out, table)
    return int(df[(df[key] == value) & (df["player_id"] == player)][column].iloc[0])


def test_incremental_output_equals_a_fresh_run(sample_data, tracking, tmp_path):
    """A changed scorer and shot type in a complete game: the game's facts and the season tables (tracked
    columns count complete games only, so they are re-aggregated) change, exactly as a fresh run has them."""
    cache, out = tmp_path / "cache", tmp_path / "out"
    (tracking / "18969_tracking.xlsx").unlink()  # the JSON export is then the game's only (and primary) file
    _run(sample_data, tracking, out, cache)
    goals = read_table(out, "fact_goals").set_index(["game_id", "event_id"])
    assert read_table(out, "qa_game_completeness").set_index("game_id").loc[18969, "status"] == "complete"
    assert goals.loc[(18969, 189), "scorer_player_id"] == "P100117"  # #45 scores; #34 is P100022
    season = read_table(out, "dim_schedule").set_index("game_id").loc[18969, "season_id"]
    before = {p: (_player_stat(out, "fact_player_game_stats", "game_id", 18969, p, "tracked_goals"),
                  _player_stat(out, "fact_player_season_stats", "season_id", season, p, "tracked_goals"))
              for p in ("P100117", "P100022")}

    doc = json.loads((tracking / "18969.json").read_text())
    goal = next(e for e in doc["events"] if e["idx"] == 189)
    scorer = next(p for p in goal["players"] if p["role"] == "event_player_1")
    assert scorer["num"] == 45
    new_scorer = next(r for r in doc["rosters"]["home"] if str(r["num"]) == "34")
    scorer.update(num=34, name=new_scorer["name"])
    shot = next(e for e in doc["events"] if e["idx"] == 11)
    assert shot["type"] == "Shot" and shot["detail2"] == "Shot_Wrist"
    shot["detail2"] = "Shot_Backhand"
    (tracking / "18969.json").write_text(json.dumps(doc))

    incremental = _run(sample_data, tracking, out, cache)
    assert incremental.files_read == 1
    goals = read_table(out, "fact_goals").set_index(["game_id", "event_id"])
    assert goals.loc[(18969, 189), "scorer_player_id"] == "P100022"
    assert read_table(out, "fact_shots").set_index(["game_id", "event_id"]).loc[(18969, 11), "shot_type"] \
        == "Shot_Backhand"
    after = {p: (_player_stat(out, "fact_player_game_stats", "game_id", 18969, p, "tracked_goals"),
                 _player_stat(out, "fact_player_season_stats", "season_id", season, p, "tracked_goals"))
             for p in ("P100117", "P100022")}
    assert after["P100117"] == (before["P100117"][0] - 1, before["P100117"][1] - 1)
    assert after["P100022"] == (before["P100022"][0] + 1, before["P100022"][1] + 1)

    _run(sample_data, tracking, tmp_path / "fresh", tmp_path / "fresh_cache")
    written = sorted(p.name for p in out.glob("*.csv"))
    assert written == sorted(p.name for p in (tmp_path / "fresh").glob("*.csv"))
    for name in written:
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


def test_cache_keeps_only_entries_of_current_inputs(sample_data, tracking, tmp_path):
    cache, out = tmp_path / "cache", tmp_path / "out"
    _run(sample_data, tracking, out, cache)
    before = {p.name for p in (cache / "reads").glob("*.pkl")}
    doc = json.loads((tracking / "19038.json").read_text())
    doc["events"] = doc["events"][:50]
    (tracking / "19038.json").write_text(json.dumps(doc))
    _run(sample_data, tracking, out, cache)
    after = {p.name for p in (cache / "reads").glob("*.pkl")}
    assert len(after) == len(before)  # the old 19038 read and build replaced, not added
    assert after != before
