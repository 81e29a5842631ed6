"""Staking: products defined by admins, positions held in the `staking` ledger account, daily
rewards paid from the `staking_rewards` account. See `staking.service` for the rules and
`staking.accrual` for how rewards are computed and rounded."""

STAKING = "staking"  # system ledger account holding staked principal
STAKING_REWARDS = "staking_rewards"  # system ledger account rewards are paid from
