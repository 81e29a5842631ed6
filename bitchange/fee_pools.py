"""System pools an admin funds from the exchange's collected fees (staking rewards,
promotions): one way in, checked, booked and audited the same for each pool."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from bitchange import ledger
from bitchange.accounts import audit
from bitchange.ledger import InsufficientFunds
from bitchange.trading.markets import assets


@dataclass(frozen=True)
class FeePool:
    account: str  # the system ledger account
    label: str  # as the admin reads it: "Rewards", "Promotions"
    audit_action: str
    ref_type: str  # of the funding ledger transaction
    error: type[Exception]  # what the owning service raises, with a message for the admin

    def fund(self, conn: Connection, admin_id: int, asset: str, amount: int, *,
             source: str = "fees", ip: str = "") -> int:
        """Move `amount` of collected fees into the pool; returns the ledger transaction.
        Fees are the only source: funding from the outside-world account, which may go
        negative, would let one admin create money."""
        if asset not in assets(conn):
            raise self.error("Unknown asset.")
        if source != "fees":
            raise self.error(f"{self.label} can only be funded from collected fees.")
        if type(amount) is not int or amount <= 0:
            raise self.error("Enter an amount greater than zero.")
        try:
            tx = ledger.fund_from_fees(conn, self.account, asset, amount,
                                       ref_type=self.ref_type, ref_id=admin_id)
        except InsufficientFunds:
            raise self.error(f"The {source} account does not hold that much {asset}.") from None
        audit.record(conn, admin_id, self.audit_action, f"{self.label.lower()} {asset}", ip=ip,
                     detail=f"{amount} minor units from {source}; ledger tx {tx}")
        return tx

    def balance(self, conn: Connection) -> dict[str, int]:
        """asset -> what the pool holds."""
        return {asset: available for asset, (available, _) in
                ledger.balances_of(conn, ledger.system_account(conn, self.account)).items()}
