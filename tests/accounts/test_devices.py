"""Device names from user agents, through ua-parser."""

from __future__ import annotations

import pytest

from bitchange.accounts.devices import describe
from tests.accounts.conftest import UA_CHROME_WIN, UA_FIREFOX


@pytest.mark.parametrize(("ua", "name"), [
    (UA_FIREFOX, "Firefox on Linux"),
    (UA_CHROME_WIN, "Chrome on Windows"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/130.0 Safari/537.36 Edg/130.0", "Edge on Windows"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/130.0.0.0 Safari/537.36", "Chrome on Linux"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Version/17.0 Mobile/15E148 Safari/604.1", "Safari on iOS"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.0 Safari/605.1.15", "Safari on macOS"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/130.0 Mobile Safari/537.36", "Chrome on Android"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera on Windows"),
    ("curl/8.5.0", "curl"),
    ("", "Unknown device"),
])
def test_device_names(ua: str, name: str) -> None:
    assert describe(ua) == name


def test_an_unknown_agent_is_shown_cut_short() -> None:
    assert describe("x" * 100) == "x" * 40
