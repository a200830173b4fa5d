"""QA tables: per-game completeness and the disagreements between tracking and the official scoresheet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.summary import SUMMARY_STATS
from etl.builders.resolve import Resolved
from etl.issues import Issues

PERIOD_SECONDS = 18 * 60  # regulation period length in this league (dim_schedule period_length 00:18:00)


def game_completeness(games: pd.DataFrame, r: Resolved, shifts: pd.DataFrame, goals: pd.DataFrame,
                      failed: dict[int, str]) -> pd.DataFrame:
    """Status per game: complete (tracked goals per team equal the official ones), partial (events, but
    goals differ), untracked (no tracking file, a failed file, or no events)."""
    g = games[["game_id", "home_team_id", "away_team_id", "official_home_goals", "official_away_goals"]].copy()
    extra = set(r.sources) - set(g["game_id"])
    if extra:
        g = pd.concat([g, pd.DataFrame({"game_id": sorted(extra)})], ignore_index=True)
    ev = r.events
    counts = pd.DataFrame({
        "events": ev.groupby("game_id").size(),
        "event_players": r.event_players.groupby("game_id").size(),
        "shifts": shifts.groupby("game_id").size(),
        "shift_seconds": shifts.groupby("game_id")["duration_s"].sum(),
        "n_periods": ev.dropna(subset=["period"]).groupby("game_id")["period"].nunique(),
    })
    periods = ev.dropna(subset=["period"]).groupby("game_id")["period"].agg(
        lambda s: ",".join(str(int(p)) for p in sorted(s.unique())))
    counts["periods_covered"] = periods
    tg = goals.groupby(["game_id", "team_venue"]).size().unstack(fill_value=0)
    for side in ("home", "away"):
        counts[f"tracked_{side}_goals"] = tg[side] if side in tg.columns else 0
    counts.index = counts.index.astype("int64")
    g = g.merge(counts, left_on="game_id", right_index=True, how="left")
    g["source_file"] = g["game_id"].map(lambda x: r.sources.get(int(x)))
    for col in ("events", "event_players", "shifts"):
        g[col] = g[col].fillna(0)
    tracked = g["events"] > 0
    for side in ("home", "away"):
        g[f"tracked_{side}_goals"] = g[f"tracked_{side}_goals"].fillna(0).where(tracked)
    g["has_shifts"] = (g["shift_seconds"].fillna(0) >= 0.5 * g["n_periods"].fillna(0) * PERIOD_SECONDS) & \
        (g["shifts"] > 1)
    same = (g["tracked_home_goals"] == g["official_home_goals"]) & \
        (g["tracked_away_goals"] == g["official_away_goals"])
    g["status"] = np.select([~tracked, same], ["untracked", "complete"], "partial")
    notes = []
    for row in g.itertuples(index=False):  # one row per game (hundreds), not per event
        n = []
        if row.game_id in failed:
            n.append(f"tracking file failed: {failed[row.game_id]}")
        elif row.status == "partial":
            n.append(f"tracked goals {_i(row.tracked_home_goals)}-{_i(row.tracked_away_goals)}, official "
                     f"{_i(row.official_home_goals)}-{_i(row.official_away_goals)} (home-away)")
        if row.status != "untracked" and not row.has_shifts:
            n.append("shifts missing or incomplete: TOI, on-ice and plus-minus not available")
        notes.append("; ".join(n) or None)
    g["note"] = notes
    return g


def _i(v) -> str:
    return "?" if v is None or v != v else str(int(v))


def scoresheet_disagreements(pgs: pd.DataFrame, completeness: pd.DataFrame, sources: dict[int, str],
                             issues: Issues) -> None:
    """Every per-player and per-team difference between the scoresheet and tracking, in tracked games."""
    status = completeness.set_index("game_id")["status"]
    p = pgs.loc[pgs["game_status"] != "untracked"]
    for official, tracked, what in (("goals", "tracked_goals", "goals"), ("assists", "tracked_assists", "assists")):
        d = p.loc[p[official].fillna(0) != p[tracked].fillna(0)]
        if d.empty:
            continue
        st = d["game_id"].map(status)
        issues.add_frame(pd.DataFrame({
            "game_id": d["game_id"], "file": d["game_id"].map(lambda g: sources.get(int(g))),
            "column": tracked, "category": f"player_{what}_disagree",
            "severity": np.where(st == "complete", "warning", "info"),
            "message": "player " + d["player_id"].astype(str) + " (jersey " + d["jersey"].astype(str) + "): "
            + "scoresheet " + d[official].fillna(0).astype(int).astype(str) + " " + what + ", tracking "
            + d[tracked].fillna(0).astype(int).astype(str) + " (game " + st.astype(str) + ")",
            "action": f"both kept: {official} from the scoresheet, {tracked} from tracking",
        }))
    c = completeness.loc[completeness["status"] != "untracked"]
    for side in ("home", "away"):
        d = c.loc[c[f"official_{side}_goals"] != c[f"tracked_{side}_goals"]]
        if d.empty:
            continue
        issues.add_frame(pd.DataFrame({
            "game_id": d["game_id"], "file": d["source_file"], "column": f"tracked_{side}_goals",
            "category": "team_goals_disagree", "severity": "warning",
            "message": d[f"{side}_team_id"].astype(str) + f" ({side}): scoresheet "
            + d[f"official_{side}_goals"].map(_i) + " goals, tracking " + d[f"tracked_{side}_goals"].map(_i),
            "action": "game marked partial; official goals kept, tracked stats excluded from season totals",
        }))


def align_sides(reference: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Swap ``other``'s home/away when its jerseys match ``reference``'s better that way round."""
    def hits(idx: pd.Index) -> int:
        return int(idx.isin(reference.index).sum())
    swapped = other.rename(index={"home": "away", "away": "home"}, level="team_venue")
    return swapped if hits(swapped.index) > hits(other.index) else other


def source_disagreements(game_id: int, primary: pd.DataFrame, alternate: pd.DataFrame, primary_file: str,
                         alternate_file: str, issues: Issues) -> None:
    """Report every per-player difference in goals, assists, shots and TOI (> 1 s) between two files."""
    alternate = align_sides(primary, alternate)
    m = primary.merge(alternate, left_index=True, right_index=True, how="outer", suffixes=("", "_alt")).fillna(0)
    for col in SUMMARY_STATS:
        tol = 1.0 if col == "toi_seconds" else 0
        if col == "toi_seconds" and (m[col].sum() == 0 or m[f"{col}_alt"].sum() == 0):
            continue  # one file has no shifts: nothing to compare
        d = m.loc[(m[col] - m[f"{col}_alt"]).abs() > tol]
        if d.empty:
            continue
        who = d.index.get_level_values("team_venue").astype(str) + " #" + \
            d.index.get_level_values("jersey").astype(int).astype(str)
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": alternate_file, "column": col,
            "category": "tracker_files_disagree", "severity": "warning",
            "message": who + f": {col} " + d[col].astype(str).values + f" in {primary_file}, "
            + d[f"{col}_alt"].astype(str).values + f" in {alternate_file}",
            "action": f"{primary_file} used (more tracked detail)",
        }))
