"""What players did with and without the puck: micro stats from play details, rushes, zone entry/exit
summaries, saves by type and danger, and zone time. Pure functions of the resolved tracked frames.
Definitions: docs/stats.md ("Micro stats", "Rushes", "Zone entries and exits", "Saves", "Zone time").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.builders.resolve import Resolved
from etl.canonical import per_distinct

KEY = ["game_id", "player_id"]
RUSH_SECONDS = 10  # a shot or goal within this many seconds after its team's rush entry is on the rush

# micro stat -> play-detail tokens (the part after the last '-': JSON writes 'Defensive_PlayPossession-PokeCheck')
MICRO_TOKENS: dict[str, tuple[str, ...]] = {
    "backchecks": ("Backcheck",), "forechecks": ("Forecheck",), "dekes": ("Deke", "OpenIceDeke"),
    "screens": ("Screen",), "crash_net": ("CrashNet",), "cutbacks": ("CutBack",), "cycles": ("Cycle",),
    "delays": ("Delay",), "drives_corner": ("DriveCorner",), "drives_middle": ("DriveMiddle", "DriveNetMiddle"),
    "drives_wide": ("DriveWide", "DriveNetWide"), "give_and_go": ("GiveAndGo",), "poke_checks": ("PokeCheck",),
    "stick_checks": ("StickCheck",), "second_touch": ("SecondTouch",), "zone_ent_denials": ("ZoneEntryDenial",),
    "breakouts": ("Breakout",), "loose_puck_wins": ("LoosePuckBattleWon",),
    "puck_battles_total": ("LoosePuckBattleWon", "LoosePuckBattleLost"),
}
EVENT_MICRO = ["pass_attempts", "pass_completed", "puck_recoveries", "dump_ins", "bad_giveaways", "blocks",
               "plays_successful", "plays_unsuccessful", "primary_def_events", "support_def_events"]
MICRO_COLUMNS = list(MICRO_TOKENS) + ["drives_total"] + EVENT_MICRO + ["def_involvement", "pass_pct",
                                                                         "play_success_rate"]
# giveaways that are deliberate puck moves (a clear or dump that the other team recovers) are not 'bad'
DELIBERATE_GIVEAWAYS = ("Giveaway_AttemptedZoneClear/Dump", "Giveaway_ZoneClear/Dump", "Giveaway_DumpInZone")
CONTROLLED_ENTRIES = ("ZoneEntry_Carried", "ZoneEntry_Rush", "ZoneEntry_RushBreakaway", "ZoneEntry_Pass")
DUMP_ENTRIES = ("ZoneEntry_DumpIn", "ZoneEntry_Chip")
# carried-in entries: the workbook tracker writes them 'Rush', the JSON tracker 'Carried'
RUSH_ENTRIES = ("ZoneEntry_Rush", "ZoneEntry_RushBreakaway", "ZoneEntry_Carried")
CONTROLLED_EXITS = ("ZoneExit_Carried", "ZoneExit_Pass", "ZoneExit_Rush")
CLEAR_EXITS = ("ZoneExit_Clear", "ZoneExit_Chip", "ZoneExit_Lob", "ZoneExit_PenaltyKillClear")
SAVE_TYPES = {"Save_Blocker": "saves_blocker", "Save_Butterfly": "saves_butterfly", "Save_Chest": "saves_chest",
              "Save_Glove": "saves_glove", "Save_LeftPad": "saves_pad", "Save_RightPad": "saves_pad",
              "Save_Scramble": "saves_scramble", "Save_Stick": "saves_stick"}


def _count(df: pd.DataFrame, name: str, player_col: str = "player_id") -> pd.Series:
    d = df.loc[df[player_col].notna()]
    s = d.groupby([d["game_id"], d[player_col]]).size()
    s.index = s.index.set_names(KEY)
    return s.rename(name)


def first_players(r: Resolved) -> pd.DataFrame:
    """Each event with its event_player_1 (player_id), the player credited with the event."""
    ep = r.event_players
    first = ep.loc[(ep["side"] == "event") & (ep["role_number"] == 1), ["game_id", "event_id", "player_id"]]
    first = first.drop_duplicates(["game_id", "event_id"])
    return r.events[["game_id", "event_id", "period", "clock_start_s", "event_type", "event_detail",
                     "event_detail_2", "team_id", "team_venue", "zone"]].merge(first, on=["game_id", "event_id"],
                                                                            how="left")


def _text(values: pd.Series) -> pd.Series:
    """Text cells as str ('' for empty), whatever dtype an all-empty column was read with."""
    return pd.Series(values.to_numpy(dtype=object), index=values.index).fillna("").astype(str)


def _last_part(values: pd.Series) -> pd.Series:
    return _text(values).str.rsplit("-", n=1).str[-1].where(values.notna())


def _token(values: pd.Series) -> pd.Series:
    """A play detail's last part, worked out once per distinct detail."""
    return per_distinct(values, _last_part)


_TOKEN_STATS = pd.DataFrame([(tok, stat) for stat, toks in MICRO_TOKENS.items() for tok in toks],
                            columns=["token", "stat"])


def micro_stats(r: Resolved, entries: pd.DataFrame, shots: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id): the MICRO_COLUMNS counts and rates (see docs/stats.md, "Micro stats")."""
    ep = r.event_players.loc[r.event_players["player_id"].notna()].reset_index(drop=True)
    n = len(ep)
    long = pd.DataFrame({"row": np.concatenate([np.arange(n), np.arange(n)]),
                         "token": pd.concat([_token(ep["play_detail_1"]), _token(ep["play_detail_2"])],
                                            ignore_index=True).to_numpy(dtype=object)}).dropna()
    hit = long.merge(_TOKEN_STATS, on="token").drop_duplicates(["row", "stat"])  # a row counts once per stat
    by_stat = hit.groupby([ep["game_id"].to_numpy()[hit["row"]], ep["player_id"].to_numpy()[hit["row"]],
                           hit["stat"].to_numpy()]).size().unstack(fill_value=0)
    by_stat.index = by_stat.index.set_names(KEY)
    parts = [by_stat[c] for c in by_stat.columns]
    success = _text(ep["play_success"]).str.strip().str.lower().str[:1]
    parts.append(_count(ep.loc[ep["play_success"].notna() & (success == "s")], "plays_successful"))
    parts.append(_count(ep.loc[ep["play_success"].notna() & (success == "u")], "plays_unsuccessful"))
    opp = ep.loc[ep["side"] == "opp"]
    parts.append(_count(opp.loc[opp["role_number"] == 1], "primary_def_events"))
    parts.append(_count(opp.loc[opp["role_number"] > 1], "support_def_events"))
    ev = first_players(r)
    passes = ev.loc[ev["event_type"] == "Pass"]
    parts.append(_count(passes, "pass_attempts"))
    parts.append(_count(passes.loc[passes["event_detail"] == "Pass_Completed"], "pass_completed"))
    parts.append(_count(ev.loc[(ev["event_type"] == "Possession")
                               & ev["event_detail"].isin(["PuckRecovery", "Possession_PuckRecovery"])],
                        "puck_recoveries"))
    parts.append(_count(ev.loc[(ev["event_detail"] == "Turnover_Giveaway")
                               & ~ev["event_detail_2"].isin(DELIBERATE_GIVEAWAYS)], "bad_giveaways"))
    parts.append(_count(entries.loc[entries["entry_type"] == "ZoneEntry_DumpIn"], "dump_ins"))
    parts.append(_count(blocks_made(r, shots), "blocks", "blocker_player_id"))
    out = pd.concat(parts, axis=1).fillna(0)
    for col in list(MICRO_TOKENS) + EVENT_MICRO:
        if col not in out.columns:
            out[col] = 0
    out["drives_total"] = out["drives_corner"] + out["drives_middle"] + out["drives_wide"]
    out["def_involvement"] = out["primary_def_events"] + out["support_def_events"]
    out["pass_pct"] = pct(out["pass_completed"], out["pass_attempts"])
    out["play_success_rate"] = pct(out["plays_successful"], out["plays_successful"] + out["plays_unsuccessful"])
    return out.reset_index()


def pct(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 * part / whole, null when whole is 0."""
    part, whole = part.astype("float64"), whole.astype("float64")
    return (100.0 * part / whole).where(whole > 0)


def blocks_made(r: Resolved, shots: pd.DataFrame) -> pd.DataFrame:
    """Shots blocked by an opponent (not 'Shot_BlockedSameTeam'), credited to opp_player_1 (the blocker)."""
    ep = r.event_players
    blocker = ep.loc[(ep["side"] == "opp") & (ep["role_number"] == 1), ["game_id", "event_id", "player_id"]]
    b = shots.loc[shots["is_blocked"] & (shots["event_detail"] != "Shot_BlockedSameTeam"),
                  ["game_id", "event_id", "team_venue"]]
    b = b.merge(blocker.drop_duplicates(["game_id", "event_id"]), on=["game_id", "event_id"], how="left")
    return b.rename(columns={"player_id": "blocker_player_id"})


def hits(r: Resolved) -> pd.DataFrame:
    """Hits per (game_id, player_id) in games whose tracker records 'Hit' events; games without any are
    left out (the tracker does not record hits there: null, not 0)."""
    ev = first_players(r)
    h = ev.loc[ev["event_type"] == "Hit"]
    return _count(h, "hits").reset_index()


def rushes(r: Resolved, entries: pd.DataFrame) -> pd.DataFrame:
    """Shots and goals on the rush: (game_id, event_id, event_type, entry_event_id, entry_player_id,
    entry_type). A rush is a successful carried-in entry (RUSH_ENTRIES); a Shot or Goal of
    the entering team after it (event order) in the same period, at most RUSH_SECONDS later, is on it."""
    ev = r.events
    attempts = ev.loc[ev["event_type"].isin(["Shot", "Goal"]) & ev["clock_start_s"].notna(),
                      ["game_id", "event_id", "period", "clock_start_s", "team_venue", "event_type"]]
    e = entries.loc[entries["success"] & entries["entry_type"].isin(RUSH_ENTRIES),
                    ["game_id", "event_id", "period", "clock_s", "player_id", "entry_type"]]
    e = e.merge(ev[["game_id", "event_id", "team_venue"]], on=["game_id", "event_id"])
    cols = ["game_id", "event_id", "event_type", "entry_event_id", "entry_player_id", "entry_type"]
    if attempts.empty or e.empty:
        return pd.DataFrame(columns=cols)
    left = attempts.assign(order=attempts["event_id"].astype("int64"), gv=attempts["team_venue"].fillna("?"),
                           g=attempts["game_id"].astype("int64")).sort_values("order")
    right = e.rename(columns={"event_id": "entry_event_id", "period": "entry_period", "clock_s": "entry_clock",
                              "player_id": "entry_player_id"})
    right = right.assign(order=right["entry_event_id"].astype("int64"), gv=right["team_venue"].fillna("?"),
                         g=right["game_id"].astype("int64")).drop(columns=["team_venue", "game_id"])
    m = pd.merge_asof(left, right.sort_values("order"), on="order", by=["g", "gv"], direction="backward")
    gap = m["entry_clock"] - m["clock_start_s"]
    on = m["entry_event_id"].notna() & (m["entry_period"] == m["period"]) & (gap >= 0) & (gap <= RUSH_SECONDS)
    return m.loc[on, cols].reset_index(drop=True)


def breakaway_goals(r: Resolved, rush: pd.DataFrame) -> pd.DataFrame:
    """Goals on a breakaway: a rush goal from a 'ZoneEntry_RushBreakaway' entry, or a goal at most
    RUSH_SECONDS after its team's 'Breakaway' possession in the period. Columns game_id, event_id."""
    ev = r.events
    from_entry = rush.loc[(rush["event_type"] == "Goal") & (rush["entry_type"] == "ZoneEntry_RushBreakaway"),
                          ["game_id", "event_id"]]
    goals = ev.loc[(ev["event_type"] == "Goal") & ev["clock_start_s"].notna(),
                   ["game_id", "event_id", "period", "clock_start_s", "team_venue"]]
    bk = ev.loc[(ev["event_type"] == "Possession") & ev["event_detail"].fillna("").str.contains("Breakaway")
                & ev["clock_start_s"].notna(), ["game_id", "event_id", "period", "clock_start_s", "team_venue"]]
    if goals.empty or bk.empty:
        return from_entry.reset_index(drop=True)
    left = goals.assign(order=goals["event_id"].astype("int64"), gv=goals["team_venue"].fillna("?"),
                        g=goals["game_id"].astype("int64")).sort_values("order")
    right = bk.rename(columns={"period": "b_period", "clock_start_s": "b_clock"}).assign(
        order=bk["event_id"].astype("int64"), gv=bk["team_venue"].fillna("?"), g=bk["game_id"].astype("int64"))
    right = right.drop(columns=["game_id", "event_id", "team_venue"]).sort_values("order")
    m = pd.merge_asof(left, right, on="order", by=["g", "gv"], direction="backward")
    gap = m["b_clock"] - m["clock_start_s"]
    ok = (m["b_period"] == m["period"]) & (gap >= 0) & (gap <= RUSH_SECONDS)
    both = pd.concat([from_entry, m.loc[ok, ["game_id", "event_id"]]], ignore_index=True)
    return both.drop_duplicates().reset_index(drop=True)


def rush_stats(r: Resolved, rush: pd.DataFrame, shots: pd.DataFrame, goals: pd.DataFrame,
               assists: pd.DataFrame, entries: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id): rush_shots, rush_goals, rush_assists, rush_points, rush_involvement,
    rush_off_shot_generated, rush_off_goal_generated, rush_off_success, breakaway_goals."""
    on = rush[["game_id", "event_id", "entry_event_id"]].astype({"game_id": "int64", "event_id": "int64"})
    sh = shots.astype({"game_id": "int64", "event_id": "int64"}).merge(on, on=["game_id", "event_id"])
    gl = goals.astype({"game_id": "int64", "event_id": "int64"}).merge(on, on=["game_id", "event_id"])
    la = assists.loc[assists["goal_event_id"].notna()].astype({"game_id": "int64"})
    la = la.assign(event_id=la["goal_event_id"].astype("int64")).drop(columns=["entry_event_id"], errors="ignore")
    la = la.merge(on, on=["game_id", "event_id"])
    bk = breakaway_goals(r, rush).astype({"game_id": "int64", "event_id": "int64"})
    parts = [
        _count(sh, "rush_shots", "shooter_player_id"),
        _count(gl, "rush_goals", "scorer_player_id"),
        _count(la, "rush_assists"),
        _count(goals.astype({"game_id": "int64", "event_id": "int64"}).merge(bk, on=["game_id", "event_id"]),
               "breakaway_goals", "scorer_player_id"),
    ]
    rr = rush.astype({"game_id": "int64"})
    parts.append(_count(rr.drop_duplicates(["game_id", "entry_event_id"]), "rush_off_shot_generated",
                        "entry_player_id"))
    parts.append(_count(rr.loc[rr["event_type"] == "Goal"].drop_duplicates(["game_id", "entry_event_id"]),
                        "rush_off_goal_generated", "entry_player_id"))
    involved = pd.concat([
        rr[["game_id", "entry_event_id", "entry_player_id"]].rename(columns={"entry_player_id": "player_id"}),
        sh[["game_id", "entry_event_id", "shooter_player_id"]].rename(columns={"shooter_player_id": "player_id"}),
        gl[["game_id", "entry_event_id", "scorer_player_id"]].rename(columns={"scorer_player_id": "player_id"}),
        la[["game_id", "entry_event_id", "player_id"]],
    ], ignore_index=True).dropna().drop_duplicates()
    parts.append(_count(involved, "rush_involvement"))
    rush_entries = entries.loc[entries["success"] & entries["entry_type"].isin(RUSH_ENTRIES)].astype(
        {"game_id": "int64"})
    parts.append(_count(rush_entries, "rush_entries"))
    out = pd.concat(parts, axis=1).fillna(0)
    for col in ("rush_shots", "rush_goals", "rush_assists", "breakaway_goals", "rush_off_shot_generated",
                "rush_off_goal_generated", "rush_involvement", "rush_entries"):
        if col not in out.columns:
            out[col] = 0
    out["rush_points"] = out["rush_goals"] + out["rush_assists"]
    out["rush_off_success"] = pct(out["rush_off_shot_generated"], out["rush_entries"])
    return out.drop(columns=["rush_entries"]).reset_index()


def _zone_summary(z: pd.DataFrame, kind: str, groups: dict[str, tuple[str, ...]], type_col: str) -> pd.DataFrame:
    z = z.loc[z["player_id"].notna()]
    ok = z["success"].astype(bool)
    cols = {f"total_{kind}": np.ones(len(z), dtype="int64"), f"failed_{kind}": (~ok).astype("int64")}
    for name, types in groups.items():
        cols[name] = (ok & z[type_col].isin(types)).astype("int64")
    frame = pd.DataFrame(cols, index=z.index).assign(game_id=z["game_id"], player_id=z["player_id"],
                                                     team_id=z["team_id"])
    out = frame.groupby(["game_id", "player_id"], as_index=False).agg(
        team_id=("team_id", "first"), **{c: (c, "sum") for c in cols})
    out[f"successful_{kind}"] = out[f"total_{kind}"] - out[f"failed_{kind}"]
    return out


def fact_zone_entry_summary(entries: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id) carrying the entry (event_player_1): attempts, failed, controlled, dumped."""
    return _zone_summary(entries, "entries", {"controlled_entries": CONTROLLED_ENTRIES,
                                              "dump_entries": DUMP_ENTRIES}, "entry_type")


def fact_zone_exit_summary(exits: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id) making the exit (event_player_1): attempts, failed, controlled, cleared."""
    return _zone_summary(exits, "exits", {"controlled_exits": CONTROLLED_EXITS, "clear_exits": CLEAR_EXITS},
                         "exit_type")


def fact_saves(r: Resolved, shots: pd.DataFrame, danger: pd.DataFrame) -> pd.DataFrame:
    """One row per 'Save' event: the goalie (event_player_1), save type (event_detail_2) and result
    (event_detail), and the shot it stopped: the other team's latest Shot at or before it in the period
    (event order), with that shot's danger zone where it has a location."""
    ev = first_players(r)
    sv = ev.loc[ev["event_type"] == "Save"].rename(columns={"player_id": "goalie_player_id",
                                                            "event_detail": "save_result",
                                                            "event_detail_2": "save_type"})
    sv = sv.assign(order=sv["event_id"].astype("int64"), g=sv["game_id"].astype("int64"),
                   gv=sv["team_venue"].map({"home": "away", "away": "home"}).fillna("?"))
    s = shots[["game_id", "event_id", "period", "team_venue", "result", "shooter_player_id"]]
    s = s.merge(danger, on=["game_id", "event_id"], how="left")
    s = s.rename(columns={"event_id": "shot_event_id", "period": "shot_period", "result": "shot_result",
                          "danger": "danger_level"})
    s = s.assign(order=s["shot_event_id"].astype("int64"), g=s["game_id"].astype("int64"),
                 gv=s["team_venue"].fillna("?")).drop(columns=["game_id", "team_venue"])
    if len(sv) and len(s):
        m = pd.merge_asof(sv.sort_values("order"), s.sort_values("order"), on="order", by=["g", "gv"],
                          direction="backward")
        stale = m["shot_period"] != m["period"]
        for col in ("shot_event_id", "shot_result", "danger_level", "shooter_player_id"):
            m[col] = m[col].where(~stale)
    else:
        m = sv.assign(shot_event_id=np.nan, shot_result=None, danger_level=None, shooter_player_id=None)
    m["event_type"] = "Save"
    m["save_column"] = m["save_type"].map(SAVE_TYPES)
    return m.sort_values(["game_id", "event_id"]).reset_index(drop=True)


def save_type_counts(saves: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, player_id) goalie: saves_<type> counts (saves_pad = left + right pad)."""
    s = saves.loc[saves["goalie_player_id"].notna() & saves["save_column"].notna()]
    out = s.groupby(["game_id", "goalie_player_id", "save_column"]).size().unstack(fill_value=0)
    out.index = out.index.set_names(KEY)
    for col in sorted(set(SAVE_TYPES.values())):
        if col not in out.columns:
            out[col] = 0
    return out[sorted(set(SAVE_TYPES.values()))].reset_index()


def fact_team_zone_time(r: Resolved, games: pd.DataFrame) -> pd.DataFrame:
    """Per (game_id, venue): tracked events in the team's offensive, neutral and defensive zone. The tracker
    writes each event's zone from the event team's side ('o', 'n', 'd'); the other team sees it mirrored."""
    ev = r.events.loc[r.events["team_venue"].isin(["home", "away"]) & r.events["zone"].isin(["o", "n", "d"]),
                      ["game_id", "team_venue", "zone"]]
    mirror = ev.assign(team_venue=ev["team_venue"].map({"home": "away", "away": "home"}),
                       zone=ev["zone"].map({"o": "d", "d": "o", "n": "n"}))
    both = pd.concat([ev, mirror], ignore_index=True)
    c = both.groupby(["game_id", "team_venue", "zone"]).size().unstack(fill_value=0)
    for z in ("o", "n", "d"):
        if z not in c.columns:
            c[z] = 0
    c = c.rename(columns={"o": "offensive_zone_events", "n": "neutral_zone_events",
                          "d": "defensive_zone_events"}).reset_index().rename(columns={"team_venue": "venue"})
    total = c["offensive_zone_events"] + c["neutral_zone_events"] + c["defensive_zone_events"]
    for z in ("offensive", "neutral", "defensive"):
        c[f"{z}_zone_pct"] = pct(c[f"{z}_zone_events"], total)
    c["game_id"] = c["game_id"].astype("int64")
    teams = pd.concat([games[["game_id", "home_team_id"]].rename(columns={"home_team_id": "team_id"}).assign(
        venue="home"), games[["game_id", "away_team_id"]].rename(columns={"away_team_id": "team_id"}).assign(
        venue="away")], ignore_index=True)
    return c.merge(teams, on=["game_id", "venue"], how="left")
