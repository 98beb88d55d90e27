"""`Idempotency-Key` on the POSTs that award badges, as payment APIs have it (and as the IETF
draft "The Idempotency-Key HTTP Header Field" describes): a client that did not get an answer (a
timeout, a dropped connection) sends the same request with the same key again, and gets the first
answer instead of a second award.

Keys are per organisation. The first request with a key claims it by inserting its row, in the
same transaction as the award: either both are committed or neither, so a key is never remembered
for an award that was not made, nor an award made whose key was forgotten. A second request with
the key waits on that row (PostgreSQL's unique index) until the first commits, then answers what
the first answered. The same key on a different request (another body or another programme) is
refused with 422, writing nothing. A refused request (400, 403, 409) is not remembered: corrected,
it may be sent again with the same key. Keys are kept IDEMPOTENCY_KEY_HOURS (badges.recovery).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from badges.models import IdempotencyKey
from config.errors import InvalidInput, Unprocessable, WrongState
from institutions.models import Organisation

HEADER = "Idempotency-Key"
# Visible ASCII, 1 to 255 characters (a UUID is the usual choice).
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any
    replayed: bool


def request_fingerprint(*, method: str, path: str, payload: Any) -> str:
    """SHA-256 of the request as it matters: method, path and the parsed body (key order aside)."""
    canonical = json.dumps({"method": method.upper(), "path": path, "body": payload}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def idempotency_key_clean(value: str | None) -> str | None:
    """The header's value, or None when absent; InvalidInput when malformed."""
    if value is None:
        return None
    if not _KEY.match(value):
        raise InvalidInput(_("The Idempotency-Key header must be 1 to 255 visible ASCII characters (a UUID, say)."),
                           field_errors={HEADER: [_("1 to 255 visible ASCII characters.")]})
    return value


def _stored(organisation: Organisation, key: str, fingerprint: str) -> Answer | None:
    row = IdempotencyKey.objects.filter(organisation=organisation, key=key).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise Unprocessable(_("This Idempotency-Key was used for a different request: use a new key for a new "
                              "request. Nothing was written."), field_errors={HEADER: [_("Already used for a "
                                                                                          "different request.")]})
    return Answer(row.status_code, row.response, replayed=True)


def idempotent(*, organisation: Organisation, key: str | None, fingerprint: str,
               perform: Callable[[], tuple[int, Any]]) -> Answer:
    """Run `perform` (returning the status code and JSON body of a success) once per key: the first
    time in one transaction with the key's row, afterwards the stored answer. Without a key,
    `perform` simply runs. A DomainError from `perform` rolls the claim back with everything else."""
    if key is None:
        status_code, body = perform()
        return Answer(status_code, body, replayed=False)
    for _attempt in range(3):
        answer = _stored(organisation, key, fingerprint)
        if answer is not None:
            return answer
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(organisation=organisation, key=key, fingerprint=fingerprint,
                                                        status_code=0, response={})
            except IntegrityError:
                row = None  # another request with this key committed first: answer what it answered
            if row is not None:
                status_code, body = perform()
                row.status_code, row.response = status_code, body
                row.save(update_fields=["status_code", "response"])
                return Answer(status_code, body, replayed=False)
    raise WrongState(_("A request with this Idempotency-Key is still being processed: try again in a moment."))
