"""docs/api.md shows the demo keys the seed installs, and the app serves it; the OpenAPI
description lists exactly the endpoints served."""

from __future__ import annotations

from starlette.routing import Route

from bitchange import routes
from bitchange.config import PROJECT_ROOT
from bitchange.demo import DEMO_API_KEYS
from bitchange.web import api


def test_the_docs_carry_the_demo_keys_and_are_served(client) -> None:
    text = (PROJECT_ROOT / "docs" / "api.md").read_text()
    for key, secret in DEMO_API_KEYS.values():
        assert f"`{key}`" in text and f"`{secret}`" in text
    served = client.get(routes.API_DOCS)
    assert served.status_code == 200 and served.text == text


def _served(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path) of every route the app serves under /api/v3 and /sapi/v1."""
    return {(method, route.path) for route in app.routes if isinstance(route, Route)
            and route.path.startswith((routes.API_V3, routes.SAPI_V1))
            for method in route.methods - {"HEAD"}}


def test_the_openapi_description_lists_exactly_the_served_endpoints(client) -> None:
    answer = client.get(routes.API_V3 + "/openapi.json")
    assert answer.status_code == 200
    described = answer.json()
    assert described["openapi"].startswith("3.")
    listed = {(method.upper(), path) for path, methods in described["paths"].items()
              for method in methods}
    assert listed == _served(api)
    order = described["paths"][routes.API_V3 + "/order"]
    assert order["post"]["security"] == [{"ApiKey": []}]
    assert {p["name"] for p in order["post"]["parameters"]} >= {
        "symbol", "side", "type", "quantity", "price", "timestamp", "signature"}
    assert "security" not in described["paths"][routes.API_V3 + "/depth"]["get"]
    assert (("GET", routes.SAPI_V1 + "/asset/tradeFee") in listed
            and described["paths"][routes.SAPI_V1 + "/asset/tradeFee"]["get"]["security"])
    assert len({op["operationId"] for methods in described["paths"].values()
                for op in methods.values()}) == len(listed)
