"""Every route of the app, in one place."""

HOME = "/"
MARKETS = "/markets"
LOGIN = "/login"
ADMIN = "/admin"
SIGNUP = "/signup"
VERIFY_EMAIL = "/verify-email"
FORGOT_PASSWORD = "/forgot-password"  # noqa: S105 - a route, not a secret
RESET_PASSWORD = "/reset-password"  # noqa: S105 - a route, not a secret
NOT_ME = "/not-me"
SECURITY = "/security"
LOGIN_HISTORY = "/security/history"
ADMIN_USERS = "/admin/users"
ADMIN_USER = "/admin/user"  # ?id=<user id>
ADMIN_AUDIT = "/admin/audit"
ADMIN_OUTBOX = "/admin/outbox"
NOT_FOUND = "404"

# Backend (Starlette) routes.
AUTH_SESSION = "/auth/session"
AUTH_LOGOUT = "/auth/logout"
HEALTHZ = "/healthz"


def trade(symbol: str) -> str:
    return f"/trade/{symbol}"


def admin_user(user_id: int) -> str:
    return f"{ADMIN_USER}?id={user_id}"


def login(next_path: str = "") -> str:
    return f"{LOGIN}?next={next_path}" if next_path else LOGIN


def safe_next(path: str | None) -> str:
    """Only ever redirect to a path on this site (never `//evil.example` or a full URL)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return HOME
