"""Verification: documents checked from their content and size, stored privately, served only
to admins; submissions reviewed with emails at each decision; levels that raise the limits."""

from __future__ import annotations

import logging
import stat

import pytest
from sqlalchemy import insert, select
from starlette.testclient import TestClient

from bitchange import clock, db
from bitchange.accounts import totp
from bitchange.accounts.audit import search
from bitchange.accounts.sessions import activate_session, start_session
from bitchange.accounts.tables import Passkey
from bitchange.config import get_settings, reload_settings
from bitchange.documents import storage
from bitchange.documents.storage import DocumentError
from bitchange.kyc import daily_withdrawal_limit_usdt, level_of, transfer_limit_usdt
from bitchange.kyc import service as kyc
from bitchange.kyc.service import Details, KycError
from bitchange.mail.outbox import deliver_due
from bitchange.mail.tables import OutboxMessage
from tests.mailbox import text_of
from tests.staking.conftest import USDT, make_user

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x11" * 200
PDF = b"%PDF-1.7\n" + b"%" * 200
IDENTITY = Details(full_name="Alice Example", date_of_birth="1990-04-01", country="France",
                   document_number="XK1234567")
ADDRESS = Details(address_line="12 Rue de la Paix", city="Paris", postal_code="75002",
                  country="France")
ADMIN_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

pytestmark = pytest.mark.usefixtures("books")


def upload(user_id: int, data: bytes, purpose: str = "kyc") -> int:
    with db.write() as conn:
        return storage.store(conn, purpose=purpose, owner_id=user_id, data=data).id


def submit(user_id: int, level: int = 1, details: Details = IDENTITY,
           kinds: tuple[str, ...] | None = None) -> int:
    kinds = kinds or kyc.REQUIRED[level]
    files = {kind: upload(user_id, data) for kind, data in zip(kinds, (JPEG, PNG, PDF),
                                                               strict=False)}
    with db.write() as conn:
        return kyc.submit(conn, user_id, level, details, files)


def test_documents_are_checked_from_their_content_and_size(database, monkeypatch):
    alice = make_user("alice@example.com")
    for data in (PNG, JPEG, PDF):
        upload(alice, data)
    for wrong in (b"GIF89a" + b"\x00" * 50, b"<html><script>alert(1)</script>",
                  b"MZ\x90\x00 an executable", b"hello", b""):
        with pytest.raises(DocumentError):
            upload(alice, wrong)
    monkeypatch.setenv("DOCUMENT_MAX_BYTES", "1000")
    reload_settings()
    upload(alice, PNG + b"\x00" * (1000 - len(PNG)))  # exactly at the limit
    with pytest.raises(DocumentError, match="too large"):
        upload(alice, PNG + b"\x00" * (1001 - len(PNG)))


def test_documents_are_stored_privately_under_unguessable_names(database):
    alice = make_user("alice@example.com")
    with db.write() as conn:
        stored = storage.store(conn, purpose="kyc", owner_id=alice, data=PDF)
    path = get_settings().private_dir / "kyc" / stored.token
    assert path.read_bytes() == PDF
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(stored.token) >= 43  # 256 random bits, URL-safe
    assert not path.is_relative_to(get_settings().data_dir / "uploaded_files")
    assert storage.url(stored) == f"/documents/{stored.token}"
    with db.write() as conn:
        other = storage.store(conn, purpose="kyc", owner_id=alice, data=PDF)
    assert other.token != stored.token


def _cookie_for(user_id: int) -> dict[str, str]:
    with db.write() as conn:
        token = activate_session(conn, start_session(conn, user_id))
    return {"cookie": f"bc_session={token}"}


def test_only_admins_with_2fa_can_fetch_a_kyc_document(database):
    from bitchange.web import api

    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    admin_no_2fa = make_user("lazy-admin@example.com", admin=True)
    admin = make_user("admin@example.com", admin=True)
    with db.write() as conn:
        totp.enable_with_secret(conn, admin, ADMIN_SECRET)
        stored = storage.store(conn, purpose="kyc", owner_id=alice, data=PNG)
    url = storage.url(stored)
    client = TestClient(api)
    assert client.get(url).status_code == 404  # anonymous
    assert client.get(url, headers=_cookie_for(bob)).status_code == 404  # another user
    assert client.get(url, headers=_cookie_for(alice)).status_code == 404  # even its owner
    assert client.get(url, headers=_cookie_for(admin_no_2fa)).status_code == 404
    assert client.get("/documents/not-a-real-token", headers=_cookie_for(admin)
                      ).status_code == 404
    response = client.get(url, headers=_cookie_for(admin))
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store, private"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_under_admin_require_passkey_staff_fetch_a_document_only_with_a_passkey(
        database, monkeypatch):
    from bitchange.web import api

    alice = make_user("alice@example.com")
    admin = make_user("admin@example.com", admin=True)
    with db.write() as conn:
        totp.enable_with_secret(conn, admin, ADMIN_SECRET)
        stored = storage.store(conn, purpose="kyc", owner_id=alice, data=PNG)
    monkeypatch.setenv("ADMIN_REQUIRE_PASSKEY", "1")
    reload_settings()
    client, url = TestClient(api), storage.url(stored)
    assert client.get(url, headers=_cookie_for(admin)).status_code == 404  # as the admin area
    with db.write() as conn:
        conn.execute(insert(Passkey.__table__).values(
            user_id=admin, credential_id="cred-1", public_key="key", sign_count=0, name="laptop",
            created_at=clock.now()))
    assert client.get(url, headers=_cookie_for(admin)).status_code == 200
    monkeypatch.delenv("ADMIN_REQUIRE_PASSKEY")
    reload_settings()


def test_submit_review_and_levels_with_emails(database, admin, smtp_server, caplog):
    caplog.set_level(logging.DEBUG)
    alice = make_user("alice@example.com")
    with db.read() as conn:
        assert level_of(conn, alice) == 0
        assert kyc.status_of(conn, alice).state == "not_submitted"
        before = daily_withdrawal_limit_usdt(conn, alice), transfer_limit_usdt(conn, alice)
    assert before == (2_000 * USDT, 2_000 * USDT)

    first = submit(alice)
    with db.read() as conn:
        assert kyc.status_of(conn, alice).state == "pending"
        assert [q.id for q in kyc.pending_queue(conn)] == [first]
        view = kyc.submission(conn, first)
    assert view.details["Full name"] == "Alice Example"
    assert sorted(label for label, _ in view.documents) == [
        "ID document (back)", "ID document (front)", "Selfie holding the ID"]
    with pytest.raises(KycError, match="still being reviewed"):
        submit(alice)

    with db.write() as conn:
        kyc.reject(conn, admin, first, "The photo of the ID is blurred", ip="10.0.0.1")
    with db.read() as conn:
        status = kyc.status_of(conn, alice)
    assert (status.state, status.reason, status.level) == (
        "rejected", "The photo of the ID is blurred", 0)
    with pytest.raises(KycError, match="no longer pending"), db.write() as conn:
        kyc.approve(conn, admin, first, ip="10.0.0.1")

    second = submit(alice)  # resubmitted after the rejection
    with db.write() as conn:
        kyc.approve(conn, admin, second, ip="10.0.0.1")
    with db.read() as conn:
        assert level_of(conn, alice) == 1
        assert daily_withdrawal_limit_usdt(conn, alice) == 50_000 * USDT
        assert transfer_limit_usdt(conn, alice) == 50_000 * USDT

    third = submit(alice, 2, ADDRESS)
    with db.write() as conn:
        kyc.approve(conn, admin, third, ip="10.0.0.1")
    with db.read() as conn:
        assert level_of(conn, alice) == 2
        assert daily_withdrawal_limit_usdt(conn, alice) == 250_000 * USDT
        # The wallet's effective limits follow the level with the default operator ceilings.
        from bitchange.wallet import transfers, withdrawals

        assert withdrawals.daily_limit(conn, alice) == 250_000 * USDT
        assert transfers.daily_limit(conn, alice) == 250_000 * USDT
        assert kyc.status_of(conn, alice).next_level is None
    with pytest.raises(KycError, match="already fully verified"):
        submit(alice)

    deliver_due()
    subjects = [str(m["Subject"]) for m in smtp_server.to("alice@example.com")]
    assert subjects.count("We received your verification documents") == 3
    assert subjects.count("Your verification is approved") == 2
    rejected = smtp_server.wait_for("alice@example.com", "needs another look")
    assert "The photo of the ID is blurred" in text_of(rejected)

    with db.read() as conn:
        actions = [(e.action, e.detail) for e in search(conn)]
    assert ("kyc_reject", f"submission {first}") in actions
    assert ("kyc_approve", f"submission {second}; level now 1") in actions
    # Personal data appears neither in the logs nor in the audit log.
    for secret in ("Alice Example", "XK1234567", "1990-04-01", "Rue de la Paix", "blurred"):
        assert secret not in caplog.text
        assert not any(secret in detail for _, detail in actions)


def test_submission_rules(database, admin):
    alice = make_user("alice@example.com")
    bob = make_user("bob@example.com")
    unverified = make_user("new@example.com", verified=False)
    with pytest.raises(KycError, match="Complete level 1"):
        submit(alice, 2, ADDRESS)
    with pytest.raises(KycError, match="Upload"):
        submit(alice, kinds=("id_front", "selfie"))
    with pytest.raises(KycError, match="at least 18"):
        submit(alice, details=Details(full_name="Kid", date_of_birth="2015-01-01",
                                      country="France", document_number="123456"))
    with pytest.raises(KycError, match="Full name"):
        submit(alice, details=Details(full_name="", date_of_birth="1990-01-01",
                                      country="France", document_number="123456"))
    with pytest.raises(KycError, match="Confirm your email"):
        submit(unverified)
    # Someone else's file cannot be attached, nor a support attachment, nor a used one.
    stolen = {"id_front": upload(bob, JPEG), "id_back": upload(alice, PNG),
              "selfie": upload(alice, PNG)}
    with pytest.raises(KycError, match="again"), db.write() as conn:
        kyc.submit(conn, alice, 1, IDENTITY, stolen)
    wrong_purpose = {**stolen, "id_front": upload(alice, JPEG, purpose="support")}
    with pytest.raises(KycError, match="again"), db.write() as conn:
        kyc.submit(conn, alice, 1, IDENTITY, wrong_purpose)
    mine = {**stolen, "id_front": upload(alice, JPEG)}
    with db.write() as conn:
        kyc.submit(conn, alice, 1, IDENTITY, mine)
    with pytest.raises(KycError), db.write() as conn:
        kyc.submit(conn, alice, 1, IDENTITY, mine)
    with pytest.raises(KycError, match="reason"), db.write() as conn:
        kyc.reject(conn, admin, kyc.pending_of(conn, alice), "", ip="")
    with db.read() as conn:
        bodies = " ".join(conn.scalars(select(OutboxMessage.__table__.c.text_body)))
    assert "XK1234567" not in bodies  # emails never repeat the personal details


def test_limits_are_configurable(database, monkeypatch):
    monkeypatch.setenv("KYC_WITHDRAWAL_LIMITS_USDT", "0=100,1=1000.5,2=0")
    reload_settings()
    from bitchange.kyc import limits_for

    assert limits_for(0).withdrawal_usdt == 100 * USDT
    assert limits_for(1).withdrawal_usdt == 1_000_500_000
    monkeypatch.setenv("KYC_WITHDRAWAL_LIMITS_USDT", "0=100")
    reload_settings()
    with pytest.raises(ValueError, match="no limit for level"):
        limits_for(0)


def test_an_admin_cannot_decide_their_own_submission(database, admin):
    own = submit(admin)
    for decide in (lambda conn: kyc.approve(conn, admin, own, ip="10.0.0.1"),
                   lambda conn: kyc.reject(conn, admin, own, "Looks fine to me", ip="")):
        with pytest.raises(KycError, match="your own verification"), db.write() as conn:
            decide(conn)
    with db.read() as conn:
        assert level_of(conn, admin) == 0
        assert kyc.status_of(conn, admin).state == "pending"
    other_admin = make_user("second-admin@example.com", admin=True)
    with db.write() as conn:
        kyc.approve(conn, other_admin, own, ip="10.0.0.1")
    with db.read() as conn:
        assert level_of(conn, admin) == 1
