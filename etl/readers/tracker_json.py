"""Tracker JSON exports (<game_id>.json, versions 23.8 and 25.0) to canonical frames.

One object per game: ``gameId``, ``rosters`` (home/away lists of id, num, name, pos), ``events`` (idx, period,
type, team, zone, success, detail1/2, start_time/end_time as period clock, strength, linkedEventIdx,
``players`` with role event_player_N / opp_player_N (25.0 also event_team_player_N) and xy, ``puckXY``),
``shifts`` (period, clocks, start/stop type, strength, home/away slots F1 F2 F3 D1 D2 G X).
"""

from __future__ import annotations

import json
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
    SHIFT_SLOTS,
    XY_COLUMNS,
    TrackedGame,
    check_shift_clocks,
    empty,
    normalise_detail,
    parse_clock,
    per_distinct,
    typed,
)
from etl.issues import Issues
from etl.readers.errors import InputError
from etl.readers.limits import check_json_bytes, check_json_records

_SUCCESS = {True: True, False: False, "true": True, "false": False, "s": True, "u": False}
_POS = {"F": "Forward", "D": "Defense", "G": "Goalie"}


def read_json_document(path: Path) -> dict:
    """The export's top-level object, once its size, nesting and record counts are within etl.readers.limits."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"tracking file {path.name}: cannot be read ({exc})") from exc
    check_json_bytes(data, path.name)
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as exc:
        raise InputError(f"tracking file {path.name}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"tracking file {path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except RecursionError as exc:
        raise InputError(f"tracking file {path.name}: nested too deeply to read") from exc
    if not isinstance(doc, dict):
        raise InputError(f"tracking file {path.name}: top level is not an object")
    check_json_records(doc, path.name)
    return doc


def json_game_id(path: Path) -> int | None:
    """The export's gameId (None when absent or not a number); InputError when the file is unusable."""
    gid = read_json_document(Path(path)).get("gameId")
    try:
        return int(gid)
    except (TypeError, ValueError):
        return None


def is_tracker_json(doc: dict) -> bool:
    return "gameId" in doc or "events" in doc


def read_tracker_json(path: Path, doc: dict | None = None) -> TrackedGame:
    path = Path(path)
    doc = read_json_document(path) if doc is None else doc
    issues = Issues()
    game_id = _game_id(doc, path)
    version = str(doc.get("version", "unknown"))
    for key in ("events", "shifts", "rosters"):
        if key in doc and not isinstance(doc[key], (list, dict)):
            raise InputError(f"tracking file {path.name}: key {key!r} has type {type(doc[key]).__name__}")
    raw_events = doc.get("events") or []
    if "events" not in doc:
        issues.add("missing_key", f"{path.name} has no 'events'", "game read without events",
                   game_id=game_id, file=path.name, column="events")
    events, players, xy = _events(raw_events, game_id, path, issues)
    shifts, shift_players = _shifts(doc.get("shifts") or [], game_id, path, issues)
    roster = _roster(doc.get("rosters") or {}, game_id)
    return TrackedGame(
        game_id=game_id, source_file=path.name, format=f"json-{version}", events=events,
        event_players=players, shifts=shifts, shift_players=shift_players, roster=roster, issues=issues, xy=xy,
        home_team_name=doc.get("homeTeam"), away_team_name=doc.get("awayTeam"),
        home_attacks_right_p1=doc.get("homeAttacksRightP1"), videos=_videos(doc),
    )


def _videos(doc: dict) -> list[dict]:
    """The export's video links (``videos``: id, url, type) with period 1's start in the video (seconds)."""
    timing = doc.get("videoTiming") if isinstance(doc.get("videoTiming"), dict) else {}
    offsets = timing.get("periodOffsets") if isinstance(timing.get("periodOffsets"), dict) else {}
    start = offsets.get("1")
    return [{"video_key": str(v.get("id") or v.get("video_id") or v.get("url")), "video_type_id": v.get("type"),
             "video_url": v.get("url"), "period_1_start": start if isinstance(start, (int, float)) else None}
            for v in (doc.get("videos") or []) if isinstance(v, dict) and v.get("url")]


def _game_id(doc: dict, path: Path) -> int:
    gid = doc.get("gameId")
    try:
        return int(gid)
    except (TypeError, ValueError):
        m = re.match(r"(\d+)", path.name)
        if m:
            return int(m.group(1))
    raise InputError(f"tracking file {path.name}: 'gameId' is {gid!r} and the file name has no game id")


def _first_xy(points: pd.Series, axis: str) -> pd.Series:
    return points.map(lambda p: p[0].get(axis) if isinstance(p, list) and p and isinstance(p[0], dict) else None)


def _points(owner: pd.DataFrame, paths: pd.Series, subject: str, game_id: int) -> pd.DataFrame:
    """One row per point of each path (a list of {x, y, seq}), numbered in order from 1."""
    lists = paths.map(lambda v: [p for p in v if isinstance(p, dict)] if isinstance(v, list) else [])
    n = lists.map(len).to_numpy()
    if n.sum() == 0:
        return empty(XY_COLUMNS)
    flat = [p for ps in lists for p in ps]
    return typed(pd.DataFrame({
        "game_id": game_id, "event_id": np.repeat(owner["event_id"].to_numpy(), n), "subject": subject,
        "seq": np.repeat(owner["seq"].to_numpy(), n) if "seq" in owner.columns else None,
        "point_number": np.concatenate([np.arange(1, k + 1) for k in n]),
        "x": [p.get("x") for p in flat], "y": [p.get("y") for p in flat],
    }), XY_COLUMNS)


def _events(raw: list, game_id: int, path: Path, issues: Issues
            ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if not raw:
        return empty(EVENT_COLUMNS), empty(EVENT_PLAYER_COLUMNS), empty(XY_COLUMNS)
    ev = pd.DataFrame.from_records([e for e in raw if isinstance(e, dict)])
    for col in ("idx", "period", "type", "team", "zone", "success", "detail1", "detail2", "start_time",
                "end_time", "strength", "linkedEventIdx", "players", "puckXY", "isHighlight", "sequenceIdx",
                "playIdx"):
        if col not in ev.columns:
            ev[col] = None
    ev["event_id"] = pd.to_numeric(ev["idx"], errors="coerce")
    bad_id = ev["event_id"].isna()
    if bad_id.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": path.name, "sheet": "events", "row": ev.index[bad_id] + 1,
            "column": "idx", "category": "bad_value", "severity": "warning",
            "message": "event without a numeric idx", "action": "event dropped",
        }))
        ev = ev.loc[~bad_id]
    dup = ev.duplicated("event_id")
    if dup.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": path.name, "sheet": "events", "row": ev.index[dup] + 1,
            "column": "idx", "category": "duplicate_row", "severity": "warning",
            "message": "event idx appears twice", "action": "later event dropped",
        }))
        ev = ev.loc[~dup]
    ev["period"] = pd.to_numeric(ev["period"], errors="coerce")
    no_period = ev["period"].isna()
    if no_period.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": path.name, "sheet": "events", "row": ev.index[no_period] + 1,
            "column": "period", "category": "missing_period", "severity": "warning",
            "message": "event has no period", "action": "event kept with an empty period",
        }))
    out = pd.DataFrame({
        "game_id": game_id,
        "event_id": ev["event_id"],
        "period": ev["period"],
        "clock_start_s": parse_clock(ev["start_time"]),
        "clock_end_s": parse_clock(ev["end_time"]),
        "event_type": ev["type"],
        "event_detail": normalise_detail(ev["detail1"]),
        "event_detail_2": normalise_detail(ev["detail2"]),
        "success": ev["success"].map(lambda v: _SUCCESS.get(v, None) if isinstance(v, (bool, str)) else None),
        "team_venue": ev["team"].where(ev["team"].isin(["home", "away"])),
        "zone": ev["zone"],
        "linked_event_id": ev["linkedEventIdx"],
        "strength": ev["strength"],
        "puck_x": pd.to_numeric(_first_xy(ev["puckXY"], "x"), errors="coerce"),
        "puck_y": pd.to_numeric(_first_xy(ev["puckXY"], "y"), errors="coerce"),
        "row": ev.index + 1,
        "is_highlight": ev["isHighlight"].map(lambda v: v if isinstance(v, bool) else None),
        "sequence_id": ev["sequenceIdx"], "play_id": ev["playIdx"],
    })
    events = typed(out, EVENT_COLUMNS)

    pl = ev[["event_id", "players", "team"]].copy()
    pl["players"] = pl["players"].map(lambda v: v if isinstance(v, list) else [])
    pl = pl.explode("players", ignore_index=True)
    pl = pl.loc[pl["players"].map(lambda v: isinstance(v, dict))]
    puck = _points(ev, ev["puckXY"], "puck", game_id)
    if pl.empty:
        return events, empty(EVENT_PLAYER_COLUMNS), puck
    recs = pd.DataFrame.from_records(pl["players"].tolist())
    for col in ("num", "team", "role", "playD1", "playD2", "playSuccess"):
        if col not in recs.columns:
            recs[col] = None
    recs["event_id"] = pl["event_id"].to_numpy()
    recs["event_team"] = pl["team"].to_numpy()
    role = per_distinct(recs["role"], lambda v: v.astype("str").str.extract(r"^(event|opp)\w*?_(\d+)$"))
    recs["side"] = role[0]
    recs["role_number"] = pd.to_numeric(role[1], errors="coerce")
    other = recs["event_team"].map({"home": "away", "away": "home"})
    inferred = np.where(recs["side"] == "opp", other, recs["event_team"])
    recs["team_venue"] = recs["team"].where(recs["team"].isin(["home", "away"]), inferred)
    recs["jersey"] = pd.to_numeric(recs["num"], errors="coerce")
    recs["play_detail_1"] = recs["playD1"]
    recs["play_detail_2"] = recs["playD2"]
    recs["play_success"] = recs["playSuccess"].map(lambda v: v if isinstance(v, str) else None)
    recs["player_id"] = recs["id"] if "id" in recs.columns else None
    recs["game_id"] = game_id
    recs["seq"] = recs.groupby("event_id", sort=False).cumcount() + 1
    xy = pd.concat([puck, _points(recs, recs["xy"] if "xy" in recs.columns else pd.Series(None, index=recs.index),
                                  "player", game_id)], ignore_index=True)
    bad = recs["side"].isna() | recs["jersey"].isna()
    if bad.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": path.name, "sheet": "events", "row": None, "column": "players",
            "category": "bad_value", "severity": "warning",
            "message": "event " + recs.loc[bad, "event_id"].astype(int).astype(str)
            + ": player entry without a usable role or number (role=" + recs.loc[bad, "role"].astype(str)
            + ", num=" + recs.loc[bad, "num"].astype(str) + ")",
            "action": "player entry dropped",
        }))
        recs = recs.loc[~bad]
    return events, typed(recs, EVENT_PLAYER_COLUMNS), xy


def _shifts(raw: list, game_id: int, path: Path, issues: Issues) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = [s for s in raw if isinstance(s, dict)]
    if not raw:
        return empty(SHIFT_COLUMNS), empty(SHIFT_PLAYER_COLUMNS)
    sh = pd.DataFrame.from_records(raw)
    for col in ("idx", "period", "start_time", "end_time", "start_type", "stop_type", "home", "away"):
        if col not in sh.columns:
            sh[col] = None
    sh["shift_id"] = pd.to_numeric(sh["idx"], errors="coerce").fillna(pd.Series(np.arange(len(sh)), index=sh.index))
    sh["period"] = pd.to_numeric(sh["period"], errors="coerce")
    no_period = sh["period"].isna()
    if no_period.any():
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": path.name, "sheet": "shifts", "row": sh.index[no_period] + 1,
            "column": "period", "category": "missing_period", "severity": "warning",
            "message": "shift has no period", "action": "shift kept with an empty period (counts in TOI)",
        }))
    shifts = typed(pd.DataFrame({
        "game_id": game_id, "shift_id": sh["shift_id"], "period": sh["period"],
        "clock_start_s": parse_clock(sh["start_time"]), "clock_end_s": parse_clock(sh["end_time"]),
        "start_type": sh["start_type"], "stop_type": sh["stop_type"], "row": sh.index + 1,
    }), SHIFT_COLUMNS)
    shifts = check_shift_clocks(shifts, game_id, path.name, "shifts", issues)
    # one row per (side, slot, shift), sides then slots in order; the cells are picked from the parsed
    # objects directly (14 slots x ~100 shifts: a pandas call per slot costs more than the picking)
    jersey, pid = [], []
    for side in ("home", "away"):
        slots = [v if isinstance(v, dict) else {} for v in sh[side].tolist()]
        for slot in SHIFT_SLOTS:
            cells = [d.get(slot) for d in slots]
            num = pd.Series([p.get("num") if isinstance(p, dict) else None for p in cells], dtype=object)
            jersey.append(pd.to_numeric(num, errors="coerce").to_numpy())
            pid.extend(p.get("id") if isinstance(p, dict) else None for p in cells)
    n = len(sh)
    sp = pd.DataFrame({
        "game_id": game_id, "shift_id": np.tile(sh["shift_id"].to_numpy(), 2 * len(SHIFT_SLOTS)),
        "team_venue": np.repeat(["home", "away"], len(SHIFT_SLOTS) * n),
        "slot": np.tile(np.repeat(SHIFT_SLOTS, n), 2),
        "jersey": np.concatenate(jersey), "player_id": np.array(pid, dtype=object),
    })
    sp = sp.loc[sp["jersey"].notna()]
    return shifts, typed(sp, SHIFT_PLAYER_COLUMNS)


def _roster(rosters: dict, game_id: int) -> pd.DataFrame:
    parts = []
    for side in ("home", "away"):
        entries = [p for p in (rosters.get(side) or []) if isinstance(p, dict)]
        if not entries:
            continue
        df = pd.DataFrame.from_records(entries)
        parts.append(pd.DataFrame({
            "game_id": game_id, "team_venue": side,
            "jersey": pd.to_numeric(df.get("num"), errors="coerce"),
            "player_id": df.get("id"), "player_name": df.get("name"),
            "position": df.get("pos", pd.Series(dtype=object)).map(_POS),
        }))
    if not parts:
        return empty(ROSTER_COLUMNS)
    return typed(pd.concat(parts, ignore_index=True), ROSTER_COLUMNS)
