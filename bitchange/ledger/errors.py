class LedgerError(Exception):
    """A money operation that must not happen; nothing was written."""


class InsufficientFunds(LedgerError):
    def __init__(self, account_id: int, asset: str, bucket: str, needed: int) -> None:
        self.account_id, self.asset, self.bucket, self.needed = account_id, asset, bucket, needed
        super().__init__(f"Insufficient {bucket} {asset} balance")


class UnbalancedTransaction(LedgerError):
    """Entries of one operation do not sum to zero per asset: a programming error."""
