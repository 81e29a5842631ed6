"""The API's rate limits (Binance's model), with the `limits` package: request weight per IP
per minute, new orders per account per 10 seconds and per day, in fixed windows. Memory
storage in one process; Redis when REDIS_URL (or REFLEX_REDIS_URL) is set, so every worker
shares one count. A client that keeps going after being refused is banned (418) for a time
that doubles at each ban."""

from __future__ import annotations

import math
import time
from functools import lru_cache

from limits import (
    RateLimitItem,
    RateLimitItemPerDay,
    RateLimitItemPerMinute,
    RateLimitItemPerSecond,
)
from limits.storage import Storage

from bitchange import ratelimits
from bitchange.api.errors import ApiError
from bitchange.config import get_settings

BAN_MEMORY_SECONDS = 86_400  # bans within a day make the next one longer


class Limiter:
    def __init__(self, storage: Storage, weight: int, orders_10s: int, orders_day: int,
                 ban_after: int, ban_seconds: int) -> None:
        self.storage = storage
        self.weight = RateLimitItemPerMinute(weight, namespace="bc-api-weight")
        self.orders_10s = RateLimitItemPerSecond(orders_10s, 10, namespace="bc-api-orders")
        self.orders_day = RateLimitItemPerDay(orders_day, namespace="bc-api-orders-day")
        self.ban_after = ban_after
        self.ban_seconds = ban_seconds

    def rate_limits(self) -> list[dict[str, object]]:
        """exchangeInfo.rateLimits."""
        return [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": self.weight.amount},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
             "limit": self.orders_10s.amount},
            {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
             "limit": self.orders_day.amount},
        ]

    def _retry_after(self, reset_at: float) -> str:
        return str(max(1, math.ceil(reset_at - time.time())))

    def _banned(self, ip: str) -> None:
        if self.storage.get(f"bc-api-banned/{ip}"):
            until = self.storage.get_expiry(f"bc-api-banned/{ip}")
            stamp = int(until * 1000)
            raise ApiError(-1003, f"Way too much request weight used; IP banned until {stamp}. "
                                  "Please use WebSocket Streams for live updates to avoid bans.",
                           418, {"Retry-After": self._retry_after(until)})

    def _refused(self, ip: str) -> None:
        """Count a refusal; past `ban_after` in a minute, ban the IP (longer each time)."""
        if self.storage.incr(f"bc-api-refused/{ip}", 60) >= self.ban_after:
            bans = self.storage.incr(f"bc-api-bans/{ip}", BAN_MEMORY_SECONDS)
            self.storage.incr(f"bc-api-banned/{ip}", self.ban_seconds * 2 ** min(bans - 1, 10))
            self.storage.clear(f"bc-api-refused/{ip}")

    def _spend(self, item: RateLimitItem, who: str, cost: int = 1) -> int:
        """Count `cost` in `item`'s current window for `who`, as the fixed-window strategy's
        `hit` does, keeping the window's total: one storage call (one Redis round trip)
        where `hit` and `get_window_stats` take three."""
        return self.storage.incr(item.key_for(who), item.get_expiry(), amount=cost)

    def _reset(self, item: RateLimitItem, who: str) -> float:
        return self.storage.get_expiry(item.key_for(who))

    def spend_weight(self, ip: str, weight: int) -> int:
        """Count a request's weight; returns the weight used this minute, or raises 429/418."""
        self._banned(ip)
        used = self._spend(self.weight, ip, weight)
        if used > self.weight.amount:
            self._refused(ip)
            ratelimits.refused(ratelimits.Refusal(
                "api_weight", "ip", ip, str(self.weight),
                int(self._retry_after(self._reset(self.weight, ip)))))
            raise ApiError(-1003, f"Too much request weight used; current limit is "
                                  f"{self.weight.amount} request weight per 1 MINUTE. Please use "
                                  "WebSocket Streams for live updates to avoid polling the API.",
                           429, {"Retry-After": self._retry_after(self._reset(self.weight, ip)),
                                 "X-MBX-USED-WEIGHT-1M": str(self.weight.amount)})
        return used

    def spend_order(self, user_id: int, count: int = 1) -> dict[str, str]:
        """Count `count` new orders of the account (an OCO list is two); returns the headers,
        or raises 429."""
        who = str(user_id)
        counts = []
        for item, label in ((self.orders_10s, "10 SECOND"), (self.orders_day, "1 DAY")):
            used = self._spend(item, who, count)
            if used > item.amount:
                ratelimits.refused(ratelimits.Refusal(
                    "api_orders", "account", who, str(item),
                    int(self._retry_after(self._reset(item, who)))))
                raise ApiError(-1015, f"Too many new orders; current limit is {item.amount} "
                                      f"orders per {label}.", 429,
                               {"Retry-After": self._retry_after(self._reset(item, who))})
            counts.append(used)
        return {"X-MBX-ORDER-COUNT-10S": str(counts[0]), "X-MBX-ORDER-COUNT-1D": str(counts[1])}


@lru_cache(maxsize=1)
def limiter() -> Limiter:
    settings = get_settings()
    return Limiter(ratelimits.new_storage(), settings.api_weight_per_minute,
                   settings.api_orders_per_10s, settings.api_orders_per_day,
                   settings.api_ban_after_refusals, settings.api_ban_seconds)
