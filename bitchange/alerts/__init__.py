"""Price alerts: "tell me when BTC-USDT trades at or above / at or below X"."""
