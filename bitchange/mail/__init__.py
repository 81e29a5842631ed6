"""Email: the outbox (written in the transaction of the change), templates and delivery."""
