"""BenchSight ETL: a pure library (and a CLI) from the league workbook and tracker files to typed tables.

``run(blb, tracking, out, ...)`` reads the inputs, builds every table of ``etl.catalog.TABLES`` and writes
them as CSV with a manifest.json, atomically. See docs/stats.md for the statistics' definitions.
"""

from etl.pipeline import EtlCancelled, GameOutcome, RunReport, run

__all__ = ["run", "RunReport", "GameOutcome", "EtlCancelled"]
