"""Users, passwords and server-side sessions."""
