"""Rate limits: request weight per IP, new orders per account, 429 with Retry-After, then 418
with a ban that grows; and one count shared by two processes through Redis."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
from limits.storage import RedisStorage

from bitchange.api.errors import ApiError
from bitchange.api.limits import Limiter, limiter
from bitchange.config import reload_settings
from tests.api.conftest import Signed, new_key
from tests.api.test_rest import LIMIT_BUY, orders_count, reconciled

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def tight(monkeypatch, client):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("API_WEIGHT_PER_MINUTE", "10")
    monkeypatch.setenv("API_ORDERS_PER_10S", "2")
    monkeypatch.setenv("API_BAN_AFTER_REFUSALS", "3")
    reload_settings()
    limiter.cache_clear()
    yield client
    monkeypatch.delenv("API_WEIGHT_PER_MINUTE")
    reload_settings()
    limiter.cache_clear()


def test_weight_is_reported_then_refused_then_banned(tight) -> None:
    info = tight.get("/api/v3/exchangeInfo")  # weight 20 > 10: refused at once
    assert info.status_code == 429 and info.json()["code"] == -1003
    assert int(info.headers["Retry-After"]) >= 1
    limiter.cache_clear()
    used = [tight.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"] for _ in range(10)]
    assert used == [str(n) for n in range(1, 11)]
    refused = [tight.get("/api/v3/ping") for _ in range(3)]
    assert [r.status_code for r in refused] == [429, 429, 429]
    assert "current limit is 10 request weight per 1 MINUTE" in refused[0].json()["msg"]
    banned = tight.get("/api/v3/ping")
    assert banned.status_code == 418 and "IP banned until" in banned.json()["msg"]
    assert 1 <= int(banned.headers["Retry-After"]) <= 120


def test_the_ban_doubles_each_time() -> None:
    from limits.storage import MemoryStorage

    storage = MemoryStorage()
    limits = Limiter(storage, weight=1, orders_10s=1, orders_day=1, ban_after=1, ban_seconds=100)
    limits.spend_weight("1.2.3.4", 1)
    for _ in range(2):  # over the limit twice: banned twice
        storage.clear("bc-api-banned/1.2.3.4")
        with pytest.raises(ApiError) as refused:
            limits.spend_weight("1.2.3.4", 1)
        assert refused.value.status == 429
    with pytest.raises(ApiError) as banned:
        limits.spend_weight("1.2.3.4", 1)
    assert banned.value.status == 418
    remaining = storage.get_expiry("bc-api-banned/1.2.3.4") - time.time()
    assert 150 < remaining <= 200  # the second ban: twice the first


def test_orders_per_account_per_10_seconds(tight, alice) -> None:
    limiter.cache_clear()
    key = new_key(alice)
    api = Signed(tight, key.api_key, key.secret)  # type: ignore[arg-type]
    first = api.call("POST", "/order", LIMIT_BUY)
    assert first.headers["X-MBX-ORDER-COUNT-10S"] == "1"
    assert api.call("POST", "/order", LIMIT_BUY).headers["X-MBX-ORDER-COUNT-10S"] == "2"
    third = api.call("POST", "/order", LIMIT_BUY)
    assert third.status_code == 429 and third.json() == {
        "code": -1015, "msg": "Too many new orders; current limit is 2 orders per 10 SECOND."}
    assert orders_count() == 2 and reconciled()


def test_two_processes_share_one_count_through_redis() -> None:
    ip = f"test-{uuid.uuid4().hex}"
    here = Limiter(RedisStorage(REDIS), 100, 10, 10, 5, 60)
    assert here.spend_weight(ip, 30) == 30
    child = subprocess.run([sys.executable, "-c", (
        "from limits.storage import RedisStorage\n"
        "from bitchange.api.limits import Limiter\n"
        f"print(Limiter(RedisStorage({REDIS!r}), 100, 10, 10, 5, 60).spend_weight({ip!r}, 50))")],
        capture_output=True, text=True, check=True, timeout=60)
    assert child.stdout.strip() == "80"
    with pytest.raises(ApiError) as refused:
        here.spend_weight(ip, 21)
    assert refused.value.status == 429


@pytest.mark.parametrize(("path", "weight"), [
    ("/depth?symbol=BTCUSDT", 5), ("/depth?symbol=BTCUSDT&limit=500", 25),
    ("/depth?symbol=BTCUSDT&limit=1000", 50), ("/depth?symbol=BTCUSDT&limit=5000", 250),
    ("/ticker/24hr?symbol=BTCUSDT", 2), ("/ticker/24hr", 80),
    ('/ticker/24hr?symbols=["BTCUSDT","ETHUSDT"]', 2),
    ("/ticker/price?symbol=BTCUSDT", 2), ("/ticker/price", 4),
    ("/ticker/bookTicker", 4), ("/ticker?symbol=BTCUSDT", 4),
    ('/ticker?symbols=["BTCUSDT","ETHUSDT"]', 8),
    ("/depth?symbol=BTCUSDT&symbol=ETHUSDT", 5),  # refused (-1101), still counted
])
def test_weights_follow_binances_tables(client, path, weight) -> None:
    before = int(client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"])
    after = int(client.get("/api/v3" + path).headers["X-MBX-USED-WEIGHT-1M"])
    assert after - before == weight


def test_signed_weights_depend_on_the_parameters(client, alice_api) -> None:
    def weight(path: str, params: dict[str, str]) -> int:
        before = int(client.get("/api/v3/ping").headers["X-MBX-USED-WEIGHT-1M"])
        answer = alice_api.call("GET", path, params)
        return int(answer.headers["X-MBX-USED-WEIGHT-1M"]) - before

    assert weight("/openOrders", {"symbol": "BTCUSDT"}) == 6
    assert weight("/openOrders", {}) == 80
    assert weight("/myTrades", {"symbol": "BTCUSDT"}) == 20
    assert weight("/myTrades", {"symbol": "BTCUSDT", "orderId": "1"}) == 5
