from tests.staking.conftest import admin, books, clock  # noqa: F401 - shared fixtures
