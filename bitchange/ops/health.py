"""Health: is the database reachable, is a scheduler alive, how old is the last good backup.

Used by `/healthz` (Docker's healthcheck and external monitoring) and the admin dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, text

from bitchange import db
from bitchange.clock import now
from bitchange.config import Settings, get_settings
from bitchange.jobs.lease import SCHEDULER
from bitchange.ops.tables import BackupRun, SchedulerLease

_backups = BackupRun.__table__
_lease = SchedulerLease.__table__


@dataclass(frozen=True)
class BackupHealth:
    last_ok_at: datetime | None
    last_ok_name: str
    age_hours: float | None
    stale: bool  # no good backup, or the last one is older than BACKUP_STALE_HOURS
    last_failed_at: datetime | None
    last_error: str  # of the latest run, when that run failed


@dataclass(frozen=True)
class SchedulerHealth:
    enabled: bool
    alive: bool  # a leader holds an unexpired lease
    leader: str
    renewed_seconds_ago: float | None


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
    return BackupHealth(
        last_ok_at=ok.finished_at if ok else None, last_ok_name=ok.name if ok else "",
        age_hours=round(age, 2) if age is not None else None,
        stale=age is None or age > settings.backup_stale_hours,
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
    """(database reachable, report). The report's status is ok, degraded (stale backup or no
    live scheduler) or error (no database)."""
    settings = settings or get_settings()
    moment = now()
    try:
        with db.read() as conn:
            conn.execute(text("SELECT 1"))
            backup = backup_health(conn, settings, moment)
            scheduler = scheduler_health(conn, settings, moment)
    except Exception as exc:
        return False, {"status": "error", "database": str(exc)[:200]}
    degraded = backup.stale or (scheduler.enabled and not scheduler.alive)
    report: dict[str, object] = {
        "status": "degraded" if degraded else "ok",
        "database": "ok",
        "scheduler": {"enabled": scheduler.enabled, "alive": scheduler.alive,
                      "renewed_seconds_ago": scheduler.renewed_seconds_ago},
        "backup": {"last_success": _iso(backup.last_ok_at), "age_hours": backup.age_hours,
                   "stale": backup.stale, "stale_after_hours": settings.backup_stale_hours,
                   "last_run_failed": bool(backup.last_error)},
    }
    return True, report



@dataclass(frozen=True)
class OperationsView:
    """What the admin dashboard shows about backups and scheduled jobs (display strings)."""

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
    from bitchange.jobs.runs import last_runs

    settings = settings or get_settings()
    moment = now()
    with db.read() as conn:
        backup = backup_health(conn, settings, moment)
        scheduler = scheduler_health(conn, settings, moment)
        jobs = last_runs(conn)
    return OperationsView(
        backup_last_ok=(f"{backup.last_ok_name} at {backup.last_ok_at:%Y-%m-%d %H:%M} UTC"
                        if backup.last_ok_at else "no successful backup yet"),
        backup_age=_age(backup.age_hours),
        backup_stale=backup.stale,
        backup_last_error=backup.last_error,
        scheduler_alive=scheduler.alive,
        scheduler_leader=scheduler.leader or "none",
        jobs=[{"job": r.job, "status": r.status, "detail": r.detail[:160],
               "started": f"{r.started_at:%Y-%m-%d %H:%M:%S} UTC"} for r in jobs.values()],
    )
