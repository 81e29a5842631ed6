"""Demo data for development and the README's run command: never in production."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange import ledger
from bitchange.accounts import api_keys, totp
from bitchange.accounts.users import create_user, get_user_by_email
from bitchange.trading.markets import assets

DEMO_PASSWORD = "demo-password-123"  # noqa: S105 - printed for the demo on purpose
# Admins must have 2FA: the demo admins' authenticator secrets are fixed and printed by `run`.
DEMO_ADMIN_TOTP_SECRET = "BITCHANGEDEMOADMINTOTPSECRETXXXX"  # noqa: S105 - demo only
DEMO_SECOND_ADMIN_TOTP_SECRET = "BITCHANGEDEMOSECONDADMINTOTPXXXX"  # noqa: S105 - demo only
# Two admins, so that a large deposit or withdrawal gets its second, different approver.
DEMO_ADMINS = {
    "admin@demo.bitchange.local": DEMO_ADMIN_TOTP_SECRET,
    "admin2@demo.bitchange.local": DEMO_SECOND_ADMIN_TOTP_SECRET,
}


# One read+trade HMAC API key per demo trader, fixed and printed like the admins' 2FA
# secrets, so a bot can be pointed at the demo at once (docs/api.md). Demo data only.
DEMO_API_KEYS = {
    "alice@demo.bitchange.local": ("DemoAliceApiKey" + "A1" * 24 + "X",
                                   "DemoAliceApiSecret" + "S2" * 23),
    "bob@demo.bitchange.local": ("DemoBobApiKey" + "B3" * 25 + "X",
                                 "DemoBobApiSecret" + "S4" * 24),
}


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    totp_secret: str = ""
    api_key: str = ""
    api_secret: str = ""


DEMO_USERS = [
    # email, balances in whole units
    ("alice@demo.bitchange.local", {"BTC": 2, "ETH": 30, "USDT": 150_000}),
    ("bob@demo.bitchange.local", {"BTC": 3, "ETH": 40, "USDT": 100_000}),
    *((email, {}) for email in DEMO_ADMINS),
]


def seed_demo(conn: Connection) -> list[DemoLogin]:
    """Create the demo traders and admins once, funded through the ledger like a real
    deposit."""
    precisions = assets(conn)
    logins = []
    for email, funds in DEMO_USERS:
        if get_user_by_email(conn, email) is None:
            user_id = create_user(conn, email, DEMO_PASSWORD, is_admin=email in DEMO_ADMINS,
                                  verified=True)
            account = ledger.account_for_user(conn, user_id)
            for asset, whole_units in funds.items():
                ledger.credit_deposit(conn, account, asset,
                                      whole_units * 10 ** precisions[asset].precision,
                                      ref_type="demo", ref_id=email, memo="demo funds")
        secret = DEMO_ADMINS.get(email, "")
        if secret:
            user = get_user_by_email(conn, email)
            if user is not None and not totp.is_enabled(conn, user.id):
                totp.enable_with_secret(conn, user.id, secret)
        api_key, api_secret = DEMO_API_KEYS.get(email, ("", ""))
        if api_key:
            user = get_user_by_email(conn, email)
            assert user is not None
            api_keys.seed_hmac_key(conn, user.id, label="demo bot", api_key=api_key,
                                   secret=api_secret)
        logins.append(DemoLogin(email, DEMO_PASSWORD, "admin" if secret else "trader", secret,
                                api_key, api_secret))
    return logins


# Deposit keys for development only (bitchange.wallet.chains uses them when none is configured
# and BITCHANGE_ENV=development): the published BIP84 and BIP44 test vectors of the mnemonic
# "abandon abandon ... about". Their private keys are public: never use them for real funds.
DEMO_DEPOSIT_XPUBS = {
    "BTC": "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvU"
           "UkgDKf31mGDtKsAYz2oz2AGutZYs",  # m/84'/0'/0'
    "ETH": "xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh"
           "5GFZaM6si3yZdUsT8ddYM3PwnATt",  # m/44'/60'/0'
    "USDT": "xpub6DCoCpSuQZB2k9PnGSMK9tinTK8kx3hcv7F4BWwhs5N2wnwGiLg17r9J7j2JcYP9gkip3sC87J1F99"
            "YxeBHGuFMg6ejA8qQEKSuzzaKvqBR",  # m/44'/60'/1'
}
