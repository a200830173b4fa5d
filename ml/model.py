"""A fitted model as plain data: what it is, its coefficients and feature definitions (JSON-able), how it was
fitted, and how it did against its baselines on held-out data. Stored in the ml_models registry as JSON; a
model is re-created from this record alone (no pickles)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd


class UnknownEntity(LookupError):
    """An input names a team, player, season or game the model has not seen (the API answers 404)."""


class InvalidInput(ValueError):
    """An input is impossible (negative score, period 7, ...) (the API answers 422)."""


@dataclass
class Model:
    name: str
    params: dict                      # coefficients, feature definitions, lookup tables: JSON-able only
    hyperparameters: dict
    metrics: dict                     # {"held_out": ..., "model": {...}, "baselines": {name: {...}}}
    beats_baseline: bool | None       # None: not a prediction (similarity) or nothing to measure
    n_train: int
    data_hash: str
    trained_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat())
    notes: str = ""
    version: int | None = None

    def record(self) -> dict:
        """The registry row (ml_models columns; `model` is the name)."""
        row = to_json(asdict(self))
        row["model"] = row.pop("name")
        return row


def to_json(value):
    """numpy and pandas scalars to plain Python, NaN to None, recursively."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if np.isnan(v) or np.isinf(v) else v
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, dt.date)):
        return value.isoformat()
    return value


def frame_hash(*frames: pd.DataFrame) -> str:
    """The training data's identity: sha256 over the frames' row hashes (order and values)."""
    h = hashlib.sha256()
    for f in frames:
        h.update(",".join(map(str, f.columns)).encode())
        h.update(pd.util.hash_pandas_object(f, index=False).to_numpy().tobytes())
    return h.hexdigest()
