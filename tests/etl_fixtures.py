"""Shared fixtures for the ETL tests: the real league data (never copied into the repo) and one full run.

Tests that need the data use the ``sample_data`` fixture and are marked ``sample_data``; without the data
(env BENCHSIGHT_SAMPLE_DATA, default ../shared/data next to the repo) they skip with the reason.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GAMES_IN_BOTH_FORMATS = (18965, 18969, 18981, 18987)


def sample_data_path() -> Path:
    return Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def sample_data() -> Path:
    path = sample_data_path()
    if not (path / "blb" / "BLB_Tables.xlsx").exists() or not (path / "tracking").is_dir():
        pytest.skip(f"real league data not found at {path} (set BENCHSIGHT_SAMPLE_DATA)")
    return path


@pytest.fixture(scope="session")
def etl_cache(tmp_path_factory) -> Path:
    """One read cache for the whole session: each real input is parsed once across tests."""
    return tmp_path_factory.mktemp("etl_cache")


@dataclass
class FullRun:
    report: object
    out: Path


@pytest.fixture(scope="session")
def full_run(sample_data, tmp_path_factory, etl_cache) -> FullRun:
    import etl

    out = tmp_path_factory.mktemp("full_run") / "out"
    report = etl.run(sample_data / "blb" / "BLB_Tables.xlsx", [sample_data / "tracking"], out, cache_dir=etl_cache)
    return FullRun(report, out)


def copy_tracking(sample_data: Path, dest: Path, games: tuple[int, ...] | None = None) -> Path:
    """A private copy of (some of) the tracker files, to corrupt or change in a test."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted((sample_data / "tracking").rglob("*")):
        if f.is_file() and (games is None or any(f.name.startswith(str(g)) for g in games)):
            shutil.copy(f, dest / f.name)
            (dest / f.name).chmod(0o644)
    return dest


def read_table(out: Path, name: str):
    from etl.catalog import TABLES, read_table_csv

    return read_table_csv(out / f"{name}.csv", TABLES[name])
