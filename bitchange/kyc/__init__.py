"""Identity verification (KYC) and the verification levels that set a user's limits.

Level 0: email verified. Level 1: identity verified (personal details, ID front and back, a
selfie). Level 2: address verified (address and a proof of address), after level 1. A submission
goes pending -> approved or rejected (with a reason the user sees; they may resubmit). The
wallet reads the limits from `daily_withdrawal_limit_usdt` and `transfer_limit_usdt`.
"""

from bitchange.kyc.levels import (
    LEVELS,
    daily_withdrawal_limit_usdt,
    level_of,
    limits_for,
    transfer_limit_usdt,
)

__all__ = [
    "LEVELS",
    "daily_withdrawal_limit_usdt",
    "level_of",
    "limits_for",
    "transfer_limit_usdt",
]
