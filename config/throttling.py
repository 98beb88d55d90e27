"""DRF throttles keyed on the real client address (`config.auth_views.client_address`).

DRF's own `get_ident` reads X-Forwarded-For whole when `NUM_PROXIES` is unset, so a client that
sends a different header with every request gets a fresh budget every time. These classes take the
address from the one helper every throttle and the login lockout use: TRUSTED_PROXY_COUNT hops from
the right of X-Forwarded-For, or REMOTE_ADDR when no proxy is trusted. (`NUM_PROXIES` is set from
TRUSTED_PROXY_COUNT as well, for any DRF code that reads it directly.)
"""

from __future__ import annotations

from rest_framework import throttling

from config.auth_views import client_address


class ClientAddressMixin:
    def get_ident(self, request) -> str:
        return client_address(request)


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    """The "anon" rate, per real client address."""


class ScopedRateThrottle(ClientAddressMixin, throttling.ScopedRateThrottle):
    """A view's `throttle_scope` rate, per user when signed in, else per real client address."""
