"""Every route of the app, in one place."""

HOME = "/"
MARKETS = "/markets"
TRADE = "/trade/[symbol]"  # built by trade(symbol)
ORDERS = "/orders"  # the user's orders and trades in every market
LOGIN = "/login"
ADMIN = "/admin"
SIGNUP = "/signup"
VERIFY_EMAIL = "/verify-email"
FORGOT_PASSWORD = "/forgot-password"  # noqa: S105 - a route, not a secret
RESET_PASSWORD = "/reset-password"  # noqa: S105 - a route, not a secret
NOT_ME = "/not-me"
CONFIRM_EMAIL_CHANGE = "/confirm-email-change"  # ?token=... (sent to the new address)
SECURITY = "/security"
API_KEYS = "/security/api-keys"
LOGIN_HISTORY = "/security/history"
ACCOUNT = "/security/account"  # email change, data export, closure
ALERTS = "/alerts"  # price alerts
ADMIN_USERS = "/admin/users"
ADMIN_USER = "/admin/user"  # ?id=<user id>
ADMIN_AUDIT = "/admin/audit"
ADMIN_OUTBOX = "/admin/outbox"
# Wallet (issue #5).
WALLET = "/wallet"
DEPOSIT = "/wallet/deposit"  # ?asset=BTC
WITHDRAW = "/wallet/withdraw"  # ?asset=BTC
ADDRESS_CONFIRM = "/wallet/address/confirm"  # ?token=... (emailed)
WITHDRAW_CONFIRM = "/wallet/withdraw/confirm"  # ?token=... (emailed)
TRANSFER = "/wallet/transfer"
HISTORY = "/wallet/history"
ADMIN_DEPOSITS = "/admin/deposits"
ADMIN_WITHDRAWALS = "/admin/withdrawals"
# Verification, staking, support, promotions (issue #7).
VERIFICATION = "/verification"
STAKING = "/staking"
SUPPORT = "/support"
SUPPORT_TICKET = "/support/ticket"  # ?id=<ticket id>
PROMOS = "/promos"
ADMIN_KYC = "/admin/kyc"
ADMIN_STAKING = "/admin/staking"
ADMIN_SUPPORT = "/admin/support"
ADMIN_SUPPORT_TICKET = "/admin/support/ticket"  # ?id=<ticket id>
ADMIN_PROMOS = "/admin/promos"
ADMIN_RATE_LIMITS = "/admin/rate-limits"
# Proof of liabilities and reserves.
PROOF = "/proof"
ADMIN_PROOF = "/admin/proof"
NOT_FOUND = "404"

# Backend (Starlette) routes.
AUTH_SESSION = "/auth/session"
AUTH_LOGOUT = "/auth/logout"
HEALTHZ = "/healthz"
METRICS = "/metrics"  # Prometheus; never forwarded by the public proxy (bitchange.web_guard)
UPLOAD = "/_upload"  # Reflex's own endpoint, checked first (bitchange.py)
API_V3 = "/api/v3"  # the Binance-compatible trader API (bitchange.api, docs/api.md)
SAPI_V1 = "/sapi/v1"  # the few of Binance's account endpoints that ccxt calls there
WS_API_V3 = "/ws-api/v3"  # Binance's WebSocket API (bitchange.api.ws_api)
API_DOCS = "/api/docs"  # docs/api.md, served as text
PROOF_FORMAT = "/proof/format"  # docs/proof-of-liabilities.md, served as text
PROOF_VERIFIER = "/proof/verify_liabilities.py"  # tools/verify_liabilities.py, to download
ACCOUNT_EXPORT = "/account/export"  # the signed-in user's data, as one JSON file
DOCUMENTS = "/documents/{token}"  # KYC documents and ticket attachments, authorised


def trade(symbol: str) -> str:
    return f"/trade/{symbol}"


def document(token: str) -> str:
    return DOCUMENTS.replace("{token}", token)


def support_ticket(ticket_id: int, *, staff: bool = False) -> str:
    return f"{ADMIN_SUPPORT_TICKET if staff else SUPPORT_TICKET}?id={ticket_id}"


def admin_user(user_id: int) -> str:
    return f"{ADMIN_USER}?id={user_id}"


def login(next_path: str = "") -> str:
    return f"{LOGIN}?next={next_path}" if next_path else LOGIN


def safe_next(path: str | None) -> str:
    """Only ever redirect to a path on this site (never `//evil.example` or a full URL)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return HOME
