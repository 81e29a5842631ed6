"""Backups: a consistent online copy of the live database, checked, compressed, optionally
encrypted, kept locally and uploaded off-site, pruned by retention, and recorded.

SQLite is copied with SQLite's online backup API (one step, so the copy is one consistent
snapshot while the app keeps writing in WAL mode); PostgreSQL with `pg_dump --format=custom`.
The scheduler, `python -m bitchange backup` and `deploy/backup_db.sh` all call `run_backup`.

Each run also archives the private files (KYC documents, ticket attachments) in
`DATA_DIR/private` as `bitchange-<same stamp>.documents.tar.gz[.enc]`, encrypted, checksummed,
uploaded and pruned like the database backup it goes with (a restore needs both: the database
holds the rows that point at the files).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, update
from sqlalchemy.engine import URL, make_url

from bitchange import db
from bitchange.clock import now
from bitchange.config import Settings, get_settings
from bitchange.ops import alerts
from bitchange.ops.crypto import encrypt_file
from bitchange.ops.retention import PREFIX, documents_name, names_to_prune, stamp, taken_at
from bitchange.ops.storage import RemoteStore, remote_store
from bitchange.ops.tables import BackupRun

log = logging.getLogger(__name__)
_runs = BackupRun.__table__
SIDECAR = ".sha256"


class BackupError(RuntimeError):
    """A backup step failed; the message says which."""


@dataclass
class BackupResult:
    run_id: int
    name: str
    path: Path
    size: int
    sha256: str
    remote_key: str = ""
    pruned: list[str] = field(default_factory=list)
    documents_path: Path | None = None  # the private files' archive of the same run
    documents_sha256: str = ""
    documents_remote_key: str = ""

    @property
    def documents_name(self) -> str:
        return self.documents_path.name if self.documents_path else ""


# --- the database snapshot ------------------------------------------------------------------

def engine_kind(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def sqlite_online_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database page by page through the backup API, in a single step so
    that the copy is one consistent snapshot (writers in WAL mode are not blocked)."""
    if not source.exists():
        raise BackupError(f"database file {source} does not exist")
    src = sqlite3.connect(str(source), timeout=30)
    dst = sqlite3.connect(str(target))
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
    finally:
        dst.close()
        src.close()


def sqlite_integrity_problems(path: Path) -> list[str]:
    """`PRAGMA integrity_check` and `foreign_key_check` of a copy; empty when it is sound."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            problems = [] if rows == ["ok"] else rows
            problems += [f"foreign key violation in {r[0]} row {r[1]}"
                         for r in conn.execute("PRAGMA foreign_key_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"not a readable SQLite database: {exc}"]
    return problems


def libpq_env(url: str) -> tuple[str, dict[str, str]]:
    """A `postgresql://` URL without the password for pg_dump, and the password as PGPASSWORD
    (so it never appears in a process list)."""
    parsed: URL = make_url(url)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def pg_dump(url: str, target: Path) -> None:
    dsn, env = libpq_env(url)
    done = subprocess.run(
        ["pg_dump", "--format=custom", "--compress=0", "--no-owner", "--no-privileges",
         "--file", str(target), "--dbname", dsn],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")


def pg_dump_problems(path: Path) -> list[str]:
    done = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True,
                          check=False)
    return [] if done.returncode == 0 else [f"pg_restore --list: {done.stderr.strip()[:500]}"]


def integrity_problems(path: Path, kind: str) -> list[str]:
    return sqlite_integrity_problems(path) if kind == "sqlite" else pg_dump_problems(path)


# --- files ----------------------------------------------------------------------------------

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def gzip_file(source: Path, target: Path) -> None:
    with source.open("rb") as src, gzip.open(target, "wb", compresslevel=6) as out:
        shutil.copyfileobj(src, out, 1 << 20)


def backup_name(kind: str, taken: str, encrypted: bool) -> str:
    suffix = ".sqlite.gz" if kind == "sqlite" else ".pgdump.gz"
    return f"{PREFIX}{taken}{suffix}{'.enc' if encrypted else ''}"


def write_sidecar(path: Path, sha256: str) -> None:
    """`<name>.sha256` in `sha256sum` format, so `sha256sum -c` works on the host too."""
    path.with_name(path.name + SIDECAR).write_text(f"{sha256}  {path.name}\n")


def read_sidecar(path: Path) -> str:
    sidecar = path.with_name(path.name + SIDECAR)
    return sidecar.read_text().split()[0] if sidecar.exists() else ""


def local_backups(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted((p for p in folder.iterdir()
                   if p.is_file() and taken_at(p.name) and not p.name.endswith(SIDECAR)),
                  key=lambda p: p.name, reverse=True)


def build_artifact(settings: Settings, folder: Path, taken: str) -> tuple[Path, str, str]:
    """Snapshot, check, compress, encrypt; returns (final path, sha256, engine kind)."""
    url = settings.resolved_database_url
    kind = engine_kind(url)
    encrypted = bool(settings.backup_encryption_key)
    final = folder / backup_name(kind, taken, encrypted)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".tmp-") as scratch:
        snapshot = Path(scratch) / "snapshot"
        if kind == "sqlite":
            sqlite_online_copy(sqlite_path(url), snapshot)
        else:
            pg_dump(url, snapshot)
        if problems := integrity_problems(snapshot, kind):
            raise BackupError("integrity check of the copy failed: " + "; ".join(problems[:5]))
        packed = Path(scratch) / "packed.gz"
        gzip_file(snapshot, packed)
        if encrypted:
            sealed = Path(scratch) / "packed.enc"
            encrypt_file(packed, sealed, settings.backup_encryption_key)
            packed = sealed
        checksum = sha256_of(packed)
        os.replace(packed, final)
    write_sidecar(final, checksum)
    return final, checksum, kind


def _private_members(root: Path) -> list[tuple[Path, str]]:
    """(path, name in the archive) of the directories and regular files under `root`, in a
    stable order. Symbolic links and special files are left out (the app never makes any), as
    are the `.part` files of uploads still being written."""
    found: list[tuple[Path, str]] = []
    if not root.is_dir():
        return found
    for folder, dirs, files in os.walk(root):  # does not follow links
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink())
        for name in dirs:
            found.append((here / name, (here / name).relative_to(root).as_posix()))
        for name in sorted(files):
            path = here / name
            if name.startswith(".") and name.endswith(".part"):
                continue
            if path.is_symlink() or not path.is_file():
                log.warning("backup: skipping %s (not a regular file)", path)
                continue
            found.append((path, path.relative_to(root).as_posix()))
    return found


def tar_private_files(root: Path, target: Path) -> int:
    """Write a tar.gz of the files under `root` (names relative to it); an empty or missing
    `root` gives a valid, empty archive. Returns the number of files archived."""
    count = 0
    with tarfile.open(target, "w:gz", compresslevel=6, format=tarfile.PAX_FORMAT) as tar:
        for path, arcname in _private_members(root):
            if path.is_dir():
                tar.add(path, arcname=arcname, recursive=False)
                continue
            try:
                handle = path.open("rb")
            except FileNotFoundError:  # deleted since the listing
                continue
            with handle:
                info = tar.gettarinfo(arcname=arcname, fileobj=handle)
                tar.addfile(info, handle)
            count += 1
    return count


def build_documents_archive(settings: Settings, folder: Path, taken: str) -> tuple[Path, str]:
    """Archive, compress and encrypt DATA_DIR/private; returns (final path, sha256)."""
    encrypted = bool(settings.backup_encryption_key)
    final = folder / documents_name(taken, encrypted)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".tmp-") as scratch:
        packed = Path(scratch) / "documents.tar.gz"
        tar_private_files(settings.private_dir, packed)
        if encrypted:
            sealed = Path(scratch) / "documents.enc"
            encrypt_file(packed, sealed, settings.backup_encryption_key)
            packed = sealed
        checksum = sha256_of(packed)
        os.replace(packed, final)
    write_sidecar(final, checksum)
    return final, checksum


# --- retention ------------------------------------------------------------------------------

def prune_local(folder: Path, daily: int, weekly: int) -> list[str]:
    doomed = names_to_prune([p.name for p in local_backups(folder)], daily, weekly)
    for name in doomed:
        (folder / name).unlink(missing_ok=True)
        (folder / (name + SIDECAR)).unlink(missing_ok=True)
    return doomed


def prune_remote(store: RemoteStore, daily: int, weekly: int) -> list[str]:
    names = [o.name for o in store.list() if taken_at(o.name)]
    doomed = names_to_prune(names, daily, weekly)
    if doomed:
        store.delete(doomed)
    return doomed


# --- the run --------------------------------------------------------------------------------

def _start_run(trigger: str, kind: str, encrypted: bool) -> int:
    with db.write() as conn:
        return int(conn.execute(insert(_runs).values(
            started_at=now(), status="running", trigger=trigger, engine=kind, size_bytes=0,
            encrypted=encrypted)).inserted_primary_key[0])


def _finish_run(run_id: int, result: BackupResult) -> None:
    with db.write() as conn:
        conn.execute(update(_runs).where(_runs.c.id == run_id).values(
            finished_at=now(), status="ok", name=result.name, remote_key=result.remote_key,
            size_bytes=result.size, sha256=result.sha256, pruned=len(result.pruned),
            documents_name=result.documents_name))


def _fail_run(run_id: int, error: str) -> None:
    """Record the failure and queue the admins' alert in the same transaction."""
    with db.write() as conn:
        conn.execute(update(_runs).where(_runs.c.id == run_id).values(
            finished_at=now(), status="failed", error=error[:2000]))
        alerts.alert_admins(
            conn, "BitChange backup FAILED",
            f"The database backup (run #{run_id}) failed at {now():%Y-%m-%d %H:%M} UTC:\n\n"
            f"{error}\n\nThe last good backup is shown on the admin dashboard. Fix the cause "
            "and run `python -m bitchange backup` (see docs/deploy.md).")


def run_backup(trigger: str = "manual", settings: Settings | None = None) -> BackupResult:
    """Take, check, store, upload and prune one backup; a failure is recorded, alerted to the
    admins, and raised as BackupError."""
    settings = settings or get_settings()
    kind = engine_kind(settings.resolved_database_url)
    run_id = _start_run(trigger, kind, bool(settings.backup_encryption_key))
    try:
        result = _perform(settings, run_id)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.exception("backup run %s failed", run_id)
        _fail_run(run_id, error)
        raise BackupError(error) from exc
    _finish_run(run_id, result)
    log.info("backup run %s ok: %s (%s bytes) -> %s", run_id, result.name, result.size,
             result.remote_key or "local only")
    return result


def _perform(settings: Settings, run_id: int) -> BackupResult:
    folder = settings.resolved_backup_dir
    folder.mkdir(parents=True, exist_ok=True)
    taken = stamp(now())
    path, checksum, kind = build_artifact(settings, folder, taken)
    result = BackupResult(run_id, path.name, path, path.stat().st_size, checksum)
    # After the database snapshot: a file is written before its row commits, so every file the
    # snapshot refers to is already there (files stored since are harmless extras).
    result.documents_path, result.documents_sha256 = build_documents_archive(
        settings, folder, taken)
    store = remote_store(settings)
    if store is not None:
        encrypted = "1" if settings.backup_encryption_key else "0"
        result.remote_key = store.upload(path, checksum, {"engine": kind, "encrypted": encrypted})
        result.documents_remote_key = store.upload(
            result.documents_path, result.documents_sha256,
            {"content": "documents", "backup": path.name, "encrypted": encrypted})
    daily, weekly = settings.backup_keep_daily, settings.backup_keep_weekly
    result.pruned = prune_local(folder, daily, weekly)
    if store is not None:
        result.pruned += [f"remote:{n}" for n in prune_remote(store, daily, weekly)]
    return result
