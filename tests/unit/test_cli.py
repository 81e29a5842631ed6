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


def run_command_of(monkeypatch, *argv: str, **environment: str):  # type: ignore[no-untyped-def]
    """What `bitchange run ARGV` would start, with these settings (no .env file)."""
    from bitchange.__main__ import command_line, reflex_run
    from bitchange.config import Settings

    for name in ("PUBLIC_URL", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return reflex_run(command_line().parse_args(["run", *argv]), Settings(_env_file=None))


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_run_email_links_follow_the_port_unless_public_url_is_set(monkeypatch):
    command, env = run_command_of(monkeypatch, "--port", "3100")
    assert option(command, "--backend-port") == "3100"
    assert env["PUBLIC_URL"] == "http://localhost:3100"
    _, env = run_command_of(monkeypatch, PORT="3200")
    assert env["PUBLIC_URL"] == "http://localhost:3200"
    _, env = run_command_of(monkeypatch, "--host", "192.168.1.20", "--port", "3100")
    assert env["PUBLIC_URL"] == "http://192.168.1.20:3100"
    _, env = run_command_of(monkeypatch, "--port", "3100",
                            PUBLIC_URL="https://exchange.example.org")
    assert env["PUBLIC_URL"] == "https://exchange.example.org"


def test_run_listens_on_this_machine_only_unless_host_says_otherwise(monkeypatch):
    command, _ = run_command_of(monkeypatch)
    assert option(command, "--backend-host") == "127.0.0.1"
    command, env = run_command_of(monkeypatch, "--host", "0.0.0.0", "--port", "3100")  # noqa: S104
    assert option(command, "--backend-host") == "0.0.0.0"  # noqa: S104 - the option under test
    assert env["PUBLIC_URL"] == "http://localhost:3100"


def test_run_output_drops_reflex_misleading_hints_only():
    from bitchange.__main__ import without_reflex_noise

    # Lines as Reflex 0.10 prints them under `bitchange run` (captured from a first start).
    output = [
        "──────────────────────────── Initializing bitchange ────────────────────────────\n",
        "Info: Skipping bun installation as REFLEX_USE_NPM is set. Using npm instead.\n",
        "Info: Initializing the web directory.\n",
        "Info: Failed to connect to https://registry.npmmirror.com.\n",
        "Success: Initialized bitchange. Run `uv run reflex run` to start the app.\n",
        "───────────────────────────── Starting Reflex App ──────────────────────────────\n",
        "App running at: http://127.0.0.1:3817/\n",
        "2026-12-01 21:10:29,006 ERROR bitchange.db: Failed to connect to the database\n",
    ]
    assert list(without_reflex_noise(iter(output))) == output[:3] + output[5:]

    def endless_server():
        yield "App running at: http://127.0.0.1:3817/\n"
        raise AssertionError("the filter read past the line it had to pass on")

    assert next(without_reflex_noise(endless_server())) == "App running at: http://127.0.0.1:3817/\n"


def test_run_passes_reflex_output_through_filtered_with_its_exit_status(capfd):
    from bitchange.__main__ import run_reflex

    program = ("import sys; print('Info: Failed to connect to https://registry.npmmirror.com.'); "
               "print('App running'); print('Error: port taken', file=sys.stderr); sys.exit(3)")
    assert run_reflex([sys.executable, "-c", program], dict(os.environ)) == 3
    out, err = capfd.readouterr()
    assert out == "App running\n"
    assert err == "Error: port taken\n"


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
