"""Response shapes of the API, as pydantic models. They exist for the OpenAPI document (so clients and
schemathesis check every answer against them); routes build plain dicts of the same shape, because the job
read is the hot path."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

JobStatus = Literal["pending", "running", "processing", "uploading", "completed", "failed", "cancelled"]
ACTIVE = ("pending", "running", "processing", "uploading")
ENDED = ("completed", "failed", "cancelled")


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where: 'body', 'query' or 'path', then the field names.")
    msg: str
    type: str


class ErrorOut(BaseModel):
    """Every error answer."""

    detail: str = Field(description="A sentence a person can read.")
    errors: list[FieldError] | None = Field(default=None, description="422 only: the field errors.")


class JobOut(BaseModel):
    """A job as every route answers it."""

    model_config = ConfigDict(title="Job")

    job_id: UUID
    kind: str
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    current_step: str | None
    params: dict[str, Any]
    result: Any = Field(description="What the handler returned (JSON), once completed.")
    error: str | None = Field(description="The last error, when failed or retrying.")
    errors: list[str] = Field(description="Every error message recorded in the job's history (level 'error'), "
                                          "then, for a cancelled job, why it was cancelled.")
    attempts: int
    cancel_requested: bool
    requested_by: str | None = Field(description="Who asked: a user id, apikey:<prefix>, 'api', 'cli', ...")
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None = Field(description="When the job ended (completed, failed or cancelled).")
    tables_created: int | None = Field(description="How many tables the job created or loaded (the seed API's "
                                                   "count); null until the handler reports them.")
    table_names: list[str] | None = Field(description="The names of those tables (result.tables_created).")


class JobSummaryOut(BaseModel):
    """A job in a list: what a list view shows, without params and result (which can be large); read
    /api/jobs/{job_id} for the whole job."""

    model_config = ConfigDict(title="JobSummary")

    job_id: UUID
    kind: str
    status: JobStatus
    progress: int = Field(ge=0, le=100)
    current_step: str | None
    error: str | None = Field(description="The last error, when failed or retrying.")
    attempts: int
    cancel_requested: bool
    requested_by: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    tables_created: int | None = Field(description="How many tables the job built (the old API's count).")
    errors: list[str] = Field(description="Every error message of the job's history, then the cancel reason.")


class JobListOut(BaseModel):
    model_config = ConfigDict(title="JobList")

    jobs: list[JobSummaryOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next (older) page; null on the last.")


class JobEventOut(BaseModel):
    model_config = ConfigDict(title="JobEvent")

    id: int
    at: datetime
    status: str
    progress: int | None
    step: str | None
    level: Literal["debug", "info", "warning", "error"]
    message: str | None
    worker: str | None
    data: Any


class JobEventsOut(BaseModel):
    model_config = ConfigDict(title="JobEvents")

    job_id: UUID
    events: list[JobEventOut]


class DaemonOut(BaseModel):
    worker: str
    running_jobs: int


class HealthOut(BaseModel):
    model_config = ConfigDict(title="Health")

    status: Literal["ok"]
    daemon: DaemonOut | None = Field(description="The daemon in this process (benchsight up), else null.")


class SystemOut(BaseModel):
    etl_script_available: bool = Field(description="Always true: the ETL is part of the daemon.")
    output_directory_exists: bool
    project_root: str = Field(description="The data dir.")


class HealthStatusOut(BaseModel):
    """GET /api/health/status, the old API's shape."""

    model_config = ConfigDict(title="HealthStatus")

    status: Literal["healthy"]
    version: str
    timestamp: datetime
    system: SystemOut


class WorkerOut(BaseModel):
    worker: str
    started_at: datetime
    last_seen_at: datetime
    info: dict[str, Any]


class PruneRunOut(BaseModel):
    worker: str
    started_at: datetime
    finished_at: datetime
    jobs: int = Field(description="Jobs deleted.")
    events: int = Field(description="History rows deleted with them.")
    batches: int
    settings: dict[str, Any] = Field(description="The retention in force for that run.")


class DbHealthOut(BaseModel):
    model_config = ConfigDict(title="DbHealth")

    database: Literal["ok"]
    migration_version: str | None = Field(description="The newest applied migration (YYYYMMDDHHMMSS).")
    queue: dict[str, int] = Field(description="Active jobs by status (pending, running, processing, uploading).")
    oldest_pending_seconds: float | None = Field(description="Age of the oldest pending job; null when none.")
    workers: list[WorkerOut] = Field(description="Daemons seen in the last minute.")
    jobs_by_status: dict[str, int] = Field(description="Every job row by status, finished ones included.")
    oldest_finished_at: datetime | None = Field(
        description="When the oldest finished job still kept ended (retention deletes older ones).")
    last_prune: PruneRunOut | None = Field(description="The newest prune run; null before the first.")


class StagingTableOut(BaseModel):
    table: str
    source: Literal["league", "tracking"]
    rows: int | None = Field(description="Rows staged; null when the table was never loaded.")
    last_loaded_at: datetime | None


class StagingStatusOut(BaseModel):
    model_config = ConfigDict(title="StagingStatus")

    tables: list[StagingTableOut]
    tracking_games: int = Field(description="Games with a staged tracker file.")


class JobsQuery(BaseModel):
    """Filters of GET /api/jobs."""

    model_config = ConfigDict(extra="forbid")

    status: JobStatus | None = Field(default=None, description="Only jobs in this status.")
    kind: str | None = Field(default=None, max_length=64, description="Only jobs of this kind.")
    limit: int = Field(default=50, ge=1, le=500, description="Page size.")
    cursor: str | None = Field(default=None, max_length=200, description="next_cursor of the previous page.")


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: int = Field(default=0, ge=0, le=2**62, description="Only events with a larger id (for paging).")
    limit: int = Field(default=200, ge=1, le=1000)
    include_debug: bool = Field(default=False, description="Include heartbeats and other debug events.")


class StreamQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(default=None, max_length=64, description="Only jobs of this kind.")
