"""The backend routes that set and clear the session cookie refuse cross-site navigations
(login and logout CSRF), and a login ticket works once."""

from starlette.testclient import TestClient

from bitchange import db
from bitchange.accounts.sessions import resolve_session, start_session
from bitchange.accounts.users import create_user
from bitchange.web import api

SAME = {"sec-fetch-site": "same-origin"}


def _ticket(email: str = "victim@example.com") -> str:
    with db.write() as conn:
        user_id = create_user(conn, email, "correct horse battery", verified=True)
        return start_session(conn, user_id, ip="198.51.100.7", user_agent="test")


def _client() -> TestClient:
    return TestClient(api, base_url="http://exchange.test", follow_redirects=False)


def test_a_ticket_from_another_site_is_refused_and_stays_unused(database):
    ticket = _ticket()
    client = _client()
    cross = client.get(f"/auth/session?ticket={ticket}",
                       headers={"sec-fetch-site": "cross-site"})
    assert cross.status_code == 303 and "/login" in cross.headers["location"]
    assert "set-cookie" not in cross.headers
    # Without Fetch Metadata, a foreign Referer is refused as well.
    foreign = client.get(f"/auth/session?ticket={ticket}",
                         headers={"referer": "https://evil.example/page"})
    assert "set-cookie" not in foreign.headers

    ours = client.get(f"/auth/session?ticket={ticket}&next=/wallet", headers=SAME)
    assert ours.status_code == 303 and ours.headers["location"] == "/wallet"
    assert "httponly" in ours.headers["set-cookie"].lower()
    again = client.get(f"/auth/session?ticket={ticket}", headers=SAME)
    assert "set-cookie" not in again.headers  # single use
    # A ticket opened from outside any site (e.g. a link in a phishing email) is refused too.
    pasted = client.get(f"/auth/session?ticket={_ticket('other@example.com')}",
                        headers={"sec-fetch-site": "none"})
    assert "set-cookie" not in pasted.headers


def test_same_host_referer_is_accepted_without_fetch_metadata(database):
    ticket = _ticket()
    response = _client().get(f"/auth/session?ticket={ticket}",
                             headers={"referer": "http://exchange.test/login"})
    assert "set-cookie" in response.headers


def test_cross_site_logout_does_not_end_the_session(database):
    client = _client()
    login = client.get(f"/auth/session?ticket={_ticket()}", headers=SAME)
    token = login.cookies.get("bc_session") or login.headers["set-cookie"].split(";")[0].split(
        "=", 1)[1]
    client.cookies.set("bc_session", token)
    client.get("/auth/logout", headers={"sec-fetch-site": "cross-site"})
    with db.read() as conn:
        assert resolve_session(conn, token) is not None
    client.get("/auth/logout", headers={"sec-fetch-site": "none"})  # typed in the address bar
    with db.read() as conn:
        assert resolve_session(conn, token) is None
