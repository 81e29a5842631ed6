"""BitChange: a spot cryptocurrency exchange."""
