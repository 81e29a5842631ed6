"""Binance's error codes and the exact messages clients (ccxt) match on (Binance's errors.md)."""

from __future__ import annotations

UNKNOWN_MSG = "An unknown error occurred while processing the request."


class ApiError(Exception):
    """Answered as `{"code": code, "msg": msg}` (and `data`, if any: what cancelReplace did)
    with HTTP `status`."""

    def __init__(self, code: int, msg: str, status: int = 400,
                 headers: dict[str, str] | None = None, data: dict | None = None) -> None:  # type: ignore[type-arg]
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status
        self.headers = headers or {}
        self.data = data

    def body(self) -> dict:  # type: ignore[type-arg]
        plain = {"code": self.code, "msg": self.msg}
        return plain if self.data is None else plain | {"data": self.data}


def unknown() -> ApiError:
    return ApiError(-1000, UNKNOWN_MSG, 500)


def unavailable() -> ApiError:
    return ApiError(-1001, "Internal error; unable to process your request. Please try again.",
                    503)


def mandatory(name: str) -> ApiError:
    return ApiError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or "
                           "malformed.")


def invalid(name: str) -> ApiError:
    return ApiError(-1130, f"Data sent for parameter '{name}' is not valid.")


def illegal(name: str) -> ApiError:
    return ApiError(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                           "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")


def too_precise(name: str) -> ApiError:
    return ApiError(-1111, f"Parameter '{name}' has too much precision.")


def either(first: str, second: str) -> ApiError:
    """Neither of two alternative parameters was sent."""
    return ApiError(-1102, f"Param '{first}' or '{second}' must be sent, but both were "
                           "empty/null!")


def not_required(name: str) -> ApiError:
    return ApiError(-1106, f"Parameter '{name}' sent when not required.")


BAD_SYMBOL = (-1121, "Invalid symbol.")
BAD_INTERVAL = (-1120, "Invalid interval.")
BAD_SIDE = (-1117, "Invalid side.")
BAD_TYPE = (-1116, "Invalid orderType.")
BAD_TIF = (-1115, "Invalid timeInForce.")
DUPLICATE_PARAM = (-1101, "Duplicate values for a parameter detected.")
BAD_COMBO = (-1128, "Combination of optional parameters invalid.")
AHEAD = (-1021, "Timestamp for this request was 1000ms ahead of the server's time.")
OUTSIDE_WINDOW = (-1021, "Timestamp for this request is outside of the recvWindow.")
BAD_SIGNATURE = (-1022, "Signature for this request is not valid.")
BAD_KEY_FORMAT = (-2014, "API-key format invalid.")
REJECTED_KEY = (-2015, "Invalid API-key, IP, or permissions for action.")
UNKNOWN_ORDER = (-2011, "Unknown order sent.")
NO_SUCH_ORDER = (-2013, "Order does not exist.")
BAD_LISTEN_KEY = (-1125, "This listenKey does not exist.")
BAD_CANCEL_RESTRICTIONS = (-1145, "cancelRestrictions has to be either ONLY_NEW or "
                                  "ONLY_PARTIALLY_FILLED.")
STATUS_MISMATCH = (-1220, "The symbol's status does not match the requested symbolStatus.")
NO_ICEBERGS = (-2010, "Iceberg orders are not supported for this symbol.")

# trading.service's TradingError.reason -> Binance's code and message.
ORDER_REFUSALS: dict[str, tuple[int, str]] = {
    "PRICE_FILTER": (-1013, "Filter failure: PRICE_FILTER"),
    "LOT_SIZE": (-1013, "Filter failure: LOT_SIZE"),
    "MARKET_LOT_SIZE": (-1013, "Filter failure: MARKET_LOT_SIZE"),
    "NOTIONAL": (-1013, "Filter failure: NOTIONAL"),
    "INSUFFICIENT_BALANCE": (-2010, "Account has insufficient balance for requested action."),
    "MARKET_CLOSED": (-2010, "Market is closed."),
    "WOULD_TAKE": (-2010, "Order would immediately match and take."),
    "DUPLICATE_ORDER": (-2010, "Duplicate order sent."),
    "ACCOUNT_DISABLED": (-2010, "This account may not place or cancel orders."),
    "NO_LIQUIDITY": (-2010, "Order book liquidity is less than symbol minimum quantity."),
    "UNKNOWN_ORDER": UNKNOWN_ORDER,
    "WOULD_TRIGGER": (-2010, "Order would trigger immediately."),
    "OCO_PRICES": (-2010, "The relationship of the prices for the orders is not correct."),
    "OCO_TYPES": (-1128, "Combination of optional parameters invalid."),
    "TRAILING_DELTA": (-1013, "Filter failure: TRAILING_DELTA"),
    "STOP_PRICE": (-1013, "Filter failure: PRICE_FILTER"),
    "NOT_AUTHORIZED": REJECTED_KEY,  # the key, checked in the placement's transaction
    "CANCEL_RESTRICTED": (-2011, "Order was not canceled due to cancel restrictions."),
}
NEW_ORDER_REJECTED = (-2010, "NEW_ORDER_REJECTED")


def error(pair: tuple[int, str], status: int = 400) -> ApiError:
    return ApiError(pair[0], pair[1], status)
