"""How staking terms read on the screens."""

from __future__ import annotations


def apr_text(apr_bps: int) -> str:
    return f"{apr_bps / 100:.2f} %"


def lock_text(lock_days: int) -> str:
    return "Flexible" if lock_days == 0 else f"{lock_days} days"
