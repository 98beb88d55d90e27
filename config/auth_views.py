"""Log in and log out, and the client address every throttle and the login lockout key on.

Failed logins are counted by django-axes (config/lockout.py), for this form as for the admin's and
the API's token endpoint: one policy for every way in.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.contrib.auth import views as django_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from institutions.services import login_refusal_reason


def client_address(request: HttpRequest | None) -> str:
    """The client's address for throttling. Behind TRUSTED_PROXY_COUNT reverse proxies, the address
    the nearest trusted proxy saw (counted from the right of X-Forwarded-For, which a client cannot
    forge past the proxies); with none, REMOTE_ADDR, and X-Forwarded-For is ignored."""
    if request is None:
        return "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies and _is_address(hops[-proxies]):
            return hops[-proxies]
    remote = request.META.get("REMOTE_ADDR") or ""
    return remote if _is_address(remote) else "unknown"


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def lockout_address(request: HttpRequest | None) -> str | None:
    """`client_address` for the login lockout, which stores it in an IP address column: None when
    the request carries no usable address (the attempt is still counted against the username)."""
    address = client_address(request)
    return None if address == "unknown" else address


class LoginForm(AuthenticationForm):
    """Django's form, saying why when the right password of a login still waiting for its
    organisation's approval is refused (a locked-out attempt never gets this far: the lockout's
    429 answer replaces the page)."""

    def clean(self) -> dict:
        try:
            return super().clean()
        except ValidationError:
            username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
            waiting = login_refusal_reason(username, password) if username and password else None
            if waiting:
                raise ValidationError(waiting, code="membership") from None
            raise


class LoginView(django_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(django_views.LogoutView):
    """POST only (Django's own rule): a link or an image cannot log a user out."""
