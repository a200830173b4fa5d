"""The old API's request models, field for field: what its clients send is accepted (nulls where it allowed
them, free `options` dicts, unknown top-level fields ignored as pydantic did there). JSON types are checked
as everywhere in our API (`[18969]`, not `["18969"]`). Values the old routes refused with 400 (an unknown
mode or source) are refused the same way by the adapters, with the same status."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from daemon.http.models import JobOut, JobSummaryOut
from handlers.etl import MAX_GAMES, GameId  # the same limits as our own models
from handlers.upload import UploadParams

class TriggerEtlRequest(BaseModel):
    """POST /api/etl/trigger (the old TriggerETLRequest)."""

    model_config = ConfigDict(extra="ignore", title="TriggerETLRequest")

    mode: str = Field(description="full, incremental, single or test.")
    game_ids: list[GameId] | None = Field(default=None, max_length=MAX_GAMES,
                                          description="Games to build (required for mode single); each in the "
                                                      "league schedule.")
    exclude_game_ids: list[GameId] | None = Field(default=None, max_length=MAX_GAMES,
                                                  description="Games to leave out; each in the league schedule.")
    source: str | None = Field(default="excel", description="excel (files) or supabase (staging tables; "
                                                            "'staging' is accepted too).")
    options: dict[str, Any] | None = Field(default_factory=dict, description="wipe, clean, validate, "
                                           "upload_to_supabase act; other keys are kept and reported as ignored.")


class UploadRequest(BaseModel):
    """POST /api/upload/to-supabase (the old UploadRequest, plus our own upload fields)."""

    model_config = ConfigDict(extra="ignore", title="UploadRequest", populate_by_name=True)

    tables: list[str] | None = Field(default=None, description="Catalog tables to load (wins over mode).")
    mode: str = Field(default="all", description="all, dims, facts, qa, basic, tracking (or ours: tables, pattern).")
    options: dict[str, Any] | None = Field(default_factory=dict, description="clean acts; other keys are "
                                           "kept and reported as ignored.")
    pattern: str | None = Field(default=None, description="Ours: a glob over catalog names (mode pattern).")
    dry_run: bool = Field(default=False, description="Ours: count what would be loaded; change nothing.")
    db_schema: str = UploadParams.model_fields["db_schema"]
    run_id: int | None = Field(default=None, description="Ours: the ETL run to load (default the newest).")
    local_output: bool = Field(default=False, description="Ours: load the host's output/ instead of a run.")


class GenerateSchemaRequest(BaseModel):
    """POST /api/upload/generate-schema (the body may be left out)."""

    model_config = ConfigDict(extra="ignore", title="GenerateSchemaRequest")

    options: dict[str, Any] | None = Field(default_factory=dict, description="Kept and reported as ignored.")


class UploadBlbTableRequest(BaseModel):
    """POST /api/staging/blb-tables/upload as JSON (the old UploadBLBTableRequest)."""

    model_config = ConfigDict(extra="ignore", title="UploadBLBTableRequest")

    table_name: str = Field(description="League table, e.g. dim_player (GET /api/staging/blb-tables/list).")
    data: list[dict[str, Any]] = Field(description="The rows.")
    replace: bool = Field(default=False, description="Replace the staged rows (default: append).")


class UpdateBlbTableRequest(BaseModel):
    """PUT /api/staging/blb-tables/update (the old UpdateBLBTableRequest)."""

    model_config = ConfigDict(extra="ignore", title="UpdateBLBTableRequest")

    table_name: str
    filter_column: str
    filter_value: Any
    updates: dict[str, Any]


class UploadTrackingRequest(BaseModel):
    """POST /api/staging/tracking/upload as JSON (the old UploadTrackingRequest): tracker rows of one game."""

    model_config = ConfigDict(extra="ignore", title="UploadTrackingRequest")

    game_id: int
    events: list[dict[str, Any]] | None = Field(default=None, description="Rows of the tracker's events sheet.")
    shifts: list[dict[str, Any]] | None = Field(default=None, description="Rows of the tracker's shifts sheet.")


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=10, ge=0, description="Jobs to return (at most 500 are sent).")
    status: str | None = Field(default=None, description="queued, running, completed, failed, cancelled (or "
                                                         "ours: pending, processing, uploading).")
    cursor: str | None = Field(default=None, max_length=200, description="From the previous answer's Link header.")


class ClearQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm: bool = Field(default=False, description="Must be true.")


class StagedRowsOut(JobOut):
    """A staging job, plus the old answer's fields."""

    model_config = ConfigDict(title="StagedRows")

    table_name: str
    staging_table: str
    rows_uploaded: int = Field(description="Rows handed to the staging job (it stages all of them or none).")
    rows_failed: int


class UpdatedRowsOut(JobOut):
    model_config = ConfigDict(title="UpdatedRows")

    table_name: str
    staging_table: str
    rows_updated: int | None = Field(description="Rows changed: null until the job completed (then also "
                                                 "in result.rows_updated).")


class ClearedOut(JobOut):
    model_config = ConfigDict(title="Cleared")

    table_name: str
    staging_table: str
    cleared: bool
    message: str


class TrackingRowsOut(JobOut):
    model_config = ConfigDict(title="TrackingRows")

    game_id: int
    events_uploaded: int
    shifts_uploaded: int


class BlbTableListOut(BaseModel):
    model_config = ConfigDict(title="BlbTableList")

    tables: list[str]
    count: int


class JobHistoryOut(RootModel[list[JobSummaryOut]]):
    """GET /api/etl/history: a plain list of jobs, newest first, as summaries (the old JobResponse's fields
    the portal reads: status, progress, step, tables_created, errors, times; read a job for params/result)."""

    model_config = ConfigDict(title="JobHistory")
