"""Webhooks: members' and the body's own systems hear of what happens to their data (docs/api.md)."""
