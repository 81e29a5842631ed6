"""Restore: list local and off-site backups, fetch one, verify its checksum and integrity, and
put it at a given path, never over an existing (let alone the live) database without `force`.

A SQLite restore over an existing file goes through SQLite's backup API into that file (it takes
the database's write lock, so connections that are open see the restored content rather than a
file swapped underneath them). A PostgreSQL backup is restored to a `pg_restore` archive at the
path, and with `into_url` also loaded into that database (`pg_restore --clean`).
"""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bitchange.config import Settings, get_settings
from bitchange.ops.backup import (
    engine_kind,
    integrity_problems,
    libpq_env,
    local_backups,
    read_sidecar,
    sha256_of,
    sqlite_path,
)
from bitchange.ops.crypto import decrypt_file
from bitchange.ops.retention import taken_at
from bitchange.ops.storage import remote_store


class RestoreError(RuntimeError):
    """The restore was refused or failed; nothing was overwritten."""


@dataclass(frozen=True)
class BackupEntry:
    name: str
    taken_at: datetime
    size: int
    local: bool
    remote: bool


@dataclass(frozen=True)
class RestoreResult:
    name: str
    target: Path
    sha256: str
    source: str  # local | remote
    kind: str  # sqlite | postgresql


def list_backups(settings: Settings | None = None) -> list[BackupEntry]:
    settings = settings or get_settings()
    found: dict[str, BackupEntry] = {}
    for path in local_backups(settings.resolved_backup_dir):
        found[path.name] = BackupEntry(path.name, taken_at(path.name), path.stat().st_size,
                                       True, False)  # type: ignore[arg-type]
    if (store := remote_store(settings)) is not None:
        for obj in store.list():
            if (moment := taken_at(obj.name)) is None:
                continue
            local = obj.name in found
            found[obj.name] = BackupEntry(obj.name, moment, obj.size, local, True)
    return sorted(found.values(), key=lambda e: e.name, reverse=True)


def live_database_path(settings: Settings) -> Path | None:
    url = settings.resolved_database_url
    return sqlite_path(url).resolve() if engine_kind(url) == "sqlite" else None


def _fetch(name: str, settings: Settings, scratch: Path, source: str) -> tuple[Path, str, str]:
    """The backup file in `scratch`, the checksum recorded for it, and where it came from."""
    local = settings.resolved_backup_dir / name
    if source in ("auto", "local") and local.exists():
        copy = scratch / name
        shutil.copyfile(local, copy)
        return copy, read_sidecar(local), "local"
    if source == "local":
        raise RestoreError(f"no local backup named {name}")
    store = remote_store(settings)
    if store is None:
        raise RestoreError(f"{name} is not in {settings.resolved_backup_dir} and no S3 bucket "
                           "is configured")
    target = scratch / name
    try:
        expected = store.download(name, target)
    except Exception as exc:
        raise RestoreError(f"could not download {name}: {exc}") from exc
    return target, expected, "remote"


def _unpack(path: Path, settings: Settings, scratch: Path) -> Path:
    if path.name.endswith(".enc"):
        if not settings.backup_encryption_key:
            raise RestoreError("this backup is encrypted: set BACKUP_ENCRYPTION_KEY")
        plain = scratch / "unsealed.gz"
        try:
            decrypt_file(path, plain, settings.backup_encryption_key)
        except ValueError as exc:
            raise RestoreError(f"decryption failed: {exc}") from exc
        path = plain
    restored = scratch / "restored"
    try:
        with gzip.open(path, "rb") as src, restored.open("wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except (OSError, EOFError) as exc:
        raise RestoreError(f"decompression failed: {exc}") from exc
    return restored


def kind_of(name: str) -> str:
    return "sqlite" if ".sqlite." in name else "postgresql"


def _place_sqlite(restored: Path, target: Path) -> None:
    if not target.exists():
        shutil.move(str(restored), str(target))
        return
    src = sqlite3.connect(str(restored))
    dst = sqlite3.connect(str(target), timeout=30)
    try:
        src.backup(dst, pages=-1)
    finally:
        dst.close()
        src.close()


def _pg_restore(archive: Path, url: str) -> None:
    dsn, env = libpq_env(url)
    done = subprocess.run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
         "--single-transaction", "--dbname", dsn, str(archive)],
        env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RestoreError(f"pg_restore failed: {done.stderr.strip()[:500]}")


def restore(name: str, target: Path, *, force: bool = False, source: str = "auto",
            into_url: str = "", settings: Settings | None = None) -> RestoreResult:
    """Fetch, verify and restore backup `name` to `target`.

    Refuses (RestoreError) when `target` exists unless `force`, on a missing or wrong checksum,
    on a failed decryption or integrity check; in every refusal `target` is left untouched."""
    settings = settings or get_settings()
    if taken_at(name) is None:
        raise RestoreError(f"{name!r} is not a BitChange backup name")
    target = target.expanduser().resolve()
    live = live_database_path(settings)
    if target.exists() and not force:
        what = "the LIVE database" if live == target else "an existing file"
        raise RestoreError(f"refusing to overwrite {what} at {target}; pass --force to do so")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".restore-") as tmp:
        scratch = Path(tmp)
        fetched, expected, origin = _fetch(name, settings, scratch, source)
        actual = sha256_of(fetched)
        if not expected:
            raise RestoreError(f"{name} has no recorded checksum; refusing to trust it")
        if actual != expected:
            raise RestoreError(f"checksum mismatch for {name}: recorded {expected}, "
                               f"got {actual}; the file is corrupt or was altered")
        restored = _unpack(fetched, settings, scratch)
        kind = kind_of(name)
        if problems := integrity_problems(restored, kind):
            raise RestoreError("integrity check failed: " + "; ".join(problems[:5]))
        if kind == "sqlite":
            _place_sqlite(restored, target)
        else:
            shutil.move(str(restored), str(target))
            if into_url:
                _pg_restore(target, into_url)
    return RestoreResult(name, target, actual, origin, kind)
