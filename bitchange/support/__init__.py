"""Support tickets: users open, reply and close; staff triage, reply and write internal notes
that users never see."""
