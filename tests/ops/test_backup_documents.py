"""The private files (KYC documents, ticket attachments) are backed up with the database, in an
archive of the same run, and restored only when the archive is intact and safe to extract."""

from __future__ import annotations

import hashlib
import io
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bitchange import clock, db
from bitchange.accounts.users import create_user
from bitchange.config import get_settings, reload_settings
from bitchange.documents.storage import store
from bitchange.ops.backup import run_backup
from bitchange.ops.restore import RestoreError, list_backups, restore
from bitchange.ops.retention import documents_name_for, names_to_prune
from bitchange.ops.tables import BackupRun

KEY = "test-backup-passphrase-0123456789abcdef"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
PDF = b"%PDF-1.7\n" + b"attachment body\n" * 500


def _tree(root: Path) -> dict[str, bytes]:
    """Every regular file under `root` by its relative name, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _store_documents() -> dict[str, bytes]:
    with db.write() as conn:
        owner = create_user(conn, "kyc-owner@example.org", "a-long-owner-password-1",
                            verified=True)
        kyc = store(conn, purpose="kyc", owner_id=owner, data=PNG)
        ticket = store(conn, purpose="support", owner_id=owner, data=PDF)
    private = get_settings().private_dir
    (private / "kyc" / f".{'x' * 43}.part").write_bytes(b"an upload still being written")
    files = _tree(private)
    assert set(files) >= {f"kyc/{kyc.token}", f"support/{ticket.token}"}
    return {name: data for name, data in files.items() if not name.endswith(".part")}


def test_documents_round_trip_through_s3_with_identical_bytes(database, s3, monkeypatch,
                                                              tmp_path):
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", KEY)
    reload_settings()
    originals = _store_documents()

    result = run_backup("manual")
    assert result.documents_path is not None
    assert result.documents_name == result.name.replace(".sqlite.gz.enc",
                                                        ".documents.tar.gz.enc")
    assert PNG[:64] not in result.documents_path.read_bytes()  # encrypted at rest
    with db.read() as conn:
        run = conn.execute(select(BackupRun.__table__)).one()
    assert run.documents_name == result.documents_name
    key = "nightly/" + result.documents_name
    assert result.documents_remote_key == key
    head = s3.client.head_object(Bucket=s3.bucket, Key=key)
    assert head["Metadata"]["sha256"] == result.documents_sha256
    assert head["Metadata"]["backup"] == result.name
    sidecar = result.documents_path.with_name(result.documents_name + ".sha256")
    assert sidecar.read_text() == f"{result.documents_sha256}  {result.documents_name}\n"

    # Only the off-site copies are left.
    result.path.unlink()
    result.documents_path.unlink()
    [entry] = list_backups()
    assert (entry.name, entry.local, entry.remote, entry.documents) == (
        result.name, False, True, True)

    target, documents = tmp_path / "new" / "bitchange.db", tmp_path / "new" / "private"
    restored = restore(result.name, target, documents_to=documents)
    assert restored.source == "remote" and restored.documents_target == documents
    assert restored.documents_sha256 == result.documents_sha256
    assert restored.documents_files == len(originals) == 2
    assert _tree(documents) == originals
    for name in originals:
        assert (documents / name).stat().st_mode & 0o077 == 0  # still owner-only


def test_an_empty_or_missing_private_folder_gives_a_valid_empty_archive(database, tmp_path):
    assert not get_settings().private_dir.exists()
    result = run_backup()
    with tarfile.open(result.documents_path, "r:gz") as tar:
        assert tar.getmembers() == []
    documents = tmp_path / "restored-private"
    restored = restore(result.name, tmp_path / "a.db", documents_to=documents)
    assert restored.documents_files == 0 and documents.is_dir() and _tree(documents) == {}


def test_a_backup_without_its_documents_archive_is_listed_and_refused(database, tmp_path):
    result = run_backup()
    assert [e.documents for e in list_backups()] == [True]
    assert result.documents_path is not None
    result.documents_path.unlink()
    assert [e.documents for e in list_backups()] == [False]
    with pytest.raises(RestoreError, match=r"no local backup named .*documents"):
        restore(result.name, tmp_path / "a.db", documents_to=tmp_path / "p", source="local")
    assert not (tmp_path / "a.db").exists() and not (tmp_path / "p").exists()


def test_a_tampered_documents_archive_is_refused(database, s3, tmp_path):
    _store_documents()
    result = run_backup()
    result.documents_path.unlink()  # force the remote copy of the archive
    key = "nightly/" + result.documents_name
    head = s3.client.head_object(Bucket=s3.bucket, Key=key)
    tampered = bytearray(s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read())
    tampered[len(tampered) // 2] ^= 0xFF
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=bytes(tampered),
                         Metadata=head["Metadata"])
    target, documents = tmp_path / "out.db", tmp_path / "restored" / "private"
    with pytest.raises(RestoreError, match=r"checksum mismatch for .*\.documents\.tar\.gz"):
        restore(result.name, target, documents_to=documents)
    # Refused before anything was written: neither the database nor the documents.
    assert not target.exists() and not documents.exists()


def test_a_non_empty_documents_folder_needs_force(database, tmp_path):
    originals = _store_documents()
    result = run_backup()
    documents = tmp_path / "restored" / "private"
    (documents / "kyc").mkdir(parents=True)
    (documents / "kyc" / "older").write_bytes(b"kept")
    with pytest.raises(RestoreError, match="not empty"):
        restore(result.name, tmp_path / "a.db", documents_to=documents)
    with pytest.raises(RestoreError, match="the LIVE documents folder"):
        restore(result.name, tmp_path / "a.db", documents_to=get_settings().private_dir)
    assert not (tmp_path / "a.db").exists()
    restore(result.name, tmp_path / "a.db", documents_to=documents, force=True)
    restored = _tree(documents)
    assert restored.pop("kyc/older") == b"kept"
    assert restored == originals  # the upload still being written (.part) is left out


def _evil_archive(member: tarfile.TarInfo, data: bytes = b"pwned") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        good = tarfile.TarInfo("kyc/fine")
        good.size = 2
        tar.addfile(good, io.BytesIO(b"ok"))
        if member.isfile():
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        else:
            tar.addfile(member)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(("name", "kind", "link"), [
    ("../escaped", tarfile.REGTYPE, ""),
    ("kyc/../../escaped", tarfile.REGTYPE, ""),
    ("{deep}/escaped", tarfile.REGTYPE, ""),  # an absolute name
    ("kyc/link", tarfile.SYMTYPE, "../../escaped"),
    ("kyc/link", tarfile.SYMTYPE, "/etc/passwd"),
    ("kyc/hard", tarfile.LNKTYPE, "../escaped"),
    ("kyc/device", tarfile.CHRTYPE, ""),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-absolute",
        "hardlink-out", "device"])
def test_an_unsafe_member_is_refused_before_anything_is_written(database, tmp_path, name, kind,
                                                                 link):
    result = run_backup()
    # A crafted archive with a matching checksum, as if whoever can write the bucket made it.
    evil = _evil_archive(_member(name.format(deep=tmp_path / "deep"), kind, link))
    result.documents_path.write_bytes(evil)
    result.documents_path.with_name(result.documents_name + ".sha256").write_text(
        f"{hashlib.sha256(evil).hexdigest()}  {result.documents_name}\n")
    restored_to = tmp_path / "deep" / "restore"
    target, documents = restored_to / "a.db", restored_to / "private"
    with pytest.raises(RestoreError, match="unsafe documents archive"):
        restore(result.name, target, documents_to=documents)
    assert not target.exists() and not documents.exists()
    assert not (tmp_path / "deep" / "escaped").exists()
    assert not (restored_to / "escaped").exists()


def test_a_safe_internal_link_is_restored(database, tmp_path):
    result = run_backup()
    archive = _evil_archive(_member("kyc/alias", tarfile.SYMTYPE, "fine"))
    result.documents_path.write_bytes(archive)
    result.documents_path.with_name(result.documents_name + ".sha256").write_text(
        f"{hashlib.sha256(archive).hexdigest()}  {result.documents_name}\n")
    documents = tmp_path / "restored" / "private"
    restore(result.name, tmp_path / "a.db", documents_to=documents)
    assert (documents / "kyc" / "alias").read_bytes() == b"ok"


def test_retention_removes_the_documents_archives_with_their_backups(database, s3):
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    names = []
    for day in range(12):
        with clock.freeze(lambda d=day: start + timedelta(days=d)):
            names.append(run_backup("schedule").name)
    folder = get_settings().resolved_backup_dir
    # 7 daily (Jan 6..12) + the newest of each ISO week: Jan 12, Jan 11 and Jan 4 (a Sunday).
    kept = set(names[5:]) | {names[3]}
    expected = sorted(kept | {documents_name_for(n) for n in kept})
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(".sha256")) == expected
    assert s3.keys() == ["nightly/" + n for n in expected]
    pruned_documents = [documents_name_for(n) for n in names if n not in kept]
    assert len(pruned_documents) == 4
    assert not any((folder / (n + ".sha256")).exists() for n in pruned_documents)


def test_names_to_prune_pairs_documents_with_their_backup():
    names = ["bitchange-20260101T030000Z.sqlite.gz.enc",
             "bitchange-20260101T030000Z.documents.tar.gz.enc",
             "bitchange-20260102T030000Z.sqlite.gz.enc",
             "bitchange-20260102T030000Z.documents.tar.gz.enc",
             "bitchange-20260102T120000Z.documents.tar.gz.enc",  # a failed run's leftover
             "bitchange-20260103T030000Z.sqlite.gz.enc",
             "bitchange-20260103T030000Z.documents.tar.gz.enc",
             "notes.txt"]
    # One day kept: the newest database backup decides, not a documents archive.
    assert names_to_prune(names, 1, 0) == sorted(names[:5])
    # Two days: the leftover is newer than the oldest kept backup, so it stays for now.
    assert names_to_prune(names, 2, 0) == sorted(names[:2])


def test_force_does_not_write_through_a_link_out_of_the_documents_folder(database, tmp_path):
    _store_documents()
    result = run_backup()
    outside, documents = tmp_path / "outside", tmp_path / "restored" / "private"
    outside.mkdir()
    documents.mkdir(parents=True)
    (documents / "kyc").symlink_to(outside)
    with pytest.raises(RestoreError, match="outside"):
        restore(result.name, tmp_path / "a.db", documents_to=documents, force=True)
    assert list(outside.iterdir()) == [] and not (tmp_path / "a.db").exists()
