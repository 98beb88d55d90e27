"""django-cors-headers with a second, wider policy for the 1EdTech Open Badges 3.0 API (docs/operations.md,
"CORS"). The library has one set of allowed methods and headers for every URL it opens; the public
documents need only GET with a few caching headers, while a browser-based wallet on another origin calls
the API's discovery, registration, token, revocation and resource endpoints with POST, an
`Authorization` header (a bearer token, or the client's Basic credentials at the token endpoint) and a
JSON or form body, and reads the paging headers of `credentials`. Both policies send no credentials
(`CORS_ALLOW_CREDENTIALS` stays False: the API takes bearer tokens only, never cookies). The
authorization endpoint is a page the learner's browser navigates to, not a cross-origin call, and stays
closed like the portal and the admin."""

from __future__ import annotations

import re

from corsheaders.middleware import (
    ACCESS_CONTROL_ALLOW_HEADERS,
    ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS,
)
from corsheaders.middleware import CorsMiddleware as LibraryCorsMiddleware
from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class CorsMiddleware(LibraryCorsMiddleware):
    """The library's middleware; on OB_API_CORS_URLS_REGEX, the API's methods and headers instead."""

    def add_response_headers(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        response = super().add_response_headers(request, response)
        if ACCESS_CONTROL_ALLOW_ORIGIN not in response or not re.match(settings.OB_API_CORS_URLS_REGEX,
                                                                      request.path_info):
            return response
        response[ACCESS_CONTROL_EXPOSE_HEADERS] = ", ".join(settings.OB_API_CORS_EXPOSE_HEADERS)
        if request.method == "OPTIONS":
            response[ACCESS_CONTROL_ALLOW_HEADERS] = ", ".join(settings.OB_API_CORS_ALLOW_HEADERS)
            response[ACCESS_CONTROL_ALLOW_METHODS] = ", ".join(settings.OB_API_CORS_ALLOW_METHODS)
        return response
