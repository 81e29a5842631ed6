"""The format document and the standalone verifier are served as the repository has them, so a
user can fetch both from the exchange (and compare them with the published source)."""

from __future__ import annotations

from starlette.testclient import TestClient

from bitchange import routes
from bitchange.config import PROJECT_ROOT
from bitchange.web import api


def test_the_format_and_the_verifier_are_served() -> None:
    with TestClient(api) as client:
        for route, path in ((routes.PROOF_FORMAT, "docs/proof-of-liabilities.md"),
                            (routes.PROOF_VERIFIER, "tools/verify_liabilities.py")):
            served = client.get(route)
            assert served.status_code == 200
            assert served.text == (PROJECT_ROOT / path).read_text()
