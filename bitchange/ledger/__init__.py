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
)
from bitchange.ledger.errors import InsufficientFunds, LedgerError, UnbalancedTransaction
from bitchange.ledger.operations import (
    Movement,
    balances_of,
    credit_deposit,
    debit_withdrawal,
    hold,
    post,
    release,
    settle,
    transfer,
)
from bitchange.ledger.reconcile import Discrepancy, ReconcileReport, reconcile

__all__ = [
    "EXTERNAL",
    "FEES",
    "Discrepancy",
    "InsufficientFunds",
    "LedgerError",
    "Movement",
    "ReconcileReport",
    "UnbalancedTransaction",
    "account_for_user",
    "balances_of",
    "credit_deposit",
    "debit_withdrawal",
    "ensure_system_accounts",
    "hold",
    "post",
    "reconcile",
    "release",
    "settle",
    "system_account",
    "transfer",
]
