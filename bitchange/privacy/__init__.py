"""What the exchange holds on a user (the data export), and closing an account."""
