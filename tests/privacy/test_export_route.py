"""GET /account/export: the signed-in user's own data as a JSON download; 401 without a
session (and for a closed account, whose sessions ended)."""

from starlette.testclient import TestClient

from bitchange import db
from bitchange.accounts.sessions import activate_session, cookie_name, start_session
from bitchange.accounts.users import create_user
from bitchange.web import api


def test_the_export_is_the_callers_own(database):
    with db.write() as conn:
        mine = create_user(conn, "me@example.com", "correct horse battery", verified=True)
        create_user(conn, "someone@example.com", "correct horse battery", verified=True)
        token = activate_session(conn, start_session(conn, mine, ip="203.0.113.9"))
    client = TestClient(api, base_url="http://exchange.test")
    assert client.get("/account/export").status_code == 401
    client.cookies.set(cookie_name(), token)
    response = client.get("/account/export")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"].startswith("no-store")
    data = response.json()
    assert data["profile"]["email"] == "me@example.com"
    assert data["sessions"][0]["ip"] == "203.0.113.9"
    assert "someone@example.com" not in response.text
