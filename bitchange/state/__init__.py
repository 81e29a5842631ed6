"""Reflex states: thin. Each handler checks the server-side session and calls a service."""
