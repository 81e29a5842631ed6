"""A readable device name from a user agent ("Chrome on Linux"), parsed with the maintained
`ua-parser` package (uap-core's rules, refreshed with its releases)."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import parse

# Names shortened for the security centre; anything else is shown as uap-core names it.
_BROWSERS = {"HeadlessChrome": "Chrome", "Chrome Mobile": "Chrome", "Chrome Mobile iOS": "Chrome",
             "Mobile Safari": "Safari", "Firefox Mobile": "Firefox", "Firefox iOS": "Firefox",
             "Edge Mobile": "Edge", "Opera Mobile": "Opera"}
_SYSTEMS = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}


@lru_cache(maxsize=1024)
def describe(user_agent: str) -> str:
    ua = user_agent or ""
    if not ua:
        return "Unknown device"
    result = parse(ua)
    browser = result.user_agent.family if result.user_agent else ""
    system = result.os.family if result.os else ""
    browser = _BROWSERS.get(browser, browser)
    system = _SYSTEMS.get(system, system)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or ua[:40]
