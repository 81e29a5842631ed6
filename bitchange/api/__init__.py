"""The Binance-compatible trader API (REST under /api/v3). Starlette only, no Reflex: each
endpoint parses Binance's parameters, authenticates, calls a domain service and maps the result
or the domain error to Binance's JSON (docs/api.md)."""
