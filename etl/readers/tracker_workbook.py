"""Tracker workbooks (<game_id>_tracking.xlsx): sheets 'events' and 'shifts' to canonical frames.

Two column layouts exist; the layout is detected from the columns, never from the file name:

- derived layout: input columns end in '_' and are typed once per event (on the event's first row), with
  formula-derived columns beside them (``event_index_`` present). The derived columns are not trusted:
  several workbooks were saved without recalculation, so they are empty. Everything is rebuilt from the
  input columns (event attributes forward-filled within the event, clocks forward-filled within the
  period, players of an event that has none copied from the first event of its linked chain).
- slim layout: every row repeats the event's input columns, with ``strength``, ``is_highlight`` and
  ``player_name`` (no ``event_index_``; the event is ``event_index``).

In both, one row is one player in an event; ``role_abrev_binary_`` marks the event team's players
(1 / 'e') against the opponents (blank / 'o').
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from etl.canonical import (
    EVENT_COLUMNS,
    EVENT_PLAYER_COLUMNS,
    ROSTER_COLUMNS,
    SHIFT_COLUMNS,
    SHIFT_PLAYER_COLUMNS,
    TrackedGame,
    check_shift_clocks,
    empty,
    normalise_detail,
    typed,
)
from etl.issues import Issues
from etl.readers.errors import InputError
from etl.readers.limits import workbook_sheet_names
from etl.readers.sheets import numeric, open_workbook, read_sheet, require_columns, text

EVENT_INPUTS = ["event_type_", "team_", "period", "player_game_number_", "role_abrev_binary_"]
SHIFT_INPUTS = ["Period", "shift_start_min", "shift_start_sec", "shift_end_min", "shift_end_sec"]
SHIFT_SLOT_COLUMNS = {
    "F1": "forward_1", "F2": "forward_2", "F3": "forward_3", "D1": "defense_1", "D2": "defense_2",
    "X": "xtra", "G": "goalie",
}
_EVENT_SIDE = {"1": "event", "1.0": "event", "e": "event", "o": "opp", "0": "opp", "0.0": "opp"}
_SUCCESS = {"s": True, "1": True, "1.0": True, "true": True, "u": False, "0": False, "0.0": False, "false": False}


EVENT_WANTED = {
    "event_index_", "event_index", "event_type_", "event_detail_", "event_detail_2_", "event_successful_", "team_",
    "event_team_zone_", "period", "event_start_min_", "event_start_sec_", "event_end_min_", "event_end_sec_",
    "linked_event_index_", "strength", "event_start_min", "event_start_sec", "event_end_min", "event_end_sec",
    "player_game_number_", "player_game_number", "role_abrev_binary_", "play_detail1_", "play_detail2_",
    "play_detail_successful_", "game_id", "player_role", "is_highlight", "player_name",
}


def detect_layout(columns: pd.Index | list[str]) -> str:
    cols = set(columns)
    if "event_index_" in cols:
        return "workbook-derived"
    if "event_index" in cols and ("player_role" in cols or "strength" in cols):
        return "workbook-slim"
    return "unknown"


def is_tracker_workbook(path: Path) -> bool:
    """True when the workbook has an 'events' sheet (the league workbook has none). Only the zip's directory
    and workbook.xml are read: nothing the file declares is expanded in the calling process."""
    try:
        return "events" in workbook_sheet_names(path)
    except InputError:
        return True  # let the reader report the problem for this game


def read_tracker_workbook(path: Path) -> TrackedGame:
    path = Path(path)
    wb = open_workbook(path)
    raw = read_sheet(wb, path, "events", wanted=EVENT_WANTED)
    layout = detect_layout(raw.columns)
    if layout == "unknown":
        raise InputError(
            f"tracking file {path.name}: sheet 'events' matches no tracker layout "
            "(lacks column 'event_index_' of the derived layout and 'event_index' of the slim layout)"
        )
    require_columns(raw, EVENT_INPUTS, path, "events")
    issues = Issues()
    game_id = _game_id(raw, path, issues)
    raw_shifts = read_sheet(wb, path, "shifts", required=False)

    events, players = _events(raw, layout, game_id, path, issues)
    if raw_shifts is None:
        issues.add("missing_sheet", f"{path.name} has no 'shifts' sheet", "game kept without shifts",
                   game_id=game_id, file=path.name, sheet="shifts")
        shifts, shift_players = empty(SHIFT_COLUMNS), empty(SHIFT_PLAYER_COLUMNS)
    else:
        shifts, shift_players = read_shifts_sheet(raw_shifts, game_id, path, issues)
    return TrackedGame(
        game_id=game_id, source_file=path.name, format=layout, events=events, event_players=players,
        shifts=shifts, shift_players=shift_players, roster=empty(ROSTER_COLUMNS), issues=issues,
    )


def _game_id(raw: pd.DataFrame, path: Path, issues: Issues) -> int:
    """The game id: the file name's leading digits (<game_id>_tracking.xlsx), else the sheet's game_id.

    The sheet's game_id is a formula column and is stale in workbooks copied from another game, so a
    disagreement is reported and the file name wins.
    """
    from_name = re.match(r"(\d+)", path.name)
    in_sheet = numeric(raw, "game_id").dropna()
    sheet_id = int(in_sheet.iloc[0]) if len(in_sheet) else None
    if from_name:
        gid = int(from_name.group(1))
        if sheet_id is not None and sheet_id != gid:
            issues.add("game_id_mismatch", f"{path.name}: column game_id says {sheet_id}, file name says {gid}",
                       f"used game {gid} from the file name (the column is a stale formula)", game_id=gid,
                       file=path.name, sheet="events", column="game_id")
        return gid
    if sheet_id is not None:
        return sheet_id
    raise InputError(f"tracking file {path.name}: no game id in the file name and no game_id column value")


def _events(
    raw: pd.DataFrame, layout: str, game_id: int, path: Path, issues: Issues
) -> tuple[pd.DataFrame, pd.DataFrame]:
    fname = path.name
    id_col = "event_index_" if layout == "workbook-derived" else "event_index"
    event_id = numeric(raw, id_col)
    jersey = numeric(raw, "player_game_number_")
    etype = text(raw, "event_type_")
    has_data = jersey.notna() | etype.notna()
    orphan = event_id.isna() & has_data
    if orphan.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": fname, "sheet": "events", "row": raw.loc[orphan, "_row"],
            "column": id_col, "severity": "warning", "category": "row_without_event_index",
            "message": "row has event data but no event index", "action": "row dropped",
        }))
    keep = event_id.notna()
    df = raw.loc[keep].copy()
    df["event_id"] = event_id[keep].astype("int64")
    if layout == "workbook-derived":
        df["event_id"] = _split_reused_indexes(df, game_id, fname, id_col, issues)
    df["jersey"] = jersey[keep]
    bad_jersey = df["player_game_number_"].notna() & df["jersey"].isna()
    if bad_jersey.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": fname, "sheet": "events", "row": df.loc[bad_jersey, "_row"],
            "column": "player_game_number_", "severity": "warning", "category": "bad_value",
            "message": "jersey number is not a number: " + df.loc[bad_jersey, "player_game_number_"].astype(str),
            "action": "player row kept without a jersey",
        }))

    # ---- event level: first non-null value of each input column within the event
    df["period_n"] = numeric(df, "period")
    bad_period = df["period"].notna() & df["period_n"].isna()
    if bad_period.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": fname, "sheet": "events", "row": df.loc[bad_period, "_row"],
            "column": "period", "severity": "warning", "category": "bad_value",
            "message": "period is not a number: " + df.loc[bad_period, "period"].astype(str),
            "action": "period taken from the event's other rows or left empty",
        }))
    cols = {
        "event_type": text(df, "event_type_"), "event_detail": normalise_detail(text(df, "event_detail_")),
        "event_detail_2": normalise_detail(text(df, "event_detail_2_")),
        "success_raw": text(df, "event_successful_"), "team_raw": text(df, "team_"),
        "zone": text(df, "event_team_zone_"), "period": df["period_n"],
        "start_min": numeric(df, "event_start_min_"), "start_sec": numeric(df, "event_start_sec_"),
        "end_min": numeric(df, "event_end_min_"), "end_sec": numeric(df, "event_end_sec_"),
        "linked": numeric(df, "linked_event_index_"), "strength": text(df, "strength"),
        "d_start_min": numeric(df, "event_start_min"), "d_start_sec": numeric(df, "event_start_sec"),
        "d_end_min": numeric(df, "event_end_min"), "d_end_sec": numeric(df, "event_end_sec"),
        "row": df["_row"],
    }
    frame = pd.DataFrame(cols)
    frame["event_id"] = df["event_id"].to_numpy()
    ev = frame.groupby("event_id", sort=False).first()
    ev["row"] = frame.groupby("event_id", sort=False)["row"].min()
    ev = ev.reset_index()
    if layout == "workbook-derived":
        ev = ev.sort_values("row", kind="stable").reset_index(drop=True)
    no_period = ev["period"].isna() & ev["event_type"].notna()
    ev["period"] = ev["period"].ffill() if layout == "workbook-derived" else ev["period"]
    if no_period.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": fname, "sheet": "events", "row": ev.loc[no_period, "row"],
            "column": "period", "severity": "warning", "category": "missing_period",
            "message": "event has no period", "action": "period carried from the previous event",
        }))
    # clocks: a clock typed on the event wins; else the workbook's derived clock (when it was
    # recalculated); else minutes and seconds carried forward within the period.
    grp = ev["period"].fillna(-1)
    typed_start = ev["start_min"] * 60 + ev["start_sec"]
    start_min = ev["start_min"].groupby(grp).ffill()
    start_sec = ev["start_sec"].groupby(grp).ffill()
    carried = start_min * 60 + start_sec
    derived_start = ev["d_start_min"] * 60 + ev["d_start_sec"]
    ev["clock_start_s"] = typed_start.fillna(derived_start).fillna(carried).round()
    end_min = ev["end_min"].where(ev["end_min"].notna() | ev["end_sec"].isna(),
                                  np.where(ev["end_sec"] <= start_sec, start_min, start_min - 1))
    derived_end = ev["d_end_min"] * 60 + ev["d_end_sec"]
    ev["clock_end_s"] = (end_min * 60 + ev["end_sec"]).fillna(derived_end).round()
    ev["team_venue"] = ev["team_raw"].str.lower().str[0].map({"h": "home", "a": "away"})
    ev["success"] = ev["success_raw"].str.lower().map(_SUCCESS)
    ev["linked_event_id"] = ev["linked"]
    ev["game_id"] = game_id
    ev["puck_x"] = np.nan
    ev["puck_y"] = np.nan
    events = typed(ev, EVENT_COLUMNS)

    # ---- player level
    side_raw = df["role_abrev_binary_"].astype("str").str.strip().str.lower()
    df["side"] = side_raw.map(_EVENT_SIDE).fillna("opp")
    df["pos"] = df.groupby("event_id", sort=False).cumcount()
    if layout == "workbook-derived":
        df = _inherit_linked_players(df, ev)
        derived = numeric(df, "player_game_number")
        df["jersey"] = df["jersey"].fillna(derived.where(df["player_game_number_"].isna()))
    p = df.loc[df["jersey"].notna()].copy()
    dup = p.duplicated(["event_id", "jersey", "side"], keep="first")
    if dup.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": fname, "sheet": "events", "row": p.loc[dup, "_row"],
            "column": "player_game_number_", "severity": "warning", "category": "duplicate_row",
            "message": "player listed twice in the same event (duplicated row)", "action": "duplicate dropped",
        }))
        p = p.loc[~dup]
    p["role_number"] = p.groupby(["event_id", "side"], sort=False).cumcount() + 1
    p["seq"] = p.groupby("event_id", sort=False).cumcount() + 1
    venue = p["event_id"].map(ev.set_index("event_id")["team_venue"])
    other = venue.map({"home": "away", "away": "home"})
    p["team_venue"] = np.where(p["side"] == "event", venue, other)
    p["play_detail_1"] = text(p, "play_detail1_")
    p["play_detail_2"] = text(p, "play_detail2_")
    p["play_success"] = text(p, "play_detail_successful_")
    p["game_id"] = game_id
    p["row"] = p["_row"]
    players = typed(p, EVENT_PLAYER_COLUMNS)
    return events, players


def _split_reused_indexes(df: pd.DataFrame, game_id: int, fname: str, id_col: str, issues: Issues) -> pd.Series:
    """Event ids with every separate block of rows that reuses an event index made an event of its own.

    An event's rows are consecutive; a separate block of rows with the same index (game 18987: 383, 834-838)
    is another event typed with a stale index, so merging it would mix two events' players and details. The
    index stays with its first block that names an event type (else its first block); every other block gets
    a new id after the file's largest index, and is reported (``event_index_reused``)."""
    ids = df["event_id"]
    block = ids.ne(ids.shift()).cumsum()
    typed_block = block.where(text(df, "event_type_").notna())
    home = typed_block.groupby(ids).transform("min").fillna(block.groupby(ids).transform("min"))
    reused = block != home
    if not reused.any():
        return ids
    blocks = block[reused]
    new_ids = int(ids.max()) + pd.Series(pd.factorize(blocks)[0] + 1, index=blocks.index)
    out = ids.copy()
    out[reused] = new_ids
    rows = df.loc[reused, "_row"]
    span = rows.groupby(blocks).agg(["min", "max"])
    first = df.loc[~reused, "_row"].groupby(ids[~reused]).min()  # the index's own block
    old_id = ids[reused].groupby(blocks).first()
    new_id = new_ids.groupby(blocks).first()
    issues.add_frame(pd.DataFrame({
        "game_id": game_id, "file": fname, "sheet": "events", "row": span["min"].to_numpy(), "column": id_col,
        "severity": "warning", "category": "event_index_reused",
        "message": ("event index " + old_id.astype(str) + " is reused by rows " + span["min"].astype(str) + "-"
                    + span["max"].astype(str) + ", apart from the event's own rows (from row "
                    + old_id.map(first).astype(str) + ")").to_numpy(),
        "action": ("rows read as a separate event " + new_id.astype(str)).to_numpy(),
    }))
    return out


def _inherit_linked_players(df: pd.DataFrame, ev: pd.DataFrame) -> pd.DataFrame:
    """Events typed without players take, row by row, the players of the first event of their linked chain."""
    linked = df["event_id"].map(ev.set_index("event_id")["linked_event_id"])
    has_any = df["jersey"].notna().groupby(df["event_id"]).transform("any")
    need = df["jersey"].isna() & linked.notna() & ~has_any
    if not need.any():
        return df
    typed_rows = df.loc[df["jersey"].notna()].assign(link=linked[df["jersey"].notna()])
    typed_rows = typed_rows.loc[typed_rows["link"].notna()]
    anchor = typed_rows.groupby("link")["event_id"].min()
    donors = typed_rows.loc[typed_rows["event_id"].isin(anchor.values)]
    donor_map = donors.set_index(["event_id", "pos"])["jersey"]
    donor_side = donors.set_index(["event_id", "pos"])["side"]
    keys = pd.MultiIndex.from_arrays([linked[need].map(anchor), df.loc[need, "pos"]])
    df.loc[need, "jersey"] = donor_map.reindex(keys).to_numpy()
    df.loc[need, "side"] = pd.Series(donor_side.reindex(keys).to_numpy(), index=df.index[need]).fillna(
        df.loc[need, "side"])
    return df


def read_shifts_sheet(
    raw: pd.DataFrame, game_id: int, path: Path, issues: Issues
) -> tuple[pd.DataFrame, pd.DataFrame]:
    fname = path.name
    require_columns(raw, SHIFT_INPUTS, path, "shifts")
    slot_cols = [f"{side}_{col}" for side in ("home", "away") for col in SHIFT_SLOT_COLUMNS.values()]
    skater_cols = [c for c in slot_cols if c in raw.columns and not c.endswith("goalie")]
    clocks = raw[["shift_start_min", "shift_start_sec", "shift_end_min", "shift_end_sec"]].apply(
        pd.to_numeric, errors="coerce")
    skaters = raw[skater_cols].apply(pd.to_numeric, errors="coerce") if skater_cols else pd.DataFrame(index=raw.index)
    template = clocks.isna().all(axis=1) & (skaters.isna().all(axis=1) | (skaters.fillna(0) == 0).all(axis=1))
    df = raw.loc[~template].copy()
    clocks = clocks.loc[~template]
    sid = numeric(df, "shift_index")
    df["shift_id"] = sid.where(sid.notna(), df["_row"] + 100000)
    dup = df.duplicated("shift_id", keep="first")
    if dup.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": fname, "sheet": "shifts", "row": df.loc[dup, "_row"],
            "column": "shift_index", "severity": "warning", "category": "duplicate_row",
            "message": "shift index appears twice", "action": "later row dropped",
        }))
        df, clocks = df.loc[~dup], clocks.loc[~dup]
    df["period"] = numeric(df, "Period")
    no_period = df["period"].isna()
    if no_period.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": fname, "sheet": "shifts", "row": df.loc[no_period, "_row"],
            "column": "Period", "severity": "warning", "category": "missing_period",
            "message": "shift row has no period", "action": "shift kept with an empty period (counts in TOI)",
        }))
    df["clock_start_s"] = (clocks["shift_start_min"] * 60 + clocks["shift_start_sec"]).round()
    df["clock_end_s"] = (clocks["shift_end_min"] * 60 + clocks["shift_end_sec"]).round()
    bad_clock = df["clock_start_s"].isna() | df["clock_end_s"].isna()
    if bad_clock.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": fname, "sheet": "shifts", "row": df.loc[bad_clock, "_row"],
            "column": "shift_start_min", "severity": "warning", "category": "missing_clock",
            "message": "shift row lacks a start or end clock", "action": "shift kept without duration",
        }))
    df["start_type"] = text(df, "shift_start_type")
    df["stop_type"] = text(df, "shift_stop_type")
    df["game_id"] = game_id
    df["row"] = df["_row"]
    shifts = check_shift_clocks(typed(df, SHIFT_COLUMNS), game_id, fname, "shifts", issues)

    parts = []
    for side in ("home", "away"):
        for slot, col in SHIFT_SLOT_COLUMNS.items():
            name = f"{side}_{col}"
            if name not in df.columns:
                continue
            parts.append(pd.DataFrame({
                "game_id": game_id, "shift_id": df["shift_id"].to_numpy(), "team_venue": side, "slot": slot,
                "jersey": pd.to_numeric(df[name], errors="coerce").to_numpy(),
            }))
    sp = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(SHIFT_PLAYER_COLUMNS))
    sp = sp.loc[sp["jersey"].notna() & (sp["jersey"] >= 0)]
    return shifts, typed(sp, SHIFT_PLAYER_COLUMNS)
