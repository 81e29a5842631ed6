class WalletError(ValueError):
    """A refused wallet operation; nothing was changed and the message is safe to show."""


class InvalidTransition(WalletError):
    """A withdrawal or deposit step that its current status does not allow."""
