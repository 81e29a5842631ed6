"""Promo codes: rewards credited from the `promotions` ledger account, which admins fund."""

PROMOTIONS = "promotions"  # system ledger account promo rewards are paid from
