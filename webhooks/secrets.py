"""The endpoints' signing secrets: 32 random bytes, shown once in the Standard Webhooks form
`whsec_<base64>`, kept encrypted with KEY_ENCRYPTION_SECRET and bound to their endpoint."""

from __future__ import annotations

import base64
import os

from django.conf import settings

from badges.credentials.keys import decrypt_secret, encrypt_secret
from webhooks.models import WebhookEndpoint

PREFIX = "whsec_"


def _context(endpoint: WebhookEndpoint) -> str:
    return f"webhook-endpoint:{endpoint.public_id}"


def secret_new(endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new secret (not saved: the caller saves); returns its `whsec_` text."""
    raw = os.urandom(32)
    endpoint.secret_encrypted = encrypt_secret(raw, settings.KEY_ENCRYPTION_SECRET, context=_context(endpoint))
    return PREFIX + base64.b64encode(raw).decode()


def endpoint_secret_bytes(endpoint: WebhookEndpoint) -> bytes:
    return decrypt_secret(endpoint.secret_encrypted, settings.KEY_ENCRYPTION_SECRET, context=_context(endpoint))


def endpoint_secret_text(endpoint: WebhookEndpoint) -> str:
    """The `whsec_` text of the endpoint's secret (the demo's receiver and the tests check with it)."""
    return PREFIX + base64.b64encode(endpoint_secret_bytes(endpoint)).decode()
