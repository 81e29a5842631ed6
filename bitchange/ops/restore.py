"""Restore: list local and off-site backups, fetch one, verify its checksum and integrity, and
put it at a given path, never over an existing (let alone the live) database without `force`.

A SQLite restore over an existing file goes through SQLite's backup API into that file (it takes
the database's write lock, so connections that are open see the restored content rather than a
file swapped underneath them). A PostgreSQL backup is restored to a `pg_restore` archive at the
path, and with `into_url` also loaded into that database (`pg_restore --clean`).

With `documents_to`, the archive of the private files taken in the same run is verified the same
way and extracted into that folder (the new DATA_DIR/private). Its members are checked first:
no absolute names, no `..`, no links that point outside, nothing but files, folders and links;
a folder that already holds files is not written to without `force`. Both the database and the
documents are verified before either is written.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import ExitStack
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
from bitchange.ops.retention import documents_name_for, is_documents, taken_at
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
    documents: bool = False  # the run's documents archive is there too (locally or remotely)


@dataclass(frozen=True)
class RestoreResult:
    name: str
    target: Path
    sha256: str
    source: str  # local | remote
    kind: str  # sqlite | postgresql
    documents_target: Path | None = None
    documents_sha256: str = ""
    documents_files: int = 0


def list_backups(settings: Settings | None = None) -> list[BackupEntry]:
    """The database backups, newest first, each saying whether its documents archive exists."""
    settings = settings or get_settings()
    found: dict[str, BackupEntry] = {}
    archives: set[str] = set()
    for path in local_backups(settings.resolved_backup_dir):
        if is_documents(path.name):
            archives.add(path.name)
            continue
        found[path.name] = BackupEntry(path.name, taken_at(path.name), path.stat().st_size,
                                       True, False)  # type: ignore[arg-type]
    if (store := remote_store(settings)) is not None:
        for obj in store.list():
            if (moment := taken_at(obj.name)) is None:
                continue
            if is_documents(obj.name):
                archives.add(obj.name)
                continue
            local = obj.name in found
            found[obj.name] = BackupEntry(obj.name, moment, obj.size, local, True)
    entries = [BackupEntry(e.name, e.taken_at, e.size, e.local, e.remote,
                           documents_name_for(e.name) in archives) for e in found.values()]
    return sorted(entries, key=lambda e: e.name, reverse=True)


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


def _verified(name: str, settings: Settings, scratch: Path, source: str
              ) -> tuple[Path, str, str]:
    """Fetch `name` into `scratch` and check it against its recorded checksum; returns (the
    file, its sha256, local | remote)."""
    fetched, expected, origin = _fetch(name, settings, scratch, source)
    actual = sha256_of(fetched)
    if not expected:
        raise RestoreError(f"{name} has no recorded checksum; refusing to trust it")
    if actual != expected:
        raise RestoreError(f"checksum mismatch for {name}: recorded {expected}, "
                           f"got {actual}; the file is corrupt or was altered")
    return fetched, actual, origin


def _decrypt(path: Path, settings: Settings, scratch: Path) -> Path:
    if not path.name.endswith(".enc"):
        return path
    if not settings.backup_encryption_key:
        raise RestoreError("this backup is encrypted: set BACKUP_ENCRYPTION_KEY")
    plain = scratch / "unsealed.gz"
    try:
        decrypt_file(path, plain, settings.backup_encryption_key)
    except ValueError as exc:
        raise RestoreError(f"decryption failed: {exc}") from exc
    return plain


def _unpack(path: Path, settings: Settings, scratch: Path) -> Path:
    path = _decrypt(path, settings, scratch)
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


# --- the documents archive ------------------------------------------------------------------

def unsafe_member(member: tarfile.TarInfo) -> str:
    """Why `member` may not be extracted (an empty string when it may)."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if not name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return f"absolute or empty name {name!r}"
    if ".." in parts:
        return f"name {name!r} leaves the target folder"
    if member.issym() or member.islnk():
        link = member.linkname
        if not link or link.startswith(("/", "\\")):
            return f"link {name!r} points to an absolute path"
        base = posixpath.dirname(name) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, link))
        if resolved == ".." or resolved.startswith("../"):
            return f"link {name!r} points outside the target folder"
        return ""
    if not (member.isfile() or member.isdir()):
        return f"{name!r} is not a file or folder"
    return ""


def _stage_documents(archive: Path, settings: Settings, scratch: Path) -> tuple[Path, int]:
    """Decrypt `archive`, check every member, extract into a folder in `scratch`; returns
    (that folder, the number of files)."""
    packed = _decrypt(archive, settings, scratch)
    staged = scratch / "documents"
    staged.mkdir(mode=0o700)
    try:
        with tarfile.open(packed, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                if why := unsafe_member(member):
                    raise RestoreError(f"unsafe documents archive, refusing it: {why}")
            # The data filter checks the same again and drops owners and special mode bits.
            tar.extractall(staged, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RestoreError(f"the documents archive cannot be read: {exc}") from exc
    return staged, sum(1 for m in members if m.isfile())


def _check_documents_target(folder: Path, force: bool, settings: Settings) -> None:
    if folder.exists() and not folder.is_dir():
        raise RestoreError(f"{folder} exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        what = ("the LIVE documents folder" if folder == settings.private_dir.resolve()
                else "a folder that is not empty")
        raise RestoreError(f"refusing to write documents into {what} at {folder}; pass --force "
                           "to do so")


def _check_placement(staged: Path, folder: Path) -> None:
    """Refuse when a folder of the extracted tree already exists in `folder` (with --force) as a
    link that leads out of it: the files would be written elsewhere."""
    root = folder.resolve()
    for here, _dirs, _files in os.walk(staged):
        destination = (root / Path(here).relative_to(staged)).resolve()
        if destination != root and root not in destination.parents:
            raise RestoreError(f"{destination} is outside {root} (through a link there); "
                               "not restoring into it")


def _place_documents(staged: Path, folder: Path) -> None:
    """Move the extracted tree into `folder` (same file system), replacing same-named files."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for here, dirs, files in os.walk(staged):
        destination = folder / Path(here).relative_to(staged)
        for name in dirs:
            if (Path(here) / name).is_symlink():
                os.replace(Path(here) / name, destination / name)
            else:
                (destination / name).mkdir(mode=0o700, exist_ok=True)
        for name in files:
            os.replace(Path(here) / name, destination / name)


def restore(name: str, target: Path, *, force: bool = False, source: str = "auto",
            into_url: str = "", documents_to: Path | None = None,
            settings: Settings | None = None) -> RestoreResult:
    """Fetch, verify and restore backup `name` to `target`.

    Refuses (RestoreError) when `target` exists unless `force`, on a missing or wrong checksum,
    on a failed decryption or integrity check; in every refusal `target` is left untouched.
    With `documents_to`, the same run's documents archive is verified and checked too (before
    anything is written) and extracted into that folder."""
    settings = settings or get_settings()
    if taken_at(name) is None or is_documents(name):
        raise RestoreError(f"{name!r} is not a BitChange database backup name")
    target = target.expanduser().resolve()
    live = live_database_path(settings)
    if target.exists() and not force:
        what = "the LIVE database" if live == target else "an existing file"
        raise RestoreError(f"refusing to overwrite {what} at {target}; pass --force to do so")
    documents = documents_to.expanduser().resolve() if documents_to is not None else None
    if documents is not None:
        _check_documents_target(documents, force, settings)
        documents.parent.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        scratch = Path(cleanup.enter_context(
            tempfile.TemporaryDirectory(dir=target.parent, prefix=".restore-")))
        fetched, actual, origin = _verified(name, settings, scratch, source)
        restored = _unpack(fetched, settings, scratch)
        kind = kind_of(name)
        if problems := integrity_problems(restored, kind):
            raise RestoreError("integrity check failed: " + "; ".join(problems[:5]))
        staged, documents_sha256, files = None, "", 0
        if documents is not None:
            # Next to the documents folder, so that the files are moved, not copied, into it.
            documents_scratch = Path(cleanup.enter_context(
                tempfile.TemporaryDirectory(dir=documents.parent, prefix=".restore-")))
            archive, documents_sha256, _ = _verified(documents_name_for(name), settings,
                                                     documents_scratch, source)
            staged, files = _stage_documents(archive, settings, documents_scratch)
            _check_placement(staged, documents)
        if kind == "sqlite":
            _place_sqlite(restored, target)
        else:
            shutil.move(str(restored), str(target))
            if into_url:
                _pg_restore(target, into_url)
        if staged is not None and documents is not None:
            try:
                _place_documents(staged, documents)
            except OSError as exc:
                raise RestoreError(f"the database was restored to {target}, but moving the "
                                   f"documents into {documents} failed: {exc}") from exc
    return RestoreResult(name, target, actual, origin, kind, documents, documents_sha256,
                         files)
