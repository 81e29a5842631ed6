"""App-wide rate limits, per client IP and per account, with the `limits` package: sign-up,
login, password reset, 2FA codes, orders and cancels from the screen, withdrawals, transfers,
tickets, uploads, and every backend HTTP route.

The limits are settings (`RATE_LIMIT_<ACTION>_IP`, `RATE_LIMIT_<ACTION>_ACCOUNT`, in the
package's notation, e.g. "10/minute;100/hour"; empty: none). Counts live in Redis when
REDIS_URL (else REFLEX_REDIS_URL) is set, so every worker and node shares one count, and in this
process's memory otherwise (one worker). The API's own Binance-style limits (bitchange.api.limits)
use the same storage.

Services call `check(action, TheirError, ip=..., account=...)`, which raises their own error
type with a message the screens already show ("Too many attempts; slow down and try again in
40 s."). Each refusal is counted (metric `bitchange_rate_limited_total`) and remembered for the
admin's "Rate limits" page: key, limit, count and time, for a day (the newest `KEEP` keys).
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import redis
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from bitchange.config import Settings, get_settings
from bitchange.ops import metrics

# action -> what is counted, in the refusal's message
ACTIONS: dict[str, str] = {
    "signup": "sign-up attempts",
    "login": "login attempts",
    "reset": "password reset attempts",
    "two_factor": "code attempts",
    "order": "orders",
    "cancel": "cancels",
    "withdrawal": "withdrawal requests",
    "transfer": "transfers",
    "ticket": "new tickets",
    "upload": "uploads",
    "http": "requests",
    # the trader API's own limits (bitchange.api.limits), recorded here too
    "api_weight": "API requests",
    "api_orders": "API orders",
}
SCOPES = ("ip", "account")
KEEP = 500  # refused keys remembered for the admin page
REMEMBER_SECONDS = 86_400


@dataclass(frozen=True)
class Refusal:
    action: str
    scope: str  # ip | account
    key: str  # the IP address, or the account (id or email)
    limit: str  # e.g. "10 per 1 minute"
    retry_after: int  # seconds

    @property
    def message(self) -> str:
        return (f"Too many {ACTIONS[self.action]}; slow down and try again in "
                f"{describe_wait(self.retry_after)}.")


@dataclass(frozen=True)
class RecentRefusal:
    """One refused key, for the admin page."""

    action: str
    scope: str
    key: str
    limit: str
    count: int  # refusals within the last day
    last_at: float  # unix time of the latest


def describe_wait(seconds: int) -> str:
    return f"{seconds} s" if seconds < 90 else f"{math.ceil(seconds / 60)} min"


def redis_url(settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    return settings.api_redis_url or settings.redis_url


class SweptMemoryStorage(MemoryStorage):
    """`limits`' memory storage with its clean-up on one long-lived thread. The package's own
    starts a new 10 ms `threading.Timer` at the first count after each sweep: under load, a
    thread per counted request (benchmarks/api_bench.py: most of the API's overhead). Counts
    stay exact without the sweep (`incr` and `get` drop an expired window themselves, the
    moving window compares times): it only frees the memory of idle keys."""

    SWEEP_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        threading.Thread(target=self._sweep, name="rate-limit-sweep", daemon=True).start()

    def _MemoryStorage__schedule_expiry(self) -> None:  # the package's per-count hook
        pass

    def _sweep(self) -> None:
        while True:
            time.sleep(self.SWEEP_SECONDS)
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


def new_storage(url: str | None = None) -> Storage:
    """Counters in Redis when configured (shared by all processes), else in this process."""
    url = redis_url() if url is None else url
    return RedisStorage(url) if url else SweptMemoryStorage()


@lru_cache(maxsize=4)
def _storage(url: str) -> Storage:
    return new_storage(url)


def storage() -> Storage:
    """This process's `new_storage()`, kept."""
    return _storage(redis_url())


def _namespace(settings: Settings) -> str:
    """One Redis may serve several exchanges (staging beside production): count per database."""
    return _digest(settings.resolved_database_url)


@lru_cache(maxsize=16)
def _digest(url: str) -> str:  # per request on every backend route: hashed once per database
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def limits_of(action: str, scope: str, settings: Settings | None = None) -> list[RateLimitItem]:
    settings = settings or get_settings()
    name = ("upload_rate_limit" if (action, scope) == ("upload", "account")
            else f"rate_limit_{action}_{scope}")
    spec = getattr(settings, name, "")
    return list(_parsed(spec)) if spec else []


@lru_cache(maxsize=128)
def _parsed(spec: str) -> tuple[RateLimitItem, ...]:  # per request: parsed once per setting
    return tuple(parse_many(spec))


def hit(action: str, *, ip: str = "", account: object = None) -> Refusal | None:
    """Count one attempt of `action` against the caller's IP and account (either may be
    absent); the first limit it exceeds, or None if it is allowed."""
    if action not in ACTIONS:
        raise KeyError(action)
    settings = get_settings()
    limiter = MovingWindowRateLimiter(storage())
    exchange = _namespace(settings)
    for scope, subject in (("ip", ip), ("account", account)):
        key = "" if subject is None else str(subject).strip().lower()
        if not key:
            continue
        for item in limits_of(action, scope, settings):
            if limiter.hit(item, exchange, action, scope, key):
                continue
            reset = limiter.get_window_stats(item, exchange, action, scope, key).reset_time
            refusal = Refusal(action, scope, key, str(item),
                              max(1, math.ceil(reset - time.time())))
            refused(refusal)
            return refusal
    return None


def check(action: str, error: type[Exception], *, ip: str = "", account: object = None) -> None:
    """`hit`, raising `error(message)` (the service's own error type) when refused."""
    refusal = hit(action, ip=ip, account=account)
    if refusal is not None:
        raise error(refusal.message)


def refused(refusal: Refusal) -> None:
    """Count a refusal and remember it for the admin page (the API's limiter calls it too)."""
    metrics.RATE_LIMITED.labels(refusal.action, refusal.scope).inc()
    _log().add(refusal)


def recent(limit: int = 100) -> list[RecentRefusal]:
    """The keys refused lately, newest first."""
    return _log().recent(limit)


def admin_rows(limit: int = 100) -> list[dict[str, str]]:
    """The admin page's table: who is being limited, by what, how often, when last."""
    return [{"when": datetime.fromtimestamp(r.last_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
             "action": r.action, "scope": r.scope, "key": r.key, "limit": r.limit,
             "count": str(r.count)} for r in recent(limit)]


# --- the record of refusals: memory (one process) or Redis (shared) ----------------------------


class _MemoryLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, str, str], list[float]] = OrderedDict()

    def add(self, refusal: Refusal) -> None:
        member = (refusal.action, refusal.scope, refusal.key, refusal.limit)
        moment = time.time()
        with self._lock:
            count, _ = self._entries.pop(member, [0, 0.0])
            self._entries[member] = [count + 1, moment]
            while len(self._entries) > KEEP:
                self._entries.popitem(last=False)

    def recent(self, limit: int) -> list[RecentRefusal]:
        cutoff = time.time() - REMEMBER_SECONDS
        with self._lock:
            items = list(self._entries.items())
        return [RecentRefusal(*member, int(count), last) for member, (count, last)
                in reversed(items) if last > cutoff][:limit]


class _RedisLog:
    def __init__(self, url: str, exchange: str) -> None:
        self._client = redis.Redis.from_url(url)
        self._recent = f"bc-rl-refused/{exchange}"
        self._counts = f"bc-rl-refused-count/{exchange}/"

    def add(self, refusal: Refusal) -> None:
        member = json.dumps([refusal.action, refusal.scope, refusal.key, refusal.limit])
        moment = time.time()
        pipe = self._client.pipeline()
        pipe.zadd(self._recent, {member: moment})
        pipe.incr(self._counts + member)
        pipe.expire(self._counts + member, REMEMBER_SECONDS)
        pipe.zremrangebyscore(self._recent, 0, moment - REMEMBER_SECONDS)
        pipe.zremrangebyrank(self._recent, 0, -KEEP - 1)
        pipe.expire(self._recent, REMEMBER_SECONDS)
        pipe.execute()

    def recent(self, limit: int) -> list[RecentRefusal]:
        rows = self._client.zrevrange(self._recent, 0, limit - 1, withscores=True)
        if not rows:
            return []
        counts = self._client.mget([self._counts + m.decode() for m, _ in rows])
        return [RecentRefusal(*json.loads(member), int(count or 1), score)
                for (member, score), count in zip(rows, counts, strict=True)]


@lru_cache(maxsize=4)
def _log_for(url: str, exchange: str) -> _MemoryLog | _RedisLog:
    return _RedisLog(url, exchange) if url else _MemoryLog()


def _log() -> _MemoryLog | _RedisLog:
    settings = get_settings()
    return _log_for(redis_url(settings), _namespace(settings))


def forget_caches() -> None:
    """Drop the storage and record clients (a test reaching 'another process')."""
    _storage.cache_clear()
    _log_for.cache_clear()
