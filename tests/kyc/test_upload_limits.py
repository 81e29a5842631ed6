"""A user's uploads are limited: at most UPLOAD_PENDING_MAX not sent yet (a new file for the same
document replaces its draft), and at most UPLOAD_RATE_LIMIT uploads per window, counted in Redis
across processes when REFLEX_REDIS_URL is set."""

from __future__ import annotations

import asyncio
import io

import pytest
import reflex as rx
from sqlalchemy import func, select

from bitchange import db, ratelimits
from bitchange.config import reload_settings
from bitchange.documents import storage
from bitchange.documents.storage import DocumentError
from bitchange.documents.tables import PrivateFile
from bitchange.state.support import SupportState
from bitchange.state.verification import VerificationState
from tests.accounts.test_handlers import state_of
from tests.kyc.test_handlers import token_for
from tests.kyc.test_kyc import IDENTITY, JPEG, PNG
from tests.staking.conftest import make_user


def _file(data: bytes = PNG) -> list[rx.UploadFile]:
    return [rx.UploadFile(file=io.BytesIO(data))]


def _unsent(user_id: int) -> int:
    with db.read() as conn:
        return storage.unsent_count(conn, user_id)


def _files_on_disk() -> int:
    from bitchange.config import get_settings

    return sum(1 for path in get_settings().private_dir.rglob("*") if path.is_file())


def _settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    reload_settings()


def test_unsent_uploads_are_capped_per_user(database, monkeypatch):
    _settings(monkeypatch, UPLOAD_PENDING_MAX="3")
    alice = make_user("alice@example.com")
    kyc = state_of(VerificationState, token_for(alice))
    for data in (PNG, JPEG, PNG, JPEG, PNG):  # the same document, chosen again and again
        asyncio.run(kyc.upload_id_front(_file(data)))
    assert kyc.error == "" and _unsent(alice) == 1 and _files_on_disk() == 1
    asyncio.run(kyc.upload_id_back(_file()))
    asyncio.run(kyc.upload_selfie(_file()))
    assert _unsent(alice) == 3

    ticket = state_of(SupportState, token_for(alice))
    asyncio.run(ticket.attach(_file()))
    assert ticket.upload_error.startswith("You have 3 uploads not sent yet")
    assert ticket.attachment_name == "" and _unsent(alice) == 3
    bob = state_of(SupportState, token_for(make_user("bob@example.com")))
    asyncio.run(bob.attach(_file()))  # a quota of alice's, not everyone's
    assert bob.upload_error == "" and bob.attachment_name.startswith("Attached")

    kyc.next_level = 1
    kyc.submit({"full_name": IDENTITY.full_name, "date_of_birth": IDENTITY.date_of_birth,
                "country": IDENTITY.country, "document_number": IDENTITY.document_number})
    assert kyc.error == "" and _unsent(alice) == 0  # sent: no longer counted
    asyncio.run(ticket.attach(_file()))
    assert ticket.upload_error == "" and ticket.attachment_name.startswith("Attached")


def test_uploads_are_rate_limited_per_user(database, monkeypatch):
    _settings(monkeypatch, UPLOAD_RATE_LIMIT="2/hour")
    alice = make_user("alice@example.com")
    ticket = state_of(SupportState, token_for(alice))
    for _ in range(2):
        asyncio.run(ticket.attach(_file()))
        assert ticket.upload_error == ""
    asyncio.run(ticket.attach(_file()))
    assert ticket.upload_error == "Too many uploads; slow down and try again in 60 min."
    with db.read() as conn:  # the refused upload stored nothing
        assert conn.scalar(select(func.count()).select_from(PrivateFile.__table__)) == 1
    bob = state_of(SupportState, token_for(make_user("bob@example.com")))
    asyncio.run(bob.attach(_file()))
    assert bob.upload_error == ""


def test_the_rate_limit_is_shared_through_redis(database, monkeypatch):
    _settings(monkeypatch, UPLOAD_RATE_LIMIT="2/hour", REFLEX_REDIS_URL="redis://127.0.0.1:6379")
    alice = make_user("alice@example.com")
    for _ in range(2):
        storage.upload(alice, "support", PNG)
        ratelimits.forget_caches()  # the next upload reaches another worker process
    with pytest.raises(DocumentError, match="Too many uploads"):
        storage.upload(alice, "support", PNG)
