"""OpenAPI schema post-processing (drf-spectacular): every operation documents the error answers it
can give, in the one error shape of config/api.py and config/request_guard.py."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "description": "Messages by field (nested fields as paths: `owner.password`, `judgements[1].verdict`).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail"],
}
_DESCRIPTIONS = {
    "400": "Bad input (missing, malformed, wrong type, a NUL character, JSON nested too deep): nothing was written.",
    "401": "Not signed in (no or an invalid token).",
    "403": "You may see the object but not do this.",
    "404": "Absent, or not yours.",
    "409": "Not possible in the object's current state, or a condition is unmet (the message says which).",
    "413": "The request body is larger than allowed: it was not read.",
    "415": "The body's Content-Type is not one this operation reads.",
    "429": "Throttled, or logging in is paused after too many failed attempts.",
}
_METHODS = {"get", "post", "put", "patch", "delete"}


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["400", "429"]
    security = operation.get("security")
    anonymous = security is not None and any(not requirement for requirement in security)
    if not anonymous:
        codes += ["401", "403"]
    if "{" in path:
        codes.append("404")
    if method != "get":
        codes += ["413", "415"] + ([] if anonymous else ["409"])
    return codes


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code in _codes(path, method, operation):
                responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
            for code, response in responses.items():
                if code.isdigit() and int(code) >= 400 and "content" not in response:
                    response["content"] = content
    return result
