"""App-wide rate limits (bitchange.ratelimits): per IP and per account, shown on the screens as
"slow down" messages, 429 with Retry-After on backend routes, one count shared through Redis by
several processes, nobody else affected, and the admin page listing who was refused."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid

import pyotp
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from bitchange import db, ratelimits
from bitchange.accounts import security, totp
from bitchange.accounts.users import AccountError, create_user
from bitchange.config import get_settings, reload_settings
from bitchange.ops import metrics
from bitchange.state.admin.rate_limits import AdminRateLimitsState
from bitchange.state.login import LoginState
from bitchange.state.support import SupportState
from bitchange.state.transfer import TransferState
from bitchange.state.verification import VerificationState
from bitchange.support import service as support
from bitchange.support.service import SupportError
from bitchange.trading.tables import Order
from bitchange.wallet import transfers, withdrawals
from bitchange.wallet.errors import WalletError
from bitchange.web_guard import client_ip
from tests.accounts.conftest import PASSWORD, UA_FIREFOX
from tests.accounts.test_handlers import session_for, state_of
from tests.kyc.test_handlers import token_for
from tests.kyc.test_upload_limits import _file
from tests.livetabs import call, cookie_for
from tests.trading.conftest import BTC, USDT, make_trader, qty
from tests.trading.test_trade_screen import trade_state

REDIS = "redis://127.0.0.1:6379/0"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def limits(monkeypatch):  # type: ignore[no-untyped-def]
    """Set rate-limit settings for one test (fresh counters: memory, or a fresh Redis prefix
    through the test's own database URL)."""
    def configure(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        reload_settings()
        ratelimits.forget_caches()
    yield configure
    ratelimits.forget_caches()


@pytest.fixture
def user(database) -> int:
    with db.write() as conn:
        return create_user(conn, "trader@example.com", PASSWORD, verified=True)


@pytest.fixture
def admin_with_2fa(database) -> str:
    """A session cookie token of an admin with 2FA on."""
    with db.write() as conn:
        admin_id = create_user(conn, "ops@example.com", PASSWORD, is_admin=True, verified=True)
        totp.enable_with_secret(conn, admin_id, TOTP_SECRET)
    return session_for("ops@example.com", pyotp.TOTP(TOTP_SECRET).now())


def refusals(action: str, scope: str) -> float:
    return metrics.RATE_LIMITED.labels(action, scope)._value.get()


def test_login_attempts_are_limited_per_account_and_per_ip(user, limits):
    limits(RATE_LIMIT_LOGIN_ACCOUNT="3/minute", RATE_LIMIT_LOGIN_IP="5/minute")
    before = refusals("login", "account")
    with db.write() as conn:
        outcomes = [security.login_password(conn, "trader@example.com", PASSWORD,
                                            ip=f"10.0.0.{n}", user_agent=UA_FIREFOX)
                    for n in range(4)]
    assert [o.status for o in outcomes] == ["ok", "ok", "ok", "throttled"]
    assert outcomes[3].message.startswith("Too many login attempts; slow down and try again in ")
    assert refusals("login", "account") == before + 1
    # Per IP: five attempts from one address at five different accounts, then refused.
    with db.write() as conn:
        by_ip = [security.login_password(conn, f"nobody{n}@example.com", "x" * 12,
                                         ip="203.0.113.9", user_agent=UA_FIREFOX).status
                 for n in range(6)]
    assert by_ip == ["failed"] * 5 + ["throttled"]


def test_the_login_screen_says_slow_down_and_other_users_log_in(user, limits):
    limits(RATE_LIMIT_LOGIN_ACCOUNT="2/minute")
    with db.write() as conn:
        security.sign_up(conn, "other@example.com", PASSWORD, ip="10.1.1.1")
    form = {"email": "trader@example.com", "password": "wrong password here"}
    screen = state_of(LoginState)
    for _ in range(2):
        screen.submit(form)
        assert screen.error == "Incorrect email or password."
    screen.submit({**form, "password": PASSWORD})  # even the right password: slow down
    assert screen.error.startswith("Too many login attempts; slow down and try again in ")
    assert screen.error.endswith(" s.")
    other = state_of(LoginState)
    assert other.submit({"email": "other@example.com", "password": PASSWORD}) is not None
    assert other.error == ""


def test_sign_up_reset_and_codes_are_limited(database, smtp_server, limits):
    limits(RATE_LIMIT_SIGNUP_IP="2/hour", RATE_LIMIT_RESET_ACCOUNT="1/hour",
           RATE_LIMIT_TWO_FACTOR_ACCOUNT="1/minute")
    with db.write() as conn:
        security.sign_up(conn, "a@example.com", PASSWORD, ip="198.51.100.7")
        security.sign_up(conn, "b@example.com", PASSWORD, ip="198.51.100.7")
    with pytest.raises(AccountError, match="Too many sign-up attempts; slow down"), \
            db.write() as conn:
        security.sign_up(conn, "c@example.com", PASSWORD, ip="198.51.100.7")
    with db.write() as conn:
        assert security.sign_up(conn, "c@example.com", PASSWORD, ip="198.51.100.8") \
            == security.CHECK_INBOX  # another address is not affected
        assert security.request_reset(conn, "a@example.com", ip="1.1.1.1") \
            == security.CHECK_INBOX
        assert security.request_reset(conn, "a@example.com", ip="1.1.1.2").startswith(
            "Too many password reset attempts; slow down")
        assert security.confirm_two_factor(conn, 1, "000000") is None  # a wrong code
    with pytest.raises(AccountError, match="Too many code attempts"), db.write() as conn:
        security.confirm_two_factor(conn, 1, "000000")


def test_orders_and_cancels_from_the_screen_say_slow_down(database, limits):
    limits(RATE_LIMIT_ORDER_ACCOUNT="2/minute", RATE_LIMIT_CANCEL_ACCOUNT="1/minute")
    alice = make_trader("alice@example.com", {"USDT": 100_000 * USDT})
    bob = make_trader("bob@example.com", {"USDT": 100_000 * USDT})
    _, screen = trade_state(cookie=cookie_for(alice.user_id))
    call(screen, "load")
    for _ in range(3):
        call(screen, "set_price", "100")
        call(screen, "set_amount", "0.1")
        call(screen, "place_order")
    assert screen.form_error.startswith("Too many orders; slow down and try again in ")
    orders = Order.__table__
    with db.read() as conn:
        assert conn.scalar(select(func.count()).select_from(orders)) == 2  # the third: nothing
        first = conn.scalar(select(func.min(orders.c.id)))
    call(screen, "cancel_order", str(first))
    assert screen.notice == f"Order #{first} cancelled"
    call(screen, "cancel_all")
    assert screen.form_error.startswith("Too many cancels; slow down")
    _, other = trade_state("tab-2", cookie=cookie_for(bob.user_id))  # bob is not limited
    call(other, "load")
    call(other, "set_price", "100")
    call(other, "set_amount", "0.1")
    call(other, "place_order")
    assert other.form_error == "" and other.notice


def test_withdrawals_transfers_and_tickets_are_limited_per_account(database, limits):
    limits(RATE_LIMIT_TRANSFER_ACCOUNT="1/hour", RATE_LIMIT_TICKET_ACCOUNT="1/hour",
           RATE_LIMIT_WITHDRAWAL_IP="1/hour")
    alice = make_trader("alice@example.com", {"BTC": BTC})
    bob = make_trader("bob@example.com", {})
    with pytest.raises(WalletError) as first:  # no such address, but counted
        withdrawals.request(alice.user_id, 999, qty("0.1"), "", ip="192.0.2.10", asset="BTC")
    assert "Too many" not in str(first.value)
    with pytest.raises(WalletError, match="Too many withdrawal requests; slow down"):
        withdrawals.request(bob.user_id, 999, qty("0.1"), "", ip="192.0.2.10", asset="BTC")
    with pytest.raises(WalletError):  # refused for its own reason (no 2FA), but counted
        transfers.send(alice.user_id, "bob@example.com", "BTC", qty("0.1"), "", "")
    with pytest.raises(WalletError, match="Too many transfers; slow down"):
        transfers.send(alice.user_id, "bob@example.com", "BTC", qty("0.1"), "", "")
    with db.write() as conn:
        support.open_ticket(conn, alice.user_id, subject="Help me", category="other",
                            body="A question about my account.")
    with pytest.raises(SupportError, match="Too many new tickets; slow down"), \
            db.write() as conn:
        support.open_ticket(conn, alice.user_id, subject="Help again", category="other",
                            body="Another question about it.")


def test_transfer_ticket_and_upload_screens_count_the_clients_address(database, limits):
    """Two users behind one address (`state_of`'s client IP): the screens pass it on."""
    limits(RATE_LIMIT_TRANSFER_IP="1/hour", RATE_LIMIT_TICKET_IP="1/hour",
           RATE_LIMIT_UPLOAD_IP="1/hour")
    alice = make_trader("alice@example.com", {"BTC": BTC})
    bob = make_trader("bob@example.com", {"BTC": BTC})
    screens = {who.user_id: (state_of(TransferState, token_for(who.user_id)),
                             state_of(SupportState, token_for(who.user_id)))
               for who in (alice, bob)}
    ticket = {"subject": "Help me", "category": "other", "body": "A question about it."}
    for who in (alice, bob):
        transfer, support_screen = screens[who.user_id]
        transfer.send({"email": "carol@example.com", "asset": "BTC", "amount": "0.1",
                       "code": ""})
        support_screen.open_ticket(ticket)
    alice_transfer, alice_support = screens[alice.user_id]
    assert "Too many" not in alice_transfer.error and alice_support.error == ""
    bob_transfer, bob_support = screens[bob.user_id]
    assert bob_transfer.error.startswith("Too many transfers; slow down")
    assert bob_support.error.startswith("Too many new tickets; slow down")
    asyncio.run(alice_support.attach(_file()))
    assert alice_support.upload_error == ""
    kyc = state_of(VerificationState, token_for(bob.user_id))
    asyncio.run(kyc.upload_id_front(_file()))
    assert "Too many uploads; slow down" in kyc.error


def test_backend_routes_answer_429_with_retry_after(database, limits):
    from bitchange.web import api

    limits(RATE_LIMIT_HTTP_IP="3/minute")
    client = TestClient(api)
    answers = [client.get("/api/docs") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert answers[3].text.startswith("Too many requests; slow down")
    program = client.get("/api/v3/ping")  # the API answers in Binance's shape
    assert program.status_code == 429 and program.json()["code"] == -1003
    assert client.get("/healthz").status_code == 200  # health checks are never limited
    rows = ratelimits.admin_rows()
    assert rows[0]["action"] == "http" and rows[0]["key"] == "testclient"
    assert rows[0]["limit"] == "3 per 1 minute" and rows[0]["count"] == "2"


def test_the_admin_page_lists_who_is_limited(admin_with_2fa, limits):
    limits(RATE_LIMIT_WITHDRAWAL_ACCOUNT="1/hour")
    assert ratelimits.hit("withdrawal", account=4242) is None
    assert ratelimits.hit("withdrawal", account=4242).retry_after > 3000  # type: ignore[union-attr]
    anonymous = state_of(AdminRateLimitsState)
    anonymous.load()
    assert anonymous.access == "denied" and anonymous.rows == []
    page = state_of(AdminRateLimitsState, admin_with_2fa)
    page.load()
    assert page.access == "admin"
    assert [(r["action"], r["scope"], r["key"], r["limit"], r["count"]) for r in page.rows] == [
        ("withdrawal", "account", "4242", "1 per 1 hour", "1")]


def _hit_in_another_process(database_url: str, key: str) -> str:
    code = ("from bitchange import ratelimits\n"
            f"r = ratelimits.hit('withdrawal', account={key!r})\n"
            "print(r.message if r else 'allowed')\n")
    env = {"DATABASE_URL": database_url, "REDIS_URL": REDIS,
           "RATE_LIMIT_WITHDRAWAL_ACCOUNT": "2/hour", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": ":".join(sys.path)}, timeout=60,
                          check=True)
    return done.stdout.strip()


def test_two_processes_share_one_count_through_redis(database, limits):
    limits(REDIS_URL=REDIS, RATE_LIMIT_WITHDRAWAL_ACCOUNT="2/hour")
    key = f"user-{uuid.uuid4().hex}"
    assert ratelimits.hit("withdrawal", account=key) is None  # this process: 1
    assert _hit_in_another_process(database, key) == "allowed"  # another worker: 2
    third = _hit_in_another_process(database, key)
    assert third.startswith("Too many withdrawal requests; slow down and try again in ")
    refused = ratelimits.hit("withdrawal", account=key)  # and here too
    assert refused is not None and refused.scope == "account"
    assert ratelimits.hit("withdrawal", account=f"{key}-other") is None  # others unaffected
    # The admin page reads the same record from Redis, whichever process refused.
    mine = [r for r in ratelimits.recent() if r.key == key]
    assert len(mine) == 1 and mine[0].count == 2


def test_behind_the_proxy_the_client_address_is_the_proxys_entry(monkeypatch):
    scope = {"client": ("172.18.0.5", 40000),
             "headers": [(b"x-forwarded-for", b"10.9.9.9, 203.0.113.7")]}
    assert client_ip(scope) == "172.18.0.5"  # development: X-Forwarded-For is not trusted
    monkeypatch.setattr(type(get_settings()), "trusted_proxy_hops", property(lambda s: 1))
    assert client_ip(scope) == "203.0.113.7"  # what Caddy saw; the client's claim is ignored
    assert client_ip({"client": ("172.18.0.5", 1), "headers": []}) == "172.18.0.5"
