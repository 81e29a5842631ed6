"""A key's HMAC secret is shown once and nowhere else: not in any log record (DEBUG, with
SQLAlchemy's statement log on) over its creation, signed requests and refused ones; not in
any email (delivered through the real SMTP server); not on the page once it is reloaded; not
in any text column of any table."""

from __future__ import annotations

import logging
import time

from sqlalchemy import MetaData, select

from bitchange import db
from bitchange.accounts import security
from bitchange.mail.outbox import deliver_due
from bitchange.state.api_keys import ApiKeysState
from tests.accounts.test_handlers import state_of
from tests.api.conftest import Signed
from tests.api.test_api_keys_page import token_for

ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
         "quantity": "0.001", "price": "30000"}


def _forms(secret: str) -> list[str]:
    return [secret, secret.lower(), secret.encode().hex()]


def _text_values() -> list[str]:
    """Every text (or bytes) value of every column of every table of the database."""
    values = []
    with db.read() as conn:
        metadata = MetaData()
        metadata.reflect(conn)
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                values += [v.decode("latin-1") if isinstance(v, bytes) else v
                           for v in row if isinstance(v, str | bytes) and v]
    return values


def test_the_secret_appears_in_no_log_email_page_or_table(client, alice, smtp_server,
                                                          caplog) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement, with values
    with db.write() as conn:
        security.set_anti_phishing_code(conn, alice.user_id, "blue heron")
    state = state_of(ApiKeysState, token_for(alice.user_id))
    state.load()
    state.create({"label": "bot", "kind": "hmac", "scope_read": "on", "scope_trade": "on",
                  "allowlist": "", "expiry_days": "", "code": alice.code()})
    secret, api_key = state.new_secret, state.new_key
    assert state.error == "" and len(secret) == 64  # shown this once

    api = Signed(client, api_key, secret)
    assert api.call("POST", "/order", ORDER).status_code == 200
    assert api.call("GET", "/account").status_code == 200
    refused = [
        api.call("GET", "/account", secret="x" * 64),  # a wrong signature
        api.call("GET", "/account", timestamp=int(time.time() * 1000) - 120_000),  # too old
        api.call("POST", "/order", ORDER | {"quantity": "100000"}),  # insufficient funds
        api.call("POST", "/order", ORDER | {"symbol": "NOPE"}),
        client.get("/api/v3/account", headers={"X-MBX-APIKEY": secret}),  # the secret as key
    ]
    assert all(r.status_code in (400, 401) for r in refused), [r.text for r in refused]
    with db.write() as conn:
        security.set_anti_phishing_code(conn, alice.user_id, "grey heron")
    state.revoke_all()
    assert api.call("GET", "/account").status_code == 401

    deliver_due()
    mails = smtp_server.to("alice@example.com")
    assert [m["Subject"] for m in mails if "API key" in m["Subject"]], [m["Subject"] for m in mails]
    state.load()  # the page, reloaded after creation
    page = repr({name: getattr(state, name) for name in ApiKeysState.base_vars})
    stored = _text_values()
    logged = [caplog.text] + [repr(r.args) for r in caplog.records]
    assert any(api_key in value for value in stored)  # the scan does see the keys' rows
    assert any("FROM api_keys" in record.getMessage() for record in caplog.records)
    for form in _forms(secret):
        assert not any(form in text for text in logged)
        assert not any(form in m.as_string() for m in mails)
        assert form not in page
        assert not any(form in value for value in stored)
