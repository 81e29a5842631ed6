"""The trading fixtures (a market, two funded traders), shared with these tests."""

from tests.trading.conftest import alice, bob, market  # noqa: F401
