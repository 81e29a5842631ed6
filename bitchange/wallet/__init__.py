"""The wallet: deposit addresses and deposits, the withdrawal address book, guarded
withdrawals, internal transfers, the balances overview and the transaction history.

No Reflex here. Every balance change goes through `bitchange.ledger` in the same database
transaction as the wallet row that explains it, and every email through
`accounts.notices.notify` in that transaction too.
"""
