"""`benchsight etl` command: options, exit codes, listing games."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from etl_fixtures import copy_tracking, sample_data  # noqa: F401

from etl.cli import etl_command

pytestmark = pytest.mark.sample_data


@pytest.fixture
def tracking(sample_data, tmp_path):
    return copy_tracking(sample_data, tmp_path / "tracking", games=(18981, 19038))


def _invoke(*args):
    return CliRunner().invoke(etl_command, [str(a) for a in args])


def test_etl_command_writes_tables_and_exits_zero(sample_data, tracking, tmp_path):
    out = tmp_path / "out"
    result = _invoke("--blb", sample_data / "blb" / "BLB_Tables.xlsx", "--tracking", tracking, "--out", out,
                     "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    assert "ETL ok" in result.output and "game 18981" in result.output
    assert (out / "manifest.json").exists() and (out / "fact_goals.csv").exists()


def test_failed_game_exits_one_with_the_file_named(sample_data, tracking, tmp_path):
    (tracking / "19038.json").write_text("{")
    result = _invoke("--blb", sample_data / "blb" / "BLB_Tables.xlsx", "--tracking", tracking,
                     "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 1
    assert "19038.json" in result.output and "failed" in result.output


def test_unusable_league_workbook_exits_three(tracking, tmp_path):
    bad = tmp_path / "BLB_Tables.xlsx"
    bad.write_bytes(b"not a workbook")
    result = _invoke("--blb", bad, "--tracking", tracking, "--out", tmp_path / "out")
    assert result.exit_code == 3
    assert not (tmp_path / "out").exists()


def test_missing_out_is_a_usage_error(sample_data, tracking):
    result = _invoke("--blb", sample_data / "blb" / "BLB_Tables.xlsx", "--tracking", tracking)
    assert result.exit_code == 2


def test_list_games_prints_game_and_files(sample_data, tracking):
    result = _invoke("--blb", sample_data / "blb" / "BLB_Tables.xlsx", "--tracking", tracking, "--list-games")
    assert result.exit_code == 0
    lines = dict(line.split("\t", 1) for line in result.output.strip().splitlines())
    assert set(lines) == {"18981", "19038"}
    assert "18981_tracking.xlsx" in lines["18981"] and "18981.json" in lines["18981"]


def test_games_and_exclude_options_reach_the_run(sample_data, tracking, tmp_path):
    result = _invoke("--blb", sample_data / "blb" / "BLB_Tables.xlsx", "--tracking", tracking,
                     "--out", tmp_path / "out", "--games", 19038, "--exclude-games", 18981, "--json",
                     "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{\n"):])  # after any unconfigured log line
    assert report["games"]["18981"]["status"] == "skipped"
    assert report["games"]["19038"]["status"] == "partial"
