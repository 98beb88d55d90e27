"""The body as an OpenID Federation trust anchor, and its signed list of endorsed issuers
(endorsement.trust). Thin: the statements are made and signed in endorsement.trust.

- `GET /.well-known/openid-federation`: the entity configuration (`application/entity-statement+jwt`);
- `GET /federation/fetch?sub=<issuer DID>`: a signed subordinate statement about an endorsed issuer,
  404 with the specification's error JSON for anyone else, 400 without `sub`;
- `GET /federation/list`: the endorsed issuers' entity ids, a JSON array;
- `GET /registry/trust-list.json`: the newest signed list credential.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from endorsement import trust

# Answers follow the registry snapshot: a verifier may keep one for a minute.
MAX_AGE = 60


def _public(response: HttpResponse, max_age: int = MAX_AGE) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _error(status: int, error: str, description: str) -> HttpResponse:
    """An error response as OpenID Federation 1.0 defines it (section 8.9)."""
    return _public(JsonResponse({"error": error, "error_description": description}, status=status), max_age=0)


def _statement(jwt: str) -> HttpResponse:
    return _public(HttpResponse(jwt, content_type=trust.ENTITY_STATEMENT_CONTENT_TYPE))


@require_safe
def entity_configuration(request: HttpRequest) -> HttpResponse:
    return _statement(trust.entity_configuration())


def _raw_sub(request: HttpRequest) -> str | None:
    """`sub` as sent, with only `+` read as a space: a client that did not percent-encode the DID
    (the DCC client does not) leaves its `%3A` in the raw query string."""
    for pair in request.META.get("QUERY_STRING", "").split("&"):
        name, _sep, value = pair.partition("=")
        if name == "sub":
            return value.replace("+", " ").strip()
    return None


@require_safe
def fetch(request: HttpRequest) -> HttpResponse:
    sub = request.GET.get("sub", "").strip()
    if not sub:
        return _error(400, "invalid_request", "The sub parameter (the issuer's DID) is required.")
    for candidate in trust.sub_candidates(sub, _raw_sub(request)):
        statement = trust.subordinate_statement(candidate)
        if statement is not None:
            return _statement(statement)
    return _error(404, "not_found", f"{sub} is not an issuer endorsed by this body.")


@require_safe
def subordinate_list(request: HttpRequest) -> HttpResponse:
    return _public(HttpResponse(json.dumps(trust.subordinates()), content_type="application/json"))


@require_safe
def trust_list(request: HttpRequest) -> HttpResponse:
    row = trust.trust_list_current()
    body = json.dumps(row.credential, ensure_ascii=False, indent=2).encode("utf-8")
    response = HttpResponse(body, content_type="application/vc+ld+json; charset=utf-8")
    response["ETag"] = f'"{row.digest}-{int(row.signed_at.timestamp())}"'
    return _public(response, max_age=300)
