"""Collecting data issues: every anomaly found in the inputs becomes a qa_data_issues row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

ISSUE_COLUMNS = ["game_id", "file", "sheet", "row", "column", "severity", "category", "message", "action"]


@dataclass
class Issues:
    """An append-only list of issues; ``frame()`` gives the qa_data_issues rows (without issue_id)."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        category: str,
        message: str,
        action: str,
        *,
        game_id: int | None = None,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        severity: str = "warning",
    ) -> None:
        self.rows.append(
            dict(game_id=game_id, file=file, sheet=sheet, row=row, column=column, severity=severity,
                 category=category, message=message, action=action)
        )

    def add_frame(self, df: pd.DataFrame) -> None:
        """Add many issues at once from a frame with (a subset of) ISSUE_COLUMNS."""
        if len(df):
            self.rows.extend(df.reindex(columns=ISSUE_COLUMNS).astype(object).where(df.notna(), None)
                             .to_dict("records"))

    def extend(self, other: "Issues") -> None:
        self.rows.extend(other.rows)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=ISSUE_COLUMNS)

    def __len__(self) -> int:
        return len(self.rows)
