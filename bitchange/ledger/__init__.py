"""The ledger: every balance change in BitChange goes through here.

Double-entry: each operation is one `ledger_transactions` row whose `ledger_entries` sum to zero
per asset, written in the same database transaction as the balance updates they explain.
"""

from bitchange.ledger.accounts import (
    EXTERNAL,
    FEES,
    account_for_user,
    ensure_system_accounts,
    system_account,
    user_account,
)
from bitchange.ledger.errors import InsufficientFunds, LedgerError, UnbalancedTransaction
from bitchange.ledger.operations import (
    Journal,
    Movement,
    available,
    balances_of,
    credit_deposit,
    debit_withdrawal,
    forget_locks,
    fund_from_fees,
    hold,
    hold_movements,
    lock_balances,
    post,
    release,
    release_movements,
    settle,
    settle_movements,
    transfer,
    user_balances,
)
from bitchange.ledger.reconcile import Discrepancy, ReconcileReport, reconcile

__all__ = [
    "EXTERNAL",
    "FEES",
    "Discrepancy",
    "InsufficientFunds",
    "Journal",
    "LedgerError",
    "Movement",
    "ReconcileReport",
    "UnbalancedTransaction",
    "account_for_user",
    "available",
    "balances_of",
    "credit_deposit",
    "debit_withdrawal",
    "ensure_system_accounts",
    "forget_locks",
    "fund_from_fees",
    "hold",
    "hold_movements",
    "lock_balances",
    "post",
    "reconcile",
    "release",
    "release_movements",
    "settle",
    "settle_movements",
    "system_account",
    "transfer",
    "user_account",
    "user_balances",
]
