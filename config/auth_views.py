"""Log in and log out, with a throttle on failed logins.

After settings.LOGIN_FAILURE_LIMIT failed attempts for one username, or from one client address,
within settings.LOGIN_FAILURE_WINDOW, the form refuses every further attempt (a correct password
too) until the window has passed. The counters live in Django's cache: `cache.add` starts a window
and `cache.incr` counts atomically (in Redis as in the local-memory cache), so parallel guesses
cannot slip past the limit by racing each other.
"""

from __future__ import annotations

import hashlib
import math

from django.conf import settings
from django.contrib.auth import views as django_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from institutions.services import login_refusal_reason

_PREFIX = "login-failures"


def client_address(request: HttpRequest | None) -> str:
    """The client's address for throttling. Behind TRUSTED_PROXY_COUNT reverse proxies, the address
    the nearest trusted proxy saw (counted from the right of X-Forwarded-For, which a client cannot
    forge past the proxies); with none, REMOTE_ADDR, and X-Forwarded-For is ignored."""
    if request is None:
        return "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _keys(username: str, address: str) -> list[str]:
    # Hashed so that any username is a safe cache key (memcached refuses spaces and long keys).
    user_hash = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
    address_hash = hashlib.sha256(address.encode()).hexdigest()
    return [f"{_PREFIX}:user:{user_hash}", f"{_PREFIX}:addr:{address_hash}"]


def _window_seconds() -> int:
    return max(1, math.ceil(settings.LOGIN_FAILURE_WINDOW.total_seconds()))


def login_is_throttled(username: str, address: str) -> bool:
    """True while the username or the address has used up its failed attempts in the window."""
    counts = cache.get_many(_keys(username, address))
    return any(count >= settings.LOGIN_FAILURE_LIMIT for count in counts.values())


def login_failure_record(username: str, address: str) -> None:
    """Count one failed attempt against the username and the address. The first failure starts
    the window; the counter disappears with it."""
    timeout = _window_seconds()
    for key in _keys(username, address):
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:  # the window ended between add and incr: this failure opens a new one
            cache.set(key, 1, timeout=timeout)


def login_success_record(username: str, address: str) -> None:
    """A correct login clears the username's count (not the address's: one known password must not
    reset the budget for guessing others from the same place)."""
    cache.delete(_keys(username, address)[0])


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _(
            "Too many failed attempts to log in. For your security, logging in is paused: please try "
            "again in %(minutes)d minutes."
        ),
    }

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()
        address = client_address(self.request)
        if login_is_throttled(username, address):
            minutes = max(1, math.ceil(settings.LOGIN_FAILURE_WINDOW.total_seconds() / 60))
            raise ValidationError(
                self.error_messages["throttled"], code="throttled", params={"minutes": minutes}
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failure_record(username, address)
            waiting = login_refusal_reason(username, self.cleaned_data["password"])
            if waiting:
                raise ValidationError(waiting, code="membership") from None
            raise
        login_success_record(username, address)
        return cleaned


class LoginView(django_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True


class LogoutView(django_views.LogoutView):
    """POST only (Django's own rule): a link or an image cannot log a user out."""
