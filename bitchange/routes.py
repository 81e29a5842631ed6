"""Every route of the app, in one place."""

HOME = "/"
MARKETS = "/markets"
LOGIN = "/login"
ADMIN = "/admin"
NOT_FOUND = "404"

# Backend (Starlette) routes.
AUTH_SESSION = "/auth/session"
AUTH_LOGOUT = "/auth/logout"
HEALTHZ = "/healthz"


def trade(symbol: str) -> str:
    return f"/trade/{symbol}"


def login(next_path: str = "") -> str:
    return f"{LOGIN}?next={next_path}" if next_path else LOGIN


def safe_next(path: str | None) -> str:
    """Only ever redirect to a path on this site (never `//evil.example` or a full URL)."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return HOME
