"""Helpers for the account service tests: a user, the emails they got, the token in a link."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from bitchange import db
from bitchange.accounts.users import create_user
from bitchange.mail.outbox import deliver_due

PASSWORD = "correct-horse-battery-9"
UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
UA_CHROME_WIN = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                 "Gecko) Chrome/130.0 Safari/537.36")


def token_from(link: str) -> str:
    return parse_qs(urlparse(link).query)["token"][0]


def deliver() -> int:
    return deliver_due()


@pytest.fixture
def user(database) -> int:
    with db.write() as conn:
        return create_user(conn, "trader@example.com", PASSWORD, verified=True)
