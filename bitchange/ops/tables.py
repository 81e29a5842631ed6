"""Operations tables: backup runs, scheduled job runs, the scheduler's leader lease, and the
health check's storage probe.

Written only by `bitchange.ops` (backup runs) and `bitchange.jobs` (job runs, the lease).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from bitchange.clock import now


class BackupRun(SQLModel, table=True):
    """One backup attempt: what was taken, where it went, and whether it worked."""

    __tablename__ = "backup_runs"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=now)
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=10)  # running | ok | failed
    trigger: str = Field(default="manual", max_length=16)  # schedule | manual | cron
    engine: str = Field(default="sqlite", max_length=16)  # sqlite | postgresql
    name: str = Field(default="", max_length=255)  # file name, also the end of the S3 key
    remote_key: str = Field(default="", max_length=512)
    size_bytes: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(default="", max_length=64)
    encrypted: bool = False
    pruned: int = 0
    error: str = Field(default="", max_length=2000)
    # The archive of DATA_DIR/private taken in the same run (its S3 key is the prefix + this).
    documents_name: str = Field(default="", max_length=255)
    __table_args__ = (Index("ix_backup_runs_status_started", "status", "started_at"),)


class JobRun(SQLModel, table=True):
    """One run of a scheduled job (by the leader), with its outcome."""

    __tablename__ = "job_runs"
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=32)
    holder: str = Field(default="", max_length=128)
    started_at: datetime = Field(default_factory=now)
    finished_at: datetime | None = None
    status: str = Field(default="running", max_length=10)  # running | ok | failed
    detail: str = Field(default="", max_length=2000)
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)


class SchedulerLease(SQLModel, table=True):
    """The leader lease: one row per lease name; whoever holds an unexpired row is the leader."""

    __tablename__ = "scheduler_leases"
    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=128)
    acquired_at: datetime = Field(default_factory=now)
    renewed_at: datetime = Field(default_factory=now)
    expires_at: datetime


class StorageProbe(SQLModel, table=True):
    """The row `/healthz` rewrites and commits to prove the database can still commit."""

    __tablename__ = "storage_probes"
    name: str = Field(primary_key=True, max_length=32)
    written_at: datetime = Field(default_factory=now)
