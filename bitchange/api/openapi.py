"""An OpenAPI 3.1 description of the /api/v3 (and /sapi/v1) endpoints, made from their table
(bitchange.api.app.OPERATIONS) and what each endpoint declares (`http.Spec`: weight,
security, scope), so it lists exactly what is served."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bitchange.api.http import DEFAULT_RECV_WINDOW, MAX_RECV_WINDOW, Spec
from bitchange.routes import API_V3

_ERROR = {"$ref": "#/components/schemas/Error"}


@dataclass(frozen=True)
class Operation:
    """One method on one path. A parameter is "name", "name*" (required) or "name:int"."""

    method: str
    path: str  # under `prefix`
    handler: Callable[..., Any]
    params: tuple[str, ...] = ()
    prefix: str = API_V3

    @property
    def full_path(self) -> str:
        return self.prefix + self.path

    @property
    def spec(self) -> Spec:
        return self.handler.spec  # type: ignore[attr-defined, no-any-return]


def _parameter(text: str) -> dict[str, Any]:
    name, _, kind = text.partition(":")
    required = name.endswith("*") or kind.endswith("*")
    name, kind = name.rstrip("*"), kind.rstrip("*")
    return {"name": name, "in": "query", "required": required,
            "schema": {"type": "integer"} if kind == "int" else {"type": "string"}}


_SIGNED = [
    {"name": "timestamp", "in": "query", "required": True, "schema": {"type": "integer"},
     "description": "Milliseconds since the epoch; refused (-1021) outside the window."},
    {"name": "recvWindow", "in": "query", "required": False,
     "schema": {"type": "integer", "default": DEFAULT_RECV_WINDOW, "maximum": MAX_RECV_WINDOW}},
    {"name": "signature", "in": "query", "required": True, "schema": {"type": "string"},
     "description": "HMAC-SHA256 hex, or Ed25519 base64, of the query string followed by "
                    "the body (without `signature`)."},
]


def _operation(op: Operation) -> dict[str, Any]:
    spec = op.spec
    doc = (op.handler.__doc__ or "").strip()
    body: dict[str, Any] = {
        # From the path: one handler may serve two paths (klines and uiKlines).
        "operationId": op.method.lower() + "_" + re.sub(
            r"[^A-Za-z0-9]+", "_", op.full_path.removeprefix(API_V3)).strip("_"),
        "summary": doc.split("\n\n")[0].replace("\n", " ") or op.handler.__name__,
        "parameters": [_parameter(p) for p in op.params]
        + (_SIGNED if spec.security == "SIGNED" else []),
        "x-weight": spec.weight,
        "responses": {
            "200": {"description": "Binance's JSON answer",
                    "headers": {"X-MBX-USED-WEIGHT-1M": {"schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": {}}}},
            "4XX": {"description": "Refused: Binance's error body",
                    "content": {"application/json": {"schema": _ERROR}}},
            "5XX": {"description": "Nothing was changed",
                    "content": {"application/json": {"schema": _ERROR}}},
        },
    }
    if spec.security != "NONE":
        body["security"] = [{"ApiKey": []}]
        body["x-scope"] = spec.scope
    if spec.counts_order:
        body["responses"]["200"]["headers"]["X-MBX-ORDER-COUNT-10S"] = {
            "schema": {"type": "integer"}}
    return body


def document(operations: tuple[Operation, ...]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.full_path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "BitChange trader API (Binance-compatible)", "version": "v3",
                 "description": "Signing, limits and examples: /api/docs (docs/api.md)."},
        "paths": paths,
        "components": {
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header",
                                           "name": "X-MBX-APIKEY"}},
            "schemas": {"Error": {"type": "object", "required": ["code", "msg"],
                                  "properties": {"code": {"type": "integer"},
                                                 "msg": {"type": "string"}}}},
        },
    }
