"""Health: can the database commit, is there disk space, is a scheduler alive, how old is the
last good backup.

Used by `/healthz` (Docker's healthcheck and external monitoring) and the admin dashboard.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.engine import make_url

from bitchange import db
from bitchange.clock import now
from bitchange.config import Settings, get_settings
from bitchange.jobs.lease import SCHEDULER
from bitchange.jobs.runs import last_runs
from bitchange.ops.tables import BackupRun, SchedulerLease, StorageProbe

_backups = BackupRun.__table__
_lease = SchedulerLease.__table__
_probes = StorageProbe.__table__
PROBE = "healthz"


@dataclass(frozen=True)
class StorageHealth:
    commit_error: str  # empty when a small write just committed
    free_mb: int  # the least free space where the database and DATA_DIR live
    low_space: bool  # below HEALTH_MIN_FREE_MB

    @property
    def ok(self) -> bool:
        return not self.commit_error and not self.low_space


@dataclass(frozen=True)
class BackupHealth:
    configured: bool  # see backups_configured; when False nothing is overdue
    last_ok_at: datetime | None
    last_ok_name: str
    age_hours: float | None
    stale: bool  # configured, and no good backup or the last one older than BACKUP_STALE_HOURS
    last_failed_at: datetime | None
    last_error: str  # of the latest run, when that run failed


@dataclass(frozen=True)
class SchedulerHealth:
    enabled: bool
    alive: bool  # a leader holds an unexpired lease
    leader: str
    renewed_seconds_ago: float | None


def storage_folders(settings: Settings) -> list[Path]:
    folders = [settings.data_dir]
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folders.append(Path(url.database).parent)
    return [folder for folder in folders if folder.exists()]


def storage_health(settings: Settings, moment: datetime) -> StorageHealth:
    """Whether a write can commit right now: only a committed write proves it (a rolled-back
    one never reaches the disk), so the probe row is rewritten and committed. SQLite may still
    commit a small write on a full disk (into a restarted log), so the free space is checked
    too."""
    error = ""
    try:
        with db.write() as conn:
            probe = update(_probes).where(_probes.c.name == PROBE).values(written_at=moment)
            if not conn.execute(probe).rowcount:
                conn.execute(insert(_probes).values(name=PROBE, written_at=moment))
    except Exception as exc:
        if not db.is_storage_fault(exc):
            raise
        error = str(exc).splitlines()[0][:200]
    if not error and not db.database_file_writable():
        error = "the database file is read-only"
    folders = storage_folders(settings)
    free_mb = min(shutil.disk_usage(folder).free for folder in folders) // 2**20 if folders else 0
    return StorageHealth(error, free_mb, free_mb < settings.health_min_free_mb)


def backups_configured(settings: Settings) -> bool:
    """Production always backs up (locally at least); a development install only once a backup
    folder or bucket is set, so a fresh one has nothing overdue."""
    return settings.is_production or settings.backup_dir is not None or bool(settings.s3_bucket)


def backup_health(conn: Connection, settings: Settings, moment: datetime) -> BackupHealth:
    ok = conn.execute(select(_backups.c.finished_at, _backups.c.name)
                      .where(_backups.c.status == "ok")
                      .order_by(_backups.c.finished_at.desc()).limit(1)).first()
    latest = conn.execute(select(_backups.c.status, _backups.c.finished_at, _backups.c.error)
                          .where(_backups.c.status != "running")
                          .order_by(_backups.c.id.desc()).limit(1)).first()
    failed = conn.execute(select(_backups.c.finished_at).where(_backups.c.status == "failed")
                          .order_by(_backups.c.id.desc()).limit(1)).scalar()
    age = (moment - ok.finished_at).total_seconds() / 3600 if ok else None
    configured = backups_configured(settings)
    return BackupHealth(
        configured=configured,
        last_ok_at=ok.finished_at if ok else None, last_ok_name=ok.name if ok else "",
        age_hours=round(age, 2) if age is not None else None,
        stale=configured and (age is None or age > settings.backup_stale_hours),
        last_failed_at=failed,
        last_error=latest.error if latest is not None and latest.status == "failed" else "",
    )


def scheduler_health(conn: Connection, settings: Settings, moment: datetime) -> SchedulerHealth:
    row = conn.execute(select(_lease.c.holder, _lease.c.renewed_at, _lease.c.expires_at)
                       .where(_lease.c.name == SCHEDULER)).first()
    if row is None:
        return SchedulerHealth(settings.scheduler_enabled, False, "", None)
    return SchedulerHealth(settings.scheduler_enabled, row.expires_at > moment, row.holder,
                           round((moment - row.renewed_at).total_seconds(), 1))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def health_report(settings: Settings | None = None) -> tuple[bool, dict[str, object]]:
    """(database reachable, report). The report's status is ok, degraded (the database cannot
    commit, low disk space, stale backup or no live scheduler) or error (no database)."""
    settings = settings or get_settings()
    moment = now()
    try:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
            backup = backup_health(conn, settings, moment)
            scheduler = scheduler_health(conn, settings, moment)
    except Exception as exc:
        return False, {"status": "error", "database": str(exc)[:200]}
    storage = storage_health(settings, moment)
    degraded = not storage.ok or backup.stale or (scheduler.enabled and not scheduler.alive)
    report: dict[str, object] = {
        "status": "degraded" if degraded else "ok",
        "database": f"cannot commit: {storage.commit_error}" if storage.commit_error else "ok",
        "disk": {"free_mb": storage.free_mb, "low": storage.low_space,
                 "min_free_mb": settings.health_min_free_mb},
        "scheduler": {"enabled": scheduler.enabled, "alive": scheduler.alive,
                      "renewed_seconds_ago": scheduler.renewed_seconds_ago},
        "backup": {"configured": backup.configured,
                   "last_success": _iso(backup.last_ok_at), "age_hours": backup.age_hours,
                   "stale": backup.stale, "stale_after_hours": settings.backup_stale_hours,
                   "last_run_failed": bool(backup.last_error)},
    }
    return True, report



@dataclass(frozen=True)
class OperationsView:
    """What the admin dashboard shows about backups and scheduled jobs (display strings)."""

    backup_configured: bool
    backup_last_ok: str
    backup_age: str
    backup_stale: bool
    backup_last_error: str
    scheduler_alive: bool
    scheduler_leader: str
    jobs: list[dict[str, str]]


def _age(hours: float | None) -> str:
    if hours is None:
        return "never"
    if hours < 1:
        return f"{int(hours * 60)} min ago"
    return f"{hours:.1f} h ago" if hours < 48 else f"{hours / 24:.1f} days ago"


def operations_view(settings: Settings | None = None) -> OperationsView:
    settings = settings or get_settings()
    moment = now()
    with db.read() as conn:
        backup = backup_health(conn, settings, moment)
        scheduler = scheduler_health(conn, settings, moment)
        jobs = last_runs(conn)
    if backup.last_ok_at:
        last_ok = f"{backup.last_ok_name} at {backup.last_ok_at:%Y-%m-%d %H:%M} UTC"
    else:
        last_ok = ("no successful backup yet" if backup.configured else
                   "backups not configured (set BACKUP_DIR or S3_BUCKET)")
    return OperationsView(
        backup_configured=backup.configured,
        backup_last_ok=last_ok,
        backup_age=_age(backup.age_hours),
        backup_stale=backup.stale,
        backup_last_error=backup.last_error,
        scheduler_alive=scheduler.alive,
        scheduler_leader=scheduler.leader or "none",
        jobs=[{"job": r.job, "status": r.status, "detail": r.detail[:160],
               "started": f"{r.started_at:%Y-%m-%d %H:%M:%S} UTC"} for r in jobs.values()],
    )
