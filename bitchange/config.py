"""Settings from the environment (and a `.env` file), in one place.

Every knob the exchange has is read here; nothing else reads `os.environ` for configuration.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import Field, create_model, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Values shipped in the example env files: a production start refuses them.
EXAMPLE_SECRET_MARKERS = ("change-me", "example", "changeme", "dev-secret")


# App-wide rate limits (bitchange.ratelimits): action -> its defaults per client IP and per
# account, each read from RATE_LIMIT_<ACTION>_IP and RATE_LIMIT_<ACTION>_ACCOUNT, in the `limits`
# package's notation ("10/minute;100/hour"; empty: no limit; None: no such setting). Counted in
# Redis (REDIS_URL, else REFLEX_REDIS_URL) when set, so every worker and node shares one count.
RATE_LIMIT_DEFAULTS: dict[str, tuple[str, str | None]] = {
    "signup": ("20/hour", "5/hour"),
    "login": ("60/minute;600/hour", "20/minute;200/hour"),
    "reset": ("20/hour", "10/hour"),
    "two_factor": ("30/minute", "15/minute"),
    "order": ("600/minute", "120/minute"),
    "cancel": ("600/minute", "120/minute"),
    "withdrawal": ("60/hour", "20/hour"),
    "transfer": ("120/hour", "60/hour"),
    "ticket": ("30/hour", "10/hour"),
    "upload": ("100/hour", None),  # per account: UPLOAD_RATE_LIMIT
    # Every backend HTTP route (the API's own weights come on top), per client IP: 429.
    "http": ("1200/minute", None),
}
# The settings' field names (rate_limit_<action>_<scope>) -> their defaults.
RATE_LIMIT_FIELDS: dict[str, str] = {
    f"rate_limit_{action}_{scope}": default
    for action, pair in RATE_LIMIT_DEFAULTS.items()
    for scope, default in zip(("ip", "account"), pair, strict=True) if default is not None}
# Fields made from the table, under the names an environment variable gives them.
_RateLimitSettings = create_model(
    "_RateLimitSettings", __base__=BaseSettings,
    **{name: (str, Field(default, alias=name.upper()))
       for name, default in RATE_LIMIT_FIELDS.items()})


class Settings(_RateLimitSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_prefix=""
    )

    env: Literal["development", "test", "production"] = Field(
        "development", alias="BITCHANGE_ENV"
    )
    secret_key: str = Field("dev-secret-not-for-production", alias="SECRET_KEY")
    database_url: str = Field("", alias="DATABASE_URL")
    # SQLite: the write-ahead log is restarted long before it reaches this size, and cut back
    # to it after a complete checkpoint if a long reader let it grow past it.
    sqlite_wal_limit_bytes: int = Field(16 * 2**20, alias="SQLITE_WAL_LIMIT_BYTES", gt=0)
    data_dir: Path = Field(PROJECT_ROOT / "data", alias="DATA_DIR")
    public_url: str = Field("http://localhost:3000", alias="PUBLIC_URL")
    port: int = Field(3000, alias="PORT")
    # Development only: house accounts quote and trade every market (bitchange/demo_market.py).
    demo_liquidity: bool = Field(True, alias="DEMO_LIQUIDITY")

    session_idle_minutes: int = Field(30, alias="SESSION_IDLE_MINUTES")
    session_absolute_hours: int = Field(24, alias="SESSION_ABSOLUTE_HOURS")
    # Passkeys (bitchange.accounts.passkeys): their relying party is PUBLIC_URL's host. With
    # ADMIN_REQUIRE_PASSKEY an admin's second factor at login must be a passkey, and the admin
    # pages stay closed to an admin account that has none yet.
    admin_require_passkey: bool = Field(False, alias="ADMIN_REQUIRE_PASSKEY")
    passkeys_per_user: int = Field(10, alias="PASSKEYS_PER_USER", gt=0)
    # Price alerts (bitchange.alerts): how many pending alerts a user may have, and how often
    # the job reads the new trades.
    price_alerts_per_user: int = Field(5, alias="PRICE_ALERTS_PER_USER", gt=0)
    price_alert_interval_seconds: float = Field(5, alias="PRICE_ALERT_INTERVAL_SECONDS")

    smtp_host: str = Field("", alias="SMTP_HOST")
    smtp_port: int = Field(587, alias="SMTP_PORT")
    smtp_tls: Literal["none", "starttls", "ssl"] = Field("starttls", alias="SMTP_TLS")
    smtp_user: str = Field("", alias="SMTP_USER")
    smtp_password: str = Field("", alias="SMTP_PASSWORD")
    mail_from: str = Field("BitChange <no-reply@localhost>", alias="MAIL_FROM")

    s3_endpoint_url: str = Field("", alias="S3_ENDPOINT_URL")
    s3_region: str = Field("us-east-1", alias="S3_REGION")
    s3_bucket: str = Field("", alias="S3_BUCKET")
    s3_prefix: str = Field("bitchange/", alias="S3_PREFIX")
    s3_access_key_id: str = Field("", alias="S3_ACCESS_KEY_ID")
    s3_secret_access_key: str = Field("", alias="S3_SECRET_ACCESS_KEY")
    backup_encryption_key: str = Field("", alias="BACKUP_ENCRYPTION_KEY")
    # Operations (bitchange.ops, bitchange.jobs): backups, the scheduler, alerts, logs.
    backup_dir: Path | None = Field(None, alias="BACKUP_DIR")  # default: DATA_DIR/backups
    backup_schedule: str = Field("0 3 * * *", alias="BACKUP_SCHEDULE")  # cron, UTC
    backup_keep_daily: int = Field(7, alias="BACKUP_KEEP_DAILY")
    backup_keep_weekly: int = Field(4, alias="BACKUP_KEEP_WEEKLY")
    backup_stale_hours: int = Field(26, alias="BACKUP_STALE_HOURS")
    # /healthz says "degraded" below this much free space where the database and DATA_DIR live.
    health_min_free_mb: int = Field(100, alias="HEALTH_MIN_FREE_MB", ge=0)
    # Each backend process on a CPU of its own (bitchange/ops/cpu_pinning.py); unset: in
    # production only (see `pins_backend`).
    backend_cpu_pinning: bool | None = Field(None, alias="BACKEND_CPU_PINNING")
    scheduler_enabled: bool = Field(True, alias="SCHEDULER_ENABLED")
    scheduler_lease_seconds: int = Field(60, alias="SCHEDULER_LEASE_SECONDS")
    outbox_interval_seconds: float = Field(30, alias="OUTBOX_INTERVAL_SECONDS")
    reconcile_schedule: str = Field("15 * * * *", alias="RECONCILE_SCHEDULE")  # cron, UTC
    cleanup_schedule: str = Field("45 * * * *", alias="CLEANUP_SCHEDULE")  # cron, UTC
    # Unconfirmed withdrawal requests past their email link's expiry release their funds.
    withdrawal_expiry_schedule: str = Field("*/5 * * * *", alias="WITHDRAWAL_EXPIRY_SCHEDULE")
    # Proof of liabilities (bitchange.proof): a published snapshot, weekly by default.
    proof_snapshot_schedule: str = Field("30 4 * * 1", alias="PROOF_SNAPSHOT_SCHEDULE")
    alert_emails: str = Field("", alias="ALERT_EMAILS")  # extra addresses, comma separated
    log_format: Literal["auto", "json", "text"] = Field("auto", alias="LOG_FORMAT")

    # Wallet (bitchange.wallet). Deposit keys are watch-only, account-level extended public
    # keys: BIP84 zpub/xpub for BTC, BIP44 xpub (m/44'/60'/n') for ETH and ERC-20 USDT; empty
    # means deposits of that asset are unavailable. Amounts are decimal strings in whole units;
    # per-asset lists read "BTC=0.0002,ETH=0.002,USDT=5".
    deposit_xpub_btc: str = Field("", alias="DEPOSIT_XPUB_BTC")
    deposit_xpub_eth: str = Field("", alias="DEPOSIT_XPUB_ETH")
    deposit_xpub_usdt: str = Field("", alias="DEPOSIT_XPUB_USDT")
    deposit_min_confirmations: str = Field("BTC=2,ETH=12,USDT=12",
                                           alias="DEPOSIT_MIN_CONFIRMATIONS")
    deposit_second_approval_usdt: str = Field("10000", alias="DEPOSIT_SECOND_APPROVAL_USDT")
    withdrawal_fees: str = Field("BTC=0.0002,ETH=0.002,USDT=5", alias="WITHDRAWAL_FEES")
    withdrawal_minimums: str = Field("BTC=0.001,ETH=0.01,USDT=20", alias="WITHDRAWAL_MINIMUMS")
    # The operator's ceiling over every verification level (the level's own limit applies below).
    withdrawal_daily_limit_usdt: str = Field("250000", alias="WITHDRAWAL_DAILY_LIMIT_USDT")
    withdrawal_four_eyes_usdt: str = Field("10000", alias="WITHDRAWAL_FOUR_EYES_USDT")
    withdrawal_confirm_minutes: int = Field(30, alias="WITHDRAWAL_CONFIRM_MINUTES")
    withdrawal_address_hold_hours: float = Field(24, alias="WITHDRAWAL_ADDRESS_HOLD_HOURS")
    withdrawal_security_lock_hours: float = Field(24, alias="WITHDRAWAL_SECURITY_LOCK_HOURS")
    transfer_daily_limit_usdt: str = Field("250000", alias="TRANSFER_DAILY_LIMIT_USDT")

    # Verification levels, staking, support, promotions (issue #7). Limits per verification
    # level read "0=2000,1=50000,2=250000" (whole USDT per 24 hours); see bitchange.kyc.levels.
    kyc_withdrawal_limits_usdt: str = Field("0=2000,1=50000,2=250000",
                                            alias="KYC_WITHDRAWAL_LIMITS_USDT")
    kyc_transfer_limits_usdt: str = Field("0=2000,1=50000,2=250000",
                                          alias="KYC_TRANSFER_LIMITS_USDT")
    # KYC documents and ticket attachments (JPEG, PNG or PDF), stored in DATA_DIR/private.
    document_max_bytes: int = Field(5_000_000, alias="DOCUMENT_MAX_BYTES")
    # Per user: uploads not sent yet with a form or a ticket, and uploads per time window (the
    # `limits` package's notation, e.g. "30/hour"; in Redis when REFLEX_REDIS_URL is set).
    upload_pending_max: int = Field(10, alias="UPLOAD_PENDING_MAX", gt=0)
    upload_rate_limit: str = Field("30/hour", alias="UPLOAD_RATE_LIMIT")
    # Unsent uploads older than an hour are removed (rows and files).
    upload_cleanup_schedule: str = Field("*/10 * * * *", alias="UPLOAD_CLEANUP_SCHEDULE")
    staking_accrual_schedule: str = Field("10 0 * * *", alias="STAKING_ACCRUAL_SCHEDULE")
    staking_catchup_days: int = Field(7, alias="STAKING_CATCHUP_DAYS")
    # API market streams (Binance's limits): connection attempts per client IP per 5 minutes
    # and control messages per connection per second, counted in each backend process; and
    # how many sockets one process holds open at once, in all and per client IP.
    stream_connections_per_5m: int = Field(300, alias="STREAM_CONNECTIONS_PER_5M")
    stream_messages_per_second: int = Field(5, alias="STREAM_MESSAGES_PER_SECOND")
    stream_max_connections: int = Field(5000, alias="STREAM_MAX_CONNECTIONS", gt=0)
    stream_max_connections_per_ip: int = Field(300, alias="STREAM_MAX_CONNECTIONS_PER_IP",
                                               gt=0)

    redis_url: str = Field("", alias="REFLEX_REDIS_URL")

    # The trader API (bitchange.api): rate limits, declared in exchangeInfo.rateLimits and
    # shared through Redis (REDIS_URL, else REFLEX_REDIS_URL) by every worker when set.
    api_redis_url: str = Field("", alias="REDIS_URL")
    api_weight_per_minute: int = Field(6000, alias="API_WEIGHT_PER_MINUTE")  # per IP
    api_orders_per_10s: int = Field(100, alias="API_ORDERS_PER_10S")  # per account
    api_orders_per_day: int = Field(200_000, alias="API_ORDERS_PER_DAY")  # per account
    # A client refused this many times within a minute is banned (418), for twice as long
    # at each new ban within a day, starting at API_BAN_SECONDS.
    api_ban_after_refusals: int = Field(20, alias="API_BAN_AFTER_REFUSALS")
    api_ban_seconds: int = Field(120, alias="API_BAN_SECONDS")
    api_listen_key_minutes: int = Field(60, alias="API_LISTEN_KEY_MINUTES")

    # App-wide rate limits: `_RateLimitSettings` (RATE_LIMIT_<ACTION>_IP, _ACCOUNT) above.

    # GET /metrics (Prometheus). With a token, only `Authorization: Bearer <token>` is
    # answered; without one, only requests that did not pass a proxy (no X-Forwarded-For).
    # The public Caddyfile never forwards /metrics either.
    metrics_token: str = Field("", alias="METRICS_TOKEN")

    @field_validator("upload_rate_limit", *RATE_LIMIT_FIELDS)
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        if value.strip():
            parse_many(value)  # refuses what the limiter could not read
        return value.strip()

    @property
    def trusted_proxy_hops(self) -> int:
        """Proxies in front that write X-Forwarded-For: Caddy, exactly one, in production."""
        return 1 if self.is_production else 0

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def pins_backend(self) -> bool:
        """Pinning pays on a server that runs the exchange; on a developer's machine or a test
        runner the backend shares its CPUs with a browser and tools, which it must not crowd."""
        if self.backend_cpu_pinning is None:
            return self.is_production
        return self.backend_cpu_pinning

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'bitchange.db'}"

    @property
    def resolved_backup_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

    @property
    def private_dir(self) -> Path:
        """Files only authorised routes serve (KYC documents, ticket attachments): never under
        a publicly served folder."""
        return self.data_dir / "private"

    @property
    def cookie_secure(self) -> bool:
        return self.public_url.startswith("https://")


# Listen addresses a developer opens as localhost (the "every interface" ones included).
_LOCAL_HOSTS = frozenset({"", "127.0.0.1", "0.0.0.0", "::", "::1", "localhost"})  # noqa: S104


def public_url_for(settings: Settings, host: str, port: int) -> str:
    """PUBLIC_URL if it is set (environment or .env), else the address of the server the run
    command starts on host:port, so that the emails' links follow `--port`."""
    if "public_url" in settings.model_fields_set:
        return settings.public_url
    name = "localhost" if host in _LOCAL_HOSTS else f"[{host}]" if ":" in host else host
    return f"http://{name}:{port}"


def _is_weak_secret(value: str) -> bool:
    lowered = value.lower()
    return len(value) < 32 or any(marker in lowered for marker in EXAMPLE_SECRET_MARKERS)


def _is_example_or_missing(value: str) -> bool:
    """For credentials issued by a provider, whose length is theirs to choose."""
    return not value or any(marker in value.lower() for marker in EXAMPLE_SECRET_MARKERS)


def production_problems(settings: Settings) -> list[str]:
    """What stops a production start: missing, weak or example secrets, unsafe URLs."""
    problems: list[str] = []
    if _is_weak_secret(settings.secret_key):
        problems.append(
            "SECRET_KEY is missing, shorter than 32 characters or still the example value; "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    if not settings.public_url.startswith("https://"):
        problems.append("PUBLIC_URL must be the https:// address users open")
    if not settings.smtp_host:
        problems.append("SMTP_HOST is required: login alerts and recovery emails need it")
    elif settings.smtp_user and _is_example_or_missing(settings.smtp_password):
        problems.append("SMTP_PASSWORD is missing or still the example value")
    if settings.s3_bucket and _is_example_or_missing(settings.s3_secret_access_key):
        problems.append("S3_SECRET_ACCESS_KEY is missing or still the example value")
    if settings.backup_encryption_key and _is_weak_secret(settings.backup_encryption_key):
        problems.append("BACKUP_ENCRYPTION_KEY is weak or still the example value")
    return problems


class ConfigurationError(RuntimeError):
    """The settings are not safe to run with; the message says what to fix."""


def check_production(settings: Settings) -> None:
    if settings.is_production and (problems := production_problems(settings)):
        lines = "\n  - ".join(problems)
        raise ConfigurationError(f"Refusing to start in production:\n  - {lines}")


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reload_settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()
