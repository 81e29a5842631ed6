"""The verification page follows its user's review live: the watcher
(`bitchange.state.live`) refreshes an open tab when an admin decides, and nobody else's tab."""

from __future__ import annotations

import pytest

from bitchange import db
from bitchange.kyc import service as kyc
from bitchange.state.verification import VerificationState
from tests.kyc.test_kyc import submit
from tests.livetabs import FakeApp, browser_tab, call, cookie_for
from tests.staking.conftest import make_user


@pytest.fixture
def watcher():  # type: ignore[no-untyped-def]
    from bitchange.state import live

    live._watches.clear()
    yield live
    live._watches.clear()


def test_the_verification_page_shows_the_decision_live(database, admin, books, watcher):
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    alices, bobs = submit(alice), submit(bob)
    alice_root, alice_tab = browser_tab(VerificationState, "alice", "/verification",
                                        cookie_for(alice))
    bob_root, bob_tab = browser_tab(VerificationState, "bob", "/verification", cookie_for(bob))
    for state in (alice_tab, bob_tab):
        call(state, "load")
    assert (alice_tab.level, alice_tab.state) == (0, "pending")
    app = FakeApp({"alice": alice_root, "bob": bob_root})
    checked: dict = {}
    assert app.tick(checked) == []

    with db.write() as conn:
        kyc.approve(conn, admin, alices, ip="10.0.0.9")
    assert app.tick(checked) == ["alice"]
    assert (alice_tab.level, alice_tab.level_name, alice_tab.state) == (
        1, "Identity verified", "approved")
    assert alice_tab.next_level == 2
    assert [r["level"] for r in alice_tab.limits if r["current"] == "yes"] == ["1"]
    assert bob_tab.state == "pending"

    with db.write() as conn:
        kyc.reject(conn, admin, bobs, "The photo is blurred.", ip="10.0.0.9")
    assert app.tick(checked) == ["bob"]
    assert (bob_tab.level, bob_tab.state, bob_tab.reason) == (0, "rejected",
                                                              "The photo is blurred.")
    assert app.tick(checked) == []
