"""The one place that reads the environment: every other module gets its values passed in."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Settings(BaseSettings):
    """Daemon, API and CLI settings. Environment names are given per field (no prefix magic)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None, validation_alias="DATABASE_URL",
        description="PostgreSQL URL; absent means the embedded PostgreSQL under <data dir>/pg.",
    )
    data_dir: Path = Field(default=Path("data"), validation_alias="BENCHSIGHT_DATA_DIR")
    migrations_dir: Path = Field(
        default=PROJECT_ROOT / "supabase" / "migrations", validation_alias="BENCHSIGHT_MIGRATIONS_DIR"
    )
    concurrency: int = Field(default=64, ge=1, validation_alias="BENCHSIGHT_CONCURRENCY")
    kind_concurrency: dict[str, int] = Field(
        default_factory=dict, validation_alias="BENCHSIGHT_KIND_CONCURRENCY",
        description='Per-kind limits as JSON, e.g. {"etl": 1}; handlers declare their own defaults.',
    )
    lease_seconds: int = Field(default=30, ge=3, validation_alias="BENCHSIGHT_LEASE_SECONDS")
    sweep_seconds: float = Field(default=5.0, gt=0, validation_alias="BENCHSIGHT_SWEEP_SECONDS")
    cancel_poll_seconds: float = Field(default=0.5, gt=0, validation_alias="BENCHSIGHT_CANCEL_POLL_SECONDS")
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, validation_alias="BENCHSIGHT_SHUTDOWN_GRACE_SECONDS")
    progress_interval_seconds: float = Field(
        default=0.25, ge=0, validation_alias="BENCHSIGHT_PROGRESS_INTERVAL_SECONDS",
        description="Minimum time between two progress writes of one job (the last one is always written).",
    )
    worker_id: str = Field(default_factory=_default_worker_id, validation_alias="BENCHSIGHT_WORKER_ID")
    feeds: str = Field(
        default="auto", validation_alias="BENCHSIGHT_FEEDS",
        description="Comma list of wake-up feeds: realtime, listen, sweep; 'auto' picks what is available.",
    )
    pool_size: int = Field(default=8, ge=2, validation_alias="BENCHSIGHT_POOL_SIZE")
    api_host: str = Field(default="127.0.0.1", validation_alias="BENCHSIGHT_API_HOST")
    api_port: int = Field(default=8000, validation_alias="BENCHSIGHT_API_PORT")
    log_level: str = Field(default="info", validation_alias="BENCHSIGHT_LOG_LEVEL")
    cors_origins: str = Field(default="", validation_alias="CORS_ORIGINS", description="Comma list of origins.")
    upload_limit_bytes: int = Field(default=50 * 1024 * 1024, ge=1, validation_alias="BENCHSIGHT_UPLOAD_LIMIT_BYTES")
    supabase_url: str | None = Field(default=None, validation_alias="SUPABASE_URL")
    supabase_service_role_key: SecretStr | None = Field(default=None, validation_alias="SUPABASE_SERVICE_ROLE_KEY")
    supabase_jwt_secret: SecretStr | None = Field(default=None, validation_alias="SUPABASE_JWT_SECRET")
    watch_dir: Path | None = Field(
        default=None, validation_alias="BENCHSIGHT_WATCH_DIR", description="Default: <data dir>/incoming."
    )
    watch: bool = Field(
        default=True, validation_alias="BENCHSIGHT_WATCH",
        description="Run the watch folder beside the daemon (on/off).",
    )
    watch_stable_seconds: float = Field(
        default=2.0, gt=0, validation_alias="BENCHSIGHT_WATCH_STABLE_SECONDS",
        description="A dropped file is taken once its size and mtime stay unchanged this long.",
    )
    notify_socket: str | None = Field(
        default=None, validation_alias="NOTIFY_SOCKET", description="Set by systemd for Type=notify units."
    )
    watchdog_usec: int | None = Field(
        default=None, validation_alias="WATCHDOG_USEC", description="Set by systemd when WatchdogSec= is on."
    )
    watchdog_pid: int | None = Field(
        default=None, validation_alias="WATCHDOG_PID", description="The pid systemd expects WATCHDOG=1 from."
    )
    sql_dir: Path = Field(
        default=PROJECT_ROOT / "sql", validation_alias="BENCHSIGHT_SQL_DIR",
        description="The dashboard views (views/*.sql) the schema and upload jobs read; never written to.",
    )
    api_auth: Literal["auto", "required", "off"] = Field(
        default="auto", validation_alias="BENCHSIGHT_API_AUTH",
        description="REST API authentication; 'auto' is off only for the embedded database on a loopback host.",
    )
    api_rate_limit_per_minute: int = Field(
        default=600, ge=0, validation_alias="BENCHSIGHT_API_RATE_LIMIT",
        description="Requests per minute per API key or user (bursts up to this many); 0 turns the limit off.",
    )
    api_key_cache_seconds: float = Field(
        default=5.0, ge=0, validation_alias="BENCHSIGHT_API_KEY_CACHE_SECONDS",
        description="How long a verified API key is trusted without a database lookup (a revoked key is refused "
                    "within this time); 0 checks every request.",
    )

    file_cache_bytes: int = Field(
        default=2 * 1024**3, ge=0, validation_alias="BENCHSIGHT_FILE_CACHE_BYTES",
        description="Local copies of stored files beyond this size are evicted, least recently used first.",
    )
    retain_completed_days: float = Field(
        default=30.0, ge=0, validation_alias="BENCHSIGHT_RETAIN_COMPLETED_DAYS",
        description="Completed and cancelled jobs (and their events) are deleted after this many days; 0 keeps them.",
    )
    retain_failed_days: float = Field(
        default=90.0, ge=0, validation_alias="BENCHSIGHT_RETAIN_FAILED_DAYS",
        description="Failed jobs (and their events) are deleted after this many days; 0 keeps them.",
    )
    retain_etl_runs: int = Field(
        default=20, ge=0, validation_alias="BENCHSIGHT_RETAIN_ETL_RUNS",
        description="The newest N finished ETL jobs are kept whatever their age (history never goes empty).",
    )
    retain_file_days: float = Field(
        default=90.0, ge=0, validation_alias="BENCHSIGHT_RETAIN_FILE_DAYS",
        description="Stored file versions nothing references (current input, pin, kept ETL run, active job), and "
                    "ETL runs past the newest BENCHSIGHT_RETAIN_ETL_RUNS, go after this many days; 0 keeps them.",
    )
    prune_interval_seconds: float = Field(
        default=300.0, gt=0, validation_alias="BENCHSIGHT_PRUNE_INTERVAL_SECONDS",
        description="How often one daemon (the holder of the prune lease) prunes.",
    )
    prune_batch: int = Field(
        default=1000, ge=1, le=100_000, validation_alias="BENCHSIGHT_PRUNE_BATCH",
        description="Jobs deleted per prune_jobs call (one short transaction each).",
    )

    @field_validator("data_dir", "migrations_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def output_dir(self) -> Path:
        return self.data_dir / "output"

    @property
    def generated_dir(self) -> Path:
        """Files the daemon generates (the schema job's reset_supabase.sql): under the data dir, since the
        checkout is read-only under the systemd unit."""
        return self.data_dir / "generated"

    @property
    def incoming_dir(self) -> Path:
        return (self.watch_dir or self.data_dir / "incoming").expanduser().resolve()

    @property
    def file_cache_dir(self) -> Path:
        """This host's verified copies of files from the database's file store."""
        return self.data_dir / "cache" / "files"

    @property
    def embedded_pg_dir(self) -> Path:
        return self.data_dir / "pg"
