"""``benchsight etl``: run the ETL from the command line.

Exit codes: 0 every game read (tracking may still be partial: see qa_game_completeness);
1 some tracker file failed (output written without it: the run is partial); 2 usage error (click);
3 the run failed (league workbook unusable: nothing written); 130 interrupted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 3, 130


def _check_games(blb: Path, games: list[int]) -> None:
    """Requested games must be in the league schedule: a typo would otherwise build nothing and exit 0."""
    from etl.readers.league_workbook import scheduled_games
    from etl.readers.sheets import InputError

    try:
        known = scheduled_games(blb)
    except InputError as exc:
        raise click.UsageError(str(exc)) from exc
    unknown = sorted(set(games) - known)
    if unknown:
        raise click.UsageError(f"--games/--exclude-games: not in the league schedule (dim_schedule of "
                               f"{blb.name}): {', '.join(map(str, unknown))}")


@click.command(name="etl")
@click.option("--blb", "blb", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="The league workbook (BLB_Tables.xlsx).")
@click.option("--tracking", "tracking", type=click.Path(path_type=Path), multiple=True,
              help="Tracker folder (scanned recursively for *.xlsx / *.json) or file; repeatable.")
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), required=False,
              help="Output folder: one CSV per table plus manifest.json (replaced atomically).")
@click.option("--games", "games", type=int, multiple=True,
              help="Only (re)build these games; other games keep their previous result. Repeatable.")
@click.option("--exclude-games", "exclude_games", type=int, multiple=True,
              help="Leave these games' tracking out of the output. Repeatable.")
@click.option("--wipe", is_flag=True, help="Ignore and clear the cache; rebuild everything from the inputs.")
@click.option("--cache-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Per-file read cache (default: <out>/../.etl_cache).")
@click.option("--list-games", is_flag=True, help="List the games found in the tracking inputs and exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the run report as JSON.")
def etl_command(blb: Path, tracking: tuple[Path, ...], out: Path | None, games: tuple[int, ...],
                exclude_games: tuple[int, ...], wipe: bool, cache_dir: Path | None, list_games: bool,
                as_json: bool) -> None:
    """Build the BenchSight tables from the league workbook and tracker files."""
    from etl.pipeline import EtlCancelled, discover, run  # imported here: keeps `benchsight --help` fast

    if list_games:
        found: dict[str, list[str]] = {}
        for item in discover(tracking, blb):
            found.setdefault(str(item.game_id) if item.game_id is not None else "?", []).append(str(item.path))
        for gid in sorted(found):
            click.echo(f"{gid}\t" + "\t".join(found[gid]))
        return
    if out is None:
        raise click.UsageError("--out is required (unless --list-games)")
    if not tracking:
        raise click.UsageError("give at least one --tracking folder or file")
    if games or exclude_games:
        _check_games(blb, [*games, *exclude_games])

    bar = None
    if sys.stdout.isatty() and not as_json:
        from tqdm import tqdm

        bar = tqdm(total=100, unit="%", bar_format="{l_bar}{bar}| {n_fmt}% {postfix}")

    def progress(fraction: float, step: str) -> None:
        if bar is not None:
            bar.n = int(fraction * 100)
            bar.set_postfix_str(step)
            bar.refresh()

    try:
        report = run(blb, list(tracking), out, games=list(games) or None, exclude_games=list(exclude_games),
                     wipe=wipe, progress=progress, cache_dir=cache_dir)
    except (KeyboardInterrupt, EtlCancelled):
        click.echo("interrupted: previous output left untouched", err=True)
        sys.exit(EXIT_INTERRUPTED)
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        _print_summary(report)
    sys.exit({"ok": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}[report.status])


def _print_summary(report) -> None:
    if report.status == "failed":
        click.echo(f"ETL failed: {report.error}", err=True)
        return
    click.echo(f"ETL {report.status} in {report.duration_seconds:.2f}s -> {report.out}")
    click.echo(f"{len(report.tables)} tables, {sum(report.tables.values())} rows; "
               f"{report.issue_count} data issues (qa_data_issues.csv)")
    for gid, outcome in sorted(report.games.items()):
        line = f"  game {gid}: {outcome.status:<9} {', '.join(outcome.source)}"
        if outcome.error:
            line += f"  ERROR {outcome.error}"
        click.echo(line)
