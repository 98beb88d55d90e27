"""API glue: one exception handler maps service errors to HTTP (bad input 400, not permitted 403,
not yours 404, wrong state 409), always as {"detail": ..., "errors": {field: [messages]}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.errors import DomainError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": exc.message}
        if exc.field_errors:
            body["errors"] = exc.field_errors
        body.update({key: value for key, value in exc.details.items() if key not in ("detail", "errors")})
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response({"detail": _("Invalid input."), "errors": errors}, status=400)
    if isinstance(exc, ValidationError):
        # DRF's serializer errors, reshaped like ours so clients read one format.
        return Response({"detail": _("Invalid input."), "errors": flatten_errors(exc.detail)}, status=400)
    return drf_exception_handler(exc, context)


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as one flat map: `owner.password`, `judgements[1].verdict` (the
    same paths the services use), each to a list of messages."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            is_index = isinstance(key, int) or (isinstance(key, str) and key.isdigit())
            if is_index:
                path = f"{prefix}[{key}]"
            elif key == "non_field_errors" and prefix:  # a nested object's own error belongs to its field
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for i, item in enumerate(detail):
            flat.update(flatten_errors(item, f"{prefix}[{i}]"))
    elif detail:
        messages = detail if isinstance(detail, list) else [detail]
        flat[prefix or "non_field_errors"] = [str(m) for m in messages]
    return flat


@csrf_exempt  # it changes nothing; without this a POST to an unknown path got the HTML CSRF page (403)
def api_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any path under /api/v1/ that names no endpoint: the documented JSON error, never an HTML page.
    A path that names an endpoint but for a trailing slash is redirected to it (308 keeps the
    method and body of a POST)."""
    full = request.path
    if full.endswith("/") and full.rstrip("/") != "/api/v1":
        stripped = full.rstrip("/")
        try:
            match = resolve(stripped)
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(stripped + (f"?{query}" if query else ""), status=308)
    return JsonResponse({"detail": _("No API endpoint at %(path)s. The endpoints are listed at /api/docs/.")
                         % {"path": full}}, status=404)
