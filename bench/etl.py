"""ETL benchmarks: print figures against the targets of the ETL issue (these are not timed tests).

    python bench/etl.py [--quick] [--skip-real] [--data PATH] [--xlsx-fraction F]

Figures, each measured in a fresh worker process (imports done before the clock starts; peak memory is the
summed RSS of the worker and any reader processes it forks, sampled every 50 ms, an upper bound that
includes the interpreter and pandas):
  1. full ETL over the real data (BENCHSIGHT_SAMPLE_DATA, default ../shared/data): <= 5 s, peak <= 400 MB;
  2. the naive baseline: pandas.read_excel(path, sheet_name=None) with its default engine (openpyxl) over the
     same workbooks (league workbook and tracker workbooks); the ETL should take less than that read alone;
  3. incremental: after a run, one game's tracking file changes and the ETL runs again: <= 1 s;
  4. synthetic seasons of 125, 250 and 500 games (etl/synth.py): 500 games <= 60 s, growing linearly.
Inputs are copied or generated into a temporary folder; nothing is written to the repository. Exits 0 even
when a target is missed; missed targets are printed as MISSED.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(REPO)  # `python bench/etl.py` must import the etl package, not this file

FULL_SECONDS, FULL_PEAK_MB, INCREMENTAL_SECONDS, SEASON_SECONDS = 5.0, 400.0, 1.0, 60.0
LINEAR_TOLERANCE = 1.3  # seconds per game of the largest season at most this times that of the smallest
SEASON_SIZES = (125, 250, 500)


def _peak_mb() -> float:
    """Peak resident memory of this process, or of the largest of its finished children if larger (MB)."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kilobytes
    children_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, children_kb) / 1024


class TreeMemory:
    """Samples the summed RSS of a process (the benchmark worker) and its children (the ETL may read in a
    process pool).

    It samples from the parent, not from a thread inside the worker: etl.run forks its readers only when
    its process runs a single thread (as under the CLI), so a sampling thread in the worker would
    change the code path measured. Summing RSS counts pages shared between a forked parent and its
    children more than once, so this is an upper bound on the memory the run needs."""

    def __init__(self, pid: int | None = None, interval: float = 0.05) -> None:
        self.pid, self.interval, self.peak_bytes = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        try:
            import psutil
        except ImportError:
            return
        try:
            me = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                tree = [me, *me.children(recursive=True)]
            except psutil.Error:  # the process itself exited (or a child vanished while listed): nothing to add
                tree = []
            total = 0
            for proc in tree:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:  # exited between listing and reading
                    pass
            self.peak_bytes = max(self.peak_bytes, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak_bytes / 2**20


# ---- worker side: one measurement per process ---------------------------------------------------------


def _etl_run(blb: Path, tracking: list[Path], out: Path, cache: Path):
    import etl

    report = etl.run(blb, tracking, out, cache_dir=cache)
    if report.status == "failed":
        raise RuntimeError(f"ETL failed: {report.error}")
    return report


def _worker(case: dict) -> dict:
    kind = case["kind"]
    if kind == "naive":
        import pandas as pd

        paths = [Path(p) for p in case["paths"]]
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas announces its future default engine
            for path in paths:
                pd.read_excel(path, sheet_name=None)
        engine = "openpyxl" if "openpyxl" in sys.modules else "calamine" if "python_calamine" in sys.modules else "?"
        return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "engine": engine}
    import etl  # noqa: F401  (imported before the clock starts)

    blb, tracking = Path(case["blb"]), [Path(p) for p in case["tracking"]]
    work = Path(case["work"])
    if kind == "full":  # the parent samples this process tree's memory (TreeMemory)
        started = time.perf_counter()
        report = _etl_run(blb, tracking, work / "out", work / "cache")
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "peak_mb": _peak_mb(), "games": len(report.games),
                "rows": sum(report.tables.values()), "status": report.status, "timings": report.timings}
    if kind == "incremental":
        _etl_run(blb, tracking, work / "out", work / "cache")
        changed = _change_one_game(Path(case["change"]))
        started = time.perf_counter()
        report = _etl_run(blb, tracking, work / "out", work / "cache")
        seconds = time.perf_counter() - started
        return {"seconds": seconds, "peak_mb": _peak_mb(), "changed": changed, "status": report.status}
    raise ValueError(f"unknown case {kind!r}")


def _change_one_game(path: Path) -> str:
    """Edit one tracker file the way a tracker would: one event gets a different detail."""
    if path.suffix == ".json":
        doc = json.loads(path.read_text())
        event = next(e for e in doc["events"] if e.get("type") == "Pass")
        event["isHighlight"] = not event.get("isHighlight", False)
        path.write_text(json.dumps(doc, indent=1))
    else:  # a workbook: rewrite it with one event cell changed
        import pandas as pd

        sheets = pd.read_excel(path, sheet_name=None, engine="calamine")
        events = sheets["events"]
        column = "event_detail_2" if "event_detail_2" in events else events.columns[-1]
        events.loc[events.index[len(events) // 2], column] = "Pass-Forehand"
        with pd.ExcelWriter(path, engine="xlsxwriter") as writer:
            for name, frame in sheets.items():
                frame.to_excel(writer, sheet_name=name, index=False)
    return path.name


# ---- parent side --------------------------------------------------------------------------------------


def _measure(case: dict) -> dict:
    """Run one case in a fresh interpreter and return what it reports."""
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(case)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    with TreeMemory(proc.pid) as memory:
        stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark case {case['kind']} failed:\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_mb"] = max(result["peak_mb"], memory.peak_mb)  # sampled tree, or the worker's own peak
    return result


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, figure: str, value: float, fmt: str, target: str = "", ok: bool | None = None) -> None:
        result = "" if ok is None else ("PASS" if ok else "MISSED")
        self.rows.append((figure, format(value, fmt), target, result))
        print(f"  {figure}: {format(value, fmt)} {target} {result}".rstrip(), flush=True)

    def print(self) -> None:
        header = ("figure", "value", "target", "result")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        line = "  ".join("{:<%d}" % w for w in widths)
        print()
        print(line.format(*header))
        print(line.format(*("-" * w for w in widths)))
        for row in self.rows:
            print(line.format(*row))
        missed = [r[0] for r in self.rows if r[3] == "MISSED"]
        print()
        print(f"MISSED: {', '.join(missed)}" if missed else "all targets met")


def _real_inputs(data: Path) -> tuple[Path, list[Path], list[Path]]:
    blb = data / "blb" / "BLB_Tables.xlsx"
    tracking = data / "tracking"
    if not blb.exists() or not tracking.is_dir():
        raise SystemExit(f"real data not found under {data}: expected blb/BLB_Tables.xlsx and tracking/ "
                         "(set BENCHSIGHT_SAMPLE_DATA or pass --data, or use --skip-real)")
    workbooks = [blb, *sorted((tracking / "xlsx").glob("*.xlsx"))]
    return blb, [tracking], workbooks


def bench_real(data: Path, table: Table, tmp: Path) -> None:
    blb, tracking, workbooks = _real_inputs(data)
    print(f"real data: {data} ({len(workbooks)} workbooks, "
          f"{len(list((data / 'tracking').rglob('*.json')))} JSON exports)", flush=True)
    full = _measure({"kind": "full", "blb": str(blb), "tracking": [str(p) for p in tracking],
                     "work": str(tmp / "full")})
    table.add("full ETL, real data (s)", full["seconds"], ".2f", f"<= {FULL_SECONDS:g}",
              full["seconds"] <= FULL_SECONDS)
    table.add("full ETL, real data, peak RSS incl. children (MB)", full["peak_mb"], ".0f", f"<= {FULL_PEAK_MB:g}",
              full["peak_mb"] <= FULL_PEAK_MB)
    print(f"    ETL steps (s): {full['timings']}", flush=True)
    naive = _measure({"kind": "naive", "paths": [str(p) for p in workbooks]})
    table.add(f"naive pandas.read_excel ({naive['engine']} = default), same workbooks (s)", naive["seconds"], ".2f")
    ratio = full["seconds"] / naive["seconds"]
    table.add("full ETL / naive read", ratio, ".3f", "< 1", ratio < 1)

    copy = tmp / "data"
    shutil.copytree(data, copy)
    candidates = sorted((copy / "tracking" / "json").glob("*.json"), key=lambda p: p.stat().st_size, reverse=True)
    changed = candidates[0] if candidates else sorted((copy / "tracking" / "xlsx").glob("*.xlsx"))[0]
    inc = _measure({"kind": "incremental", "blb": str(copy / "blb" / "BLB_Tables.xlsx"),
                    "tracking": [str(copy / "tracking")], "work": str(tmp / "incremental"), "change": str(changed)})
    table.add(f"incremental, one changed game ({inc['changed']}) (s)", inc["seconds"], ".2f",
              f"<= {INCREMENTAL_SECONDS:g}", inc["seconds"] <= INCREMENTAL_SECONDS)


def bench_synthetic(sizes: tuple[int, ...], xlsx_fraction: float, table: Table, tmp: Path) -> None:
    from etl import synth

    per_game = {}
    for n in sizes:
        started = time.perf_counter()
        s = synth.generate(tmp / f"synth{n}", games=n, seed=0, xlsx_fraction=xlsx_fraction,
                           partial_fraction=0.05, both_formats_fraction=0.02)
        print(f"generated {n} synthetic games in {time.perf_counter() - started:.1f} s "
              f"(xlsx fraction {xlsx_fraction:g})", flush=True)
        run = _measure({"kind": "full", "blb": str(s.blb), "tracking": [str(s.tracking)],
                        "work": str(tmp / f"run{n}")})
        per_game[n] = run["seconds"] / n
        target = f"<= {SEASON_SECONDS:g}" if n == 500 else ""
        table.add(f"synthetic season, {n} games (s)", run["seconds"], ".2f", target,
                  run["seconds"] <= SEASON_SECONDS if n == 500 else None)
        table.add(f"synthetic season, {n} games, per game (ms)", per_game[n] * 1000, ".1f")
        table.add(f"synthetic season, {n} games, peak RSS incl. children (MB)", run["peak_mb"], ".0f")
        print(f"    ETL steps (s): {run['timings']}", flush=True)
        shutil.rmtree(tmp / f"synth{n}", ignore_errors=True)
        shutil.rmtree(tmp / f"run{n}", ignore_errors=True)
    if len(per_game) > 1:
        small, large = min(per_game), max(per_game)
        growth = per_game[large] / per_game[small]
        table.add(f"per-game time, {large} vs {small} games", growth, ".2f", f"<= {LINEAR_TOLERANCE:g} (linear)",
                  growth <= LINEAR_TOLERANCE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 500-game season")
    parser.add_argument("--skip-real", action="store_true", help="skip the figures over the real data")
    parser.add_argument("--skip-synthetic", action="store_true", help="skip the synthetic seasons")
    parser.add_argument("--data", type=Path,
                        default=Path(os.environ.get("BENCHSIGHT_SAMPLE_DATA", REPO.parent / "shared" / "data")))
    parser.add_argument("--xlsx-fraction", type=float, default=0.2,
                        help="share of synthetic games written as tracker workbooks (the rest as JSON)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(json.loads(args.worker))))
        return 0
    print(f"BenchSight ETL benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}", flush=True)
    table = Table()
    with tempfile.TemporaryDirectory(prefix="benchsight-bench-") as tmp:
        if not args.skip_real:
            bench_real(args.data.resolve(), table, Path(tmp))
        if not args.skip_synthetic:
            sizes = tuple(n for n in SEASON_SIZES if not (args.quick and n == 500))
            bench_synthetic(sizes, args.xlsx_fraction, table, Path(tmp))
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
