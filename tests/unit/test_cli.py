"""The operator's CLI, run as a real subprocess against a fresh database."""

import os
import subprocess
import sys

from sqlalchemy import text

from bitchange.config import PROJECT_ROOT


def cli(tmp_path, *args, env=None):
    environment = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "",
                   "BITCHANGE_ENV": "development", **(env or {})}
    return subprocess.run([sys.executable, "-m", "bitchange", *args], cwd=PROJECT_ROOT,
                          env=environment, capture_output=True, text=True, timeout=120)


def test_migrate_seed_and_reconcile(tmp_path):
    assert cli(tmp_path, "migrate").returncode == 0
    seeded = cli(tmp_path, "seed-demo")
    assert seeded.returncode == 0, seeded.stderr
    assert "alice@demo.bitchange.local" in seeded.stdout
    again = cli(tmp_path, "seed-demo")  # idempotent: no second deposit
    assert again.returncode == 0
    result = cli(tmp_path, "reconcile")
    assert result.returncode == 0
    assert result.stdout.startswith("OK: 3 assets conserved, 9 balances match 12 journal entries")


def test_reconcile_fails_loudly_on_tampered_books(tmp_path):
    cli(tmp_path, "seed-demo")
    import sqlite3

    with sqlite3.connect(tmp_path / "bitchange.db") as conn:
        conn.execute("UPDATE balances SET available = available + 1 WHERE asset = 'ETH' "
                     "AND allow_negative = 0 AND rowid = (SELECT MIN(rowid) FROM balances "
                     "WHERE asset = 'ETH' AND allow_negative = 0)")
    result = cli(tmp_path, "reconcile")
    assert result.returncode == 1
    assert "FAIL balance_mismatch [ETH]" in result.stdout
    assert "FAIL asset_not_conserved [ETH]" in result.stdout


def test_create_admin_and_demo_refused_in_production(tmp_path):
    made = cli(tmp_path, "create-admin", "--email", "ops@example.org",
               env={"BITCHANGE_ADMIN_PASSWORD": "a long admin passphrase"})
    assert made.returncode == 0, made.stderr
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'bitchange.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT is_admin FROM users WHERE email = 'ops@example.org'"))\
            .scalar() == 1
    engine.dispose()
    weak = cli(tmp_path, "create-admin", "--email", "ops2@example.org",
               env={"BITCHANGE_ADMIN_PASSWORD": "short"})
    assert weak.returncode == 2
    assert "at least 12 characters" in weak.stderr
    refused = cli(tmp_path, "seed-demo", env={"BITCHANGE_ENV": "production"})
    assert refused.returncode == 2
    assert "Refusing" in refused.stderr


def test_run_refuses_to_start_with_example_secrets(tmp_path):
    result = cli(tmp_path, "run", env={"BITCHANGE_ENV": "production",
                                       "SECRET_KEY": "change-me"})
    assert result.returncode == 2
    assert "Refusing to start in production" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_the_port_is_ascii_digits_from_1_to_65535(tmp_path):
    # Production with an example secret: whatever gets past the arguments is refused at once.
    production = {"BITCHANGE_ENV": "production", "SECRET_KEY": "change-me"}
    for port, why in (("\uff13\uff11\uff10\uff10", "must be a whole number written with the "
                                                   "digits 0-9"),  # full-width 3100
                      ("31_00", "must be a whole number written with the digits 0-9"),
                      ("0", "must be at least 1"), ("65536", "must be at most 65535")):
        result = cli(tmp_path, "serve", "--port", port, env=production)
        assert result.returncode == 2
        assert f"argument --port: The port {why}" in result.stderr, result.stderr
