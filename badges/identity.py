"""Whether a credential names the person a verifier was told of (docs/credentials.md, "The
recipient's name"): an employer enters the name the candidate gave them on /verify or POST
/api/v1/verify, and the report gets a `recipient-name` check saying whether the credential's
IdentityObject of type `name` names that person. OB 3.0's IdentityHash is compared when the name is
hashed (`sha256$` + hex SHA-256 of the normalised name followed by the salt), the plain text
otherwise; both after the same normalisation as at issuance (badges.credentials.normalize_name).
What was entered is compared and forgotten: never stored, logged or cached.

The e-mail address's check (`identity`) is badges.verification's own; this one sits beside it, added
to the report by the view and the API (`name_check_add`), so that verifying stays a function of the
credential alone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from badges import credentials as vc
from badges.verification import BADGE_TYPES, CLR_TYPE, Check, VerificationReport
from config.errors import InvalidInput

CHECK_ID = "recipient-name"
NAME_CHECK_CODES = (f"{CHECK_ID}.match", f"{CHECK_ID}.mismatch", f"{CHECK_ID}.no-name", f"{CHECK_ID}.not-a-badge")
MAX_NAME = 200  # as a recipient's name at issuance (badges.awards)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def name_clean(value: Any, field: str = "name") -> str:
    """The name as typed, trimmed ("" when none); InvalidInput by `field` for what cannot be a name."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(_("Invalid input."), field_errors={field: [_("Give the name as text.")]})
    name = value.strip()
    if len(name) > MAX_NAME:
        raise InvalidInput(_("Invalid input."), field_errors={
            field: [_("A name has at most %(max)d characters.") % {"max": MAX_NAME}]})
    if _CONTROL.search(name):
        raise InvalidInput(_("Invalid input."), field_errors={
            field: [_("Remove the control characters (or line breaks) from the name.")]})
    return name


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _name_identities(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [identity for subject in _list(credential.get("credentialSubject")) if isinstance(subject, Mapping)
            for identity in _list(subject.get("identifier"))
            if isinstance(identity, Mapping) and identity.get("identityType") == "name"]


def name_check(credential: Any, name: str) -> Check:
    """The `recipient-name` check of `name` against what `credential` (an OB 3.0 badge or a CLR, as
    presented: untrusted) says of its recipient. Informational, like the e-mail's."""
    label = _("Recipient's name")
    if not isinstance(credential, Mapping):
        credential = {}  # an Open Badges 2.0 assertion's URL
    types = {t for t in _list(credential.get("type")) if isinstance(t, str)}
    if not (BADGE_TYPES | {CLR_TYPE}) & types:
        return Check(CHECK_ID, label, False, _("Only an Open Badges 3.0 badge names its recipient by name; this "
                                               "credential has none to compare."),
                     informational=True, code=f"{CHECK_ID}.not-a-badge")
    identities = _name_identities(credential)
    if not identities:
        return Check(CHECK_ID, label, False, _("The credential does not name its recipient by name, in plain "
                                               "text or hashed."), informational=True, code=f"{CHECK_ID}.no-name")
    for identity in identities:
        if vc.name_identity_matches(identity, name):
            message = (_("The name you gave is the recipient's: it matches the salted hash the credential holds.")
                       if identity.get("hashed") else
                       _("The name you gave is the recipient's, as the credential writes it in plain text."))
            return Check(CHECK_ID, label, True, message, informational=True, code=f"{CHECK_ID}.match")
    return Check(CHECK_ID, label, False, _("The name you gave is not the one the credential names. Names are "
                                           "compared as written: letter case counts; full-width and half-width "
                                           "letters, and runs of spaces, are the same."),
                 informational=True, code=f"{CHECK_ID}.mismatch")


def name_check_add(report: VerificationReport, credential: Any, name: str) -> VerificationReport:
    """`report` with the `recipient-name` check appended when a name was given (unchanged otherwise)."""
    if name:
        report.checks.append(name_check(credential, name))
    return report
