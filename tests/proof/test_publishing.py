"""Publishing: the scheduled job and the CLI publish a snapshot; books that do not reconcile
are refused (nothing stored, the admins alerted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bitchange import db
from bitchange.config import PROJECT_ROOT, reload_settings
from bitchange.jobs import scheduler, tasks
from bitchange.mail.tables import OutboxMessage
from bitchange.proof import snapshot as proof
from bitchange.proof.tables import LiabilitySnapshot
from tests.proof.conftest import Owed, fund

VERIFIER = PROJECT_ROOT / "tools" / "verify_liabilities.py"


def _snapshots() -> int:
    with db.read() as conn:
        return conn.scalar(select(func.count()).select_from(LiabilitySnapshot.__table__))


def test_the_weekly_job_publishes(owed: Owed) -> None:
    jobs = {job.name: job for job in scheduler.default_jobs(reload_settings())}
    assert jobs["proof_snapshot"].func is tasks.proof_snapshot
    summary = tasks.proof_snapshot()
    assert summary.startswith("snapshot 1 at ledger transaction ")
    assert _snapshots() == 1


def test_books_that_do_not_reconcile_are_refused(owed: Owed) -> None:
    fund("ops@example.com", {})
    with db.write() as conn:
        conn.execute(text("UPDATE users SET is_admin = TRUE WHERE email = 'ops@example.com'"))
        conn.execute(text("UPDATE balances SET available = available + 1 WHERE asset = 'BTC' "
                          "AND account_id = (SELECT id FROM ledger_accounts WHERE user_id = "
                          ":user)"), {"user": owed.users["alice"]})
    with pytest.raises(proof.SnapshotRefused, match="reconcile failed"):
        tasks.proof_snapshot()
    assert _snapshots() == 0
    with db.read() as conn:
        alerts = conn.execute(select(OutboxMessage.__table__.c.subject).where(
            OutboxMessage.__table__.c.to_addr == "ops@example.com")).scalars().all()
    assert "BitChange proof of liabilities: snapshot refused" in alerts


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "",
                   "BITCHANGE_ENV": "development"}
    return subprocess.run([sys.executable, "-m", "bitchange", *args], cwd=PROJECT_ROOT,
                          env=environment, capture_output=True, text=True, timeout=300)


def test_the_cli_publishes_and_a_proof_from_it_verifies(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _cli(tmp_path, "seed-demo").returncode == 0
    published = _cli(tmp_path, "proof-snapshot")
    assert published.returncode == 0, published.stderr
    assert published.stdout.startswith("Published snapshot 1 at ledger transaction ")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bitchange.db'}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    reload_settings()
    db.dispose()
    try:
        with db.read() as conn:
            user_id = conn.scalar(text("SELECT id FROM users WHERE email = "
                                       "'alice@demo.bitchange.local'"))
            document = proof.proof_for(conn, 1, user_id)
    finally:
        db.dispose()
        monkeypatch.delenv("DATABASE_URL")
        reload_settings()
    (tmp_path / "alice.json").write_text(json.dumps(document))
    checked = subprocess.run([sys.executable, "-I", str(VERIFIER), str(tmp_path / "alice.json")],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("Validated ")
