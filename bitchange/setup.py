"""Bringing a database to the current schema and reference data (used by the CLI and tests)."""

from bitchange import db, ledger
from bitchange.accounts.sealing import seal_legacy_totp_secrets
from bitchange.db.migrate import upgrade
from bitchange.trading.markets import seed_reference

# Staked principal, the rewards paid to stakers, the promo-code budget (issue #7); none may go
# negative.
EXTRA_SYSTEM_ACCOUNTS = {"staking": False, "staking_rewards": False, "promotions": False}


def prepare_database() -> None:
    """Migrate, then insert whatever reference data is missing. Idempotent."""
    upgrade()
    with db.write() as conn:
        seed_reference(conn)
        ledger.ensure_system_accounts(conn, extra=EXTRA_SYSTEM_ACCOUNTS)
        seal_legacy_totp_secrets(conn)
