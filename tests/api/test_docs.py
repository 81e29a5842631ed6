"""docs/api.md shows the demo keys the seed installs, and the app serves it."""

from __future__ import annotations

from bitchange import routes
from bitchange.config import PROJECT_ROOT
from bitchange.demo import DEMO_API_KEYS


def test_the_docs_carry_the_demo_keys_and_are_served(client) -> None:
    text = (PROJECT_ROOT / "docs" / "api.md").read_text()
    for key, secret in DEMO_API_KEYS.values():
        assert f"`{key}`" in text and f"`{secret}`" in text
    served = client.get(routes.API_DOCS)
    assert served.status_code == 200 and served.text == text
