"""Hostile requests are refused before any view, parser or middleware that reads the body sees them,
with the API's error shape ({"detail", "errors": {field: [messages]}}) and nothing written:

* a body larger than the limit (its declared Content-Length): 413. Multipart uploads may be up to
  MAX_UPLOAD_REQUEST_BYTES (an upload of the largest file a view accepts, plus its envelope), any
  other body up to DATA_UPLOAD_MAX_MEMORY_SIZE; Django's own RequestDataTooBig and too many fields
  are answered the same way wherever they are raised;
* a NUL character in a query parameter, a form field or anywhere in a JSON body (a key or a
  string): 400 naming the field (PostgreSQL cannot store NUL, and no text field needs it);
* a JSON body nested deeper than MAX_JSON_DEPTH (Python's parser gives up at about 1,000 levels
  with a RecursionError, and recursive code after it sooner): 400.

Answers are JSON under /api/ and for JSON requests, a short page elsewhere. A 404 under /api/ for a
path no route matches is answered as JSON as well.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

MAX_JSON_DEPTH = 64
_JSON_TYPES = ("application/json", "application/ld+json", "application/vc+ld+json")
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class JsonProblem(ValueError):
    """A JSON value we refuse: `path` names where (`judgements[1].comment`), `message` says why."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def nul_message() -> str:
    return _("Null characters are not allowed.")


def depth_message() -> str:
    return _("The JSON is nested more than %(depth)d levels deep.") % {"depth": MAX_JSON_DEPTH}


def check_json_value(value: Any, *, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raise `JsonProblem` for a NUL character in any key or string, or nesting deeper than
    `max_depth`. Iterative, so a deep value cannot exhaust the stack here. A value that passes is
    walked once without naming where each part is; only one that fails is walked again, naming
    the place of the first problem."""
    if _passes(value, max_depth):
        return
    _locate_problem(value, max_depth)


def _passes(value: Any, max_depth: int) -> bool:
    """Whether no key or string holds a NUL and nothing is nested deeper than `max_depth`."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > max_depth:
                return False
            for key, child in item.items():
                if "\x00" in str(key):
                    return False
                if isinstance(child, str):
                    if "\x00" in child:
                        return False
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > max_depth:
                return False
            for child in item:
                if isinstance(child, str):
                    if "\x00" in child:
                        return False
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        elif isinstance(item, str) and "\x00" in item:
            return False
    return True


def _locate_problem(value: Any, max_depth: int) -> None:
    """Raise `JsonProblem` for the first problem `_passes` meets, naming where it is."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise JsonProblem(path or "non_field_errors", nul_message())
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise JsonProblem(path or "non_field_errors", depth_message())
            if isinstance(item, dict):
                for key, child in item.items():
                    child_path = f"{path}.{key}" if path else str(key)
                    if "\x00" in str(key):
                        raise JsonProblem(path or "non_field_errors", nul_message())
                    stack.append((child, child_path, depth + 1))
            else:
                stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))


def parse_checked_json(data: bytes | str) -> Any:
    """`json.loads`, refusing (with `JsonProblem`) what `check_json_value` refuses. A body Python's
    parser cannot even read for its depth is refused as too deep; other malformed JSON raises
    `ValueError` as `json.loads` does."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise JsonProblem("non_field_errors", depth_message()) from None
    check_json_value(value)
    return value


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.content_type in _JSON_TYPES


def refusal(request: HttpRequest, status: int, detail: str, errors: dict[str, list[str]]) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": detail, "errors": errors}, status=status)
    return render(request, "request_refused.html", {"detail": detail, "errors": errors}, status=status)


def _too_large(request: HttpRequest, limit: int) -> HttpResponse:
    message = _("The request body is larger than the %(limit)s bytes allowed.") % {"limit": f"{limit:,}"}
    return refusal(request, 413, message, {"non_field_errors": [message]})


def _invalid(request: HttpRequest, field: str, message: str) -> HttpResponse:
    return refusal(request, 400, _("Invalid input."), {field: [message]})


def _body_limit(request: HttpRequest) -> int:
    if request.content_type == "multipart/form-data":
        return settings.MAX_UPLOAD_REQUEST_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.check(request) or self.get_response(request)
        if (response.status_code == 404 and request.path.startswith("/api/")
                and not response.get("Content-Type", "").startswith("application/json")):
            # A path no API route matches (an id that is not a number, say) answers in the API's shape too.
            response = JsonResponse({"detail": _("Not found.")}, status=404)
        return response

    def check(self, request: HttpRequest) -> HttpResponse | None:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if not declared.strip().isdigit():
            return _invalid(request, "non_field_errors", _("The Content-Length header is not a number."))
        limit = _body_limit(request)
        if int(declared) > limit:
            return _too_large(request, limit)
        for key, values in request.GET.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return _invalid(request, key.replace("\x00", "") or "non_field_errors", nul_message())
        try:
            if request.content_type in _JSON_TYPES and int(declared) > 0:
                try:
                    try:
                        text = request.body.decode("utf-8-sig")
                    except UnicodeDecodeError:  # checked all the same (json.loads reads UTF-16 and -32 too)
                        parse_checked_json(request.body)
                    else:
                        # Read as POST /api/v1/verify reads it (UTF-8, a BOM allowed), and kept on the
                        # request: that view need not parse and check the very same body again.
                        request.checked_json = parse_checked_json(text)
                except JsonProblem as problem:
                    return _invalid(request, problem.path, problem.message)
                except ValueError:
                    pass  # not UTF-8 or malformed JSON: the view's parser answers it with its own message
            elif request.method == "POST" and request.content_type in _FORM_TYPES:  # the fields, not the files
                for key, values in request.POST.lists():
                    if "\x00" in key or any("\x00" in value for value in values):
                        return _invalid(request, key.replace("\x00", "") or "non_field_errors", nul_message())
        except RequestDataTooBig:
            return _too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        except (TooManyFieldsSent, TooManyFilesSent) as error:
            return _invalid(request, "non_field_errors", str(error))
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """The same answers when a view (or DRF's parsers) meets Django's own limits."""
        if isinstance(exception, RequestDataTooBig):  # Django's limit on what is not a file
            return _too_large(request, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            return _invalid(request, "non_field_errors", str(exception))
        return None
