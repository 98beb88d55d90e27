"""The login lockout (django-axes), configured once for every way in: /accounts/login/,
/admin/login/ and POST /api/v1/auth/token.

Axes counts failed `authenticate` calls per username and per client address (the address every
throttle uses, `config.auth_views.client_address`); once either reaches LOGIN_FAILURE_LIMIT within
LOGIN_FAILURE_WINDOW, its backend refuses every attempt, a correct password too, until the window
has passed. The functions here are the hooks named in settings (AXES_*): they read our settings at
call time, and answer a lockout in the shape of the entrance (JSON for the API, a page otherwise).
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def failure_limit(request: HttpRequest | None, credentials: dict[str, Any] | None) -> int:
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request: HttpRequest | None = None) -> timedelta:
    return settings.LOGIN_FAILURE_WINDOW


def username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str | None:
    """The username tried, case-folded (usernames are matched case-insensitively here)."""
    value = (credentials or {}).get("username")
    if value is None and request is not None:
        value = request.POST.get("username")
    return value.strip().casefold() if isinstance(value, str) else None


def lockout_message() -> str:
    minutes = max(1, math.ceil(settings.LOGIN_FAILURE_WINDOW.total_seconds() / 60))
    return _(
        "Too many failed attempts to log in. For your security, logging in is paused: please try "
        "again in %(minutes)d minutes."
    ) % {"minutes": minutes}


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """429 with the lockout message: the API's JSON error, or a page. The same answer whether the
    password was right or wrong, so a locked-out guesser learns nothing."""
    seconds = max(1, math.ceil(settings.LOGIN_FAILURE_WINDOW.total_seconds()))
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": lockout_message()}, status=429)
    else:
        response = render(request, "accounts/locked_out.html", {"message": lockout_message()}, status=429)
    response["Retry-After"] = str(seconds)
    return response
