"""Canonical frames every reader produces, whatever the input format, and clock parsing.

Per game, a reader returns a ``TrackedGame`` holding:

- events: one row per event (EVENT_COLUMNS)
- event_players: one row per player in an event (EVENT_PLAYER_COLUMNS); side 'event' or 'opp'
- shifts: one row per shift (SHIFT_COLUMNS)
- shift_players: one row per player on the ice in a shift (SHIFT_PLAYER_COLUMNS)
- roster: jersey -> player_id from the tracker file itself (JSON rosters; empty for workbooks)
- xy: every recorded point of the puck's and the players' paths in an event (XY_COLUMNS; JSON 25.0 only);
  a player's points carry the ``seq`` of the player's event_players row

Clocks are seconds remaining in the period (the game clock counts down). Team sides are 'home' / 'away'
as the tracker recorded them; builders map them to team ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from etl.issues import Issues
from etl.summary import tracked_summary

EVENT_COLUMNS = {
    "game_id": "Int64", "event_id": "Int64", "period": "Int64", "clock_start_s": "float64",
    "clock_end_s": "float64", "event_type": "str", "event_detail": "str", "event_detail_2": "str",
    "success": "boolean", "team_venue": "str", "zone": "str", "linked_event_id": "Int64", "strength": "str",
    "puck_x": "float64", "puck_y": "float64", "row": "Int64",
    "is_highlight": "boolean", "sequence_id": "Int64", "play_id": "Int64",  # JSON only (isHighlight, ...Idx)
}
EVENT_PLAYER_COLUMNS = {
    "game_id": "Int64", "event_id": "Int64", "seq": "Int64", "side": "str", "role_number": "Int64",
    "team_venue": "str", "jersey": "Int64", "play_detail_1": "str", "play_detail_2": "str",
    "play_success": "str", "player_id": "str", "row": "Int64",
}
SHIFT_COLUMNS = {
    "game_id": "Int64", "shift_id": "Int64", "period": "Int64", "clock_start_s": "float64",
    "clock_end_s": "float64", "start_type": "str", "stop_type": "str", "row": "Int64",
}
SHIFT_PLAYER_COLUMNS = {
    "game_id": "Int64", "shift_id": "Int64", "team_venue": "str", "slot": "str", "jersey": "Int64",
    "player_id": "str",
}
ROSTER_COLUMNS = {
    "game_id": "Int64", "team_venue": "str", "jersey": "Int64", "player_id": "str", "player_name": "str",
    "position": "str",
}

XY_COLUMNS = {
    "game_id": "Int64", "event_id": "Int64", "subject": "str", "seq": "Int64", "point_number": "Int64",
    "x": "float64", "y": "float64",
}

SHIFT_SLOTS = ("F1", "F2", "F3", "D1", "D2", "X", "G")


_NULL_TEXT = ["", "nan", "None"]


def typed(df: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """Return df with exactly ``columns`` (missing ones filled with nulls) cast to their dtypes.

    Readers call this for every table of every file, so it skips realigning a frame that already has a
    0..n-1 index, and text is worked out once per distinct value (``per_distinct``). That also leaves one
    string object per distinct value, the cells pointing to it: a parsed file holds a new object per cell
    although a column repeats a few hundred values ('Pass', 'home', player ids), so this halves a game's
    canonical frames in memory and shrinks the cache's pickles (pickle writes a shared object once)."""
    out = {}
    n = len(df)
    aligned = isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
    for name, dtype in columns.items():
        s = df[name] if name in df.columns else pd.Series([None] * n, dtype=object)
        if not aligned:
            s = s.reset_index(drop=True)
        if dtype == "Int64":
            s = pd.to_numeric(s, errors="coerce")
            if pd.api.types.is_float_dtype(s.dtype):
                s = s.where(s == s.round())
            s = s.astype("Int64")
        elif dtype == "float64":
            s = pd.to_numeric(s, errors="coerce").astype("float64")
        elif dtype == "boolean":
            s = s.astype("boolean")
        else:
            s = per_distinct(s, _as_text)
        out[name] = s
    return pd.DataFrame(out, index=pd.RangeIndex(n), copy=False)


def _as_text(s: pd.Series) -> pd.Series:
    s = s.astype("str")
    blank = s.isin(_NULL_TEXT)
    return s.where(~blank) if blank.any() else s


def empty(columns: dict[str, str]) -> pd.DataFrame:
    return typed(pd.DataFrame(), columns)


@dataclass
class TrackedGame:
    """What a reader produced for one game from one tracker file."""

    game_id: int
    source_file: str
    format: str  # 'workbook-derived', 'workbook-slim', 'json-23.8', ...
    events: pd.DataFrame
    event_players: pd.DataFrame
    shifts: pd.DataFrame
    shift_players: pd.DataFrame
    roster: pd.DataFrame
    issues: Issues = field(default_factory=Issues)
    xy: pd.DataFrame = field(default_factory=lambda: empty(XY_COLUMNS))
    home_team_name: str | None = None
    away_team_name: str | None = None
    home_attacks_right_p1: bool | None = None
    videos: list[dict] = field(default_factory=list)  # {video_key, video_type_id, video_url, period_1_start}
    _summary: pd.DataFrame | None = field(default=None, repr=False)  # see ``summary``
    digest: str | None = None  # the file's content hash, set by the pipeline

    @property
    def summary(self) -> pd.DataFrame:
        """Per (team_venue, jersey) goals, assists, shots and TOI (summary.tracked_summary), computed on first
        use: only games read from two files compare them, so most files never need it."""
        if self._summary is None:
            self._summary = tracked_summary(self.events, self.event_players, self.shifts, self.shift_players)
        return self._summary

    @summary.setter
    def summary(self, value: pd.DataFrame | None) -> None:
        self._summary = value

    @property
    def detail_score(self) -> tuple[int, int, int]:
        """How much this file tracked: (has real shifts, event-player rows, events)."""
        return (int(len(self.shifts) > 1), len(self.event_players), len(self.events))


_CLOCK = re.compile(r"^\s*(\d{1,3}):(\d{1,2}(?:\.\d*)?)(?::(\d{1,2}(?:\.\d*)?))?\s*$")


def per_distinct(values: pd.Series, func) -> pd.DataFrame | pd.Series:
    """``func(values)`` (a frame or series) computed once per distinct value, spread back to ``values``' index.

    Tracker columns repeat a few values over thousands of rows (player roles), and the regex is the costly
    part; a missing value gets NaN (what ``func`` gives for it). Only for text: other cells can be equal
    but print differently (5 == 5.0 == True), so a column holding any is worked out row by row."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        return func(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    result = func(pd.Series(uniques.to_numpy(dtype=object), dtype=object))
    spread = result.reindex(codes)  # -1 (missing) is not a label: a row of NaN
    spread.index = values.index
    if isinstance(spread, pd.Series):
        spread.name = values.name
    return spread


_KNOWN_CLOCKS: dict[str, float] = {}  # clock text -> seconds: a season repeats the same ~1100 clocks


def parse_clock(values: pd.Series) -> pd.Series:
    """Parse 'MM:SS' (or 'H:MM:SS') clock strings to whole seconds; unparseable values become NaN.

    Trackers write the period's last second as '00:0.01'; clocks are rounded to the second. Each distinct
    clock is parsed once per process (remembered), so a game costs a hash lookup per row.
    """
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells (a malformed file): every row
        return _parse_clock(values)
    distinct = uniques.to_numpy(dtype=object)
    seconds = {v: _KNOWN_CLOCKS.get(v) for v in distinct if type(v) is str}
    new = [v for v in distinct if seconds.get(v) is None]
    if new:
        parsed = dict(zip(new, _parse_clock(pd.Series(new, dtype=object)).to_numpy()))
        seconds.update(parsed)
        if len(_KNOWN_CLOCKS) > 100_000:
            _KNOWN_CLOCKS.clear()
        _KNOWN_CLOCKS.update((v, x) for v, x in parsed.items() if type(v) is str)
    table = np.array([seconds[v] for v in distinct] + [np.nan], dtype="float64")
    return pd.Series(table[codes], index=values.index, dtype="float64")


def _parse_clock(values: pd.Series) -> pd.Series:
    s = values.astype("str")
    parts = s.str.extract(_CLOCK)
    a = pd.to_numeric(parts[0], errors="coerce")
    b = pd.to_numeric(parts[1], errors="coerce")
    c = pd.to_numeric(parts[2], errors="coerce")
    three = c.notna()
    seconds = np.where(three, a * 3600 + b * 60 + c, a * 60 + b)
    return pd.Series(np.round(seconds), index=values.index, dtype="float64")


def normalise_detail(values: pd.Series) -> pd.Series:
    """Tracker generations spell details 'Pass-Completed' or 'Pass_Completed'; use the workbook's '_' form.
    Worked out once per distinct detail."""
    return per_distinct(values, _normalise_detail)


def _normalise_detail(values: pd.Series) -> pd.Series:
    s = values.astype("str").str.strip()
    s = s.where(~s.isin(["", "nan", "None"]))
    return s.str.replace("-", "_", regex=False)


def check_shift_clocks(shifts: pd.DataFrame, game_id: int, file: str, sheet: str, issues: Issues) -> pd.DataFrame:
    """Shifts whose clock runs backwards lose their end (no duration); a shift that ends after the next shift
    of its period started is cut at that start, so no second is counted twice. Both are reported."""
    if shifts.empty:
        return shifts
    s = shifts.copy()
    backwards = s["clock_end_s"] > s["clock_start_s"]
    if backwards.any():
        d = s.loc[backwards]
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": file, "sheet": sheet, "row": d["row"], "column": "end clock",
            "category": "shift_clock_invalid", "severity": "warning",
            "message": "shift " + d["shift_id"].astype(str) + " ends (" + d["clock_end_s"].astype(str)
            + " s left) after it starts (" + d["clock_start_s"].astype(str) + " s left)",
            "action": "end clock dropped: the shift counts no time on ice",
        }))
        s.loc[backwards, "clock_end_s"] = np.nan
    valid = s["clock_start_s"].notna() & s["clock_end_s"].notna() & s["period"].notna()
    v = s.loc[valid].sort_values(["period", "shift_id"])
    next_start = v.groupby("period")["clock_start_s"].shift(-1)
    overlap = next_start.notna() & (v["clock_end_s"] < next_start) & (next_start <= v["clock_start_s"])
    if overlap.any():
        d = v.loc[overlap]
        issues.add_frame(pd.DataFrame({
            "game_id": game_id, "file": file, "sheet": sheet, "row": d["row"], "column": "end clock",
            "category": "shift_clock_invalid", "severity": "warning",
            "message": "shift " + d["shift_id"].astype(str) + " ends at " + d["clock_end_s"].astype(str)
            + " s left but the next shift starts at " + next_start[overlap].astype(str) + " s left",
            "action": "shift cut at the next shift's start",
        }))
        s.loc[d.index, "clock_end_s"] = next_start[overlap]
    return s
