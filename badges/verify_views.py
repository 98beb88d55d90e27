"""The public /verify page: paste a credential's JSON or upload a baked badge, get the report in
plain words. Works without JavaScript (static/js/verify.js only adds dropping a file onto the form);
the form is CSRF-protected like every other form. `plain_words` is shared with the learner's badge
page, which shows the same report."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from badges.identity import CHECK_ID as NAME_CHECK
from badges.identity import MAX_NAME, name_check_add, name_clean
from badges.ob2_verification import is_ob2_input, presented_from_image, presented_from_text, presented_verify
from badges.verification import (
    BADGE_TYPES,
    ENDORSEMENT_TYPE,
    Check,
    VerificationReport,
    embedded_with_targets,
    max_upload_bytes,
    upload_too_large,
)
from config.errors import InvalidInput
from config.i18n import Written, lang_of, written_in


class VerifyForm(forms.Form):
    credential = forms.CharField(
        label=_("The credential's JSON"), required=False, strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "autocomplete": "off",
                                     "autocapitalize": "off", "class": "code"}),
        help_text=_("Paste the whole credential, from the first { to the last }, or the URL of an "
                    "Open Badges 2.0 assertion."),
    )
    file = forms.FileField(
        label=_("Or a badge image"), required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/svg+xml,.png,.svg"}),
        help_text=_("A PNG or SVG badge with its credential baked in, up to 5 MB."),
    )
    email = forms.EmailField(
        label=_("Recipient's e-mail address (optional)"), required=False,
        help_text=_("If you give it, the report says whether the badge was awarded to this address. "
                    "It is not stored."),
    )
    name = forms.CharField(
        label=_("Recipient's name (optional)"), required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": MAX_NAME}),
        help_text=_("The name the holder gave you: the report says whether the badge names this person, even "
                    "when it holds the name only hashed. It is not stored."),
    )

    def clean_name(self) -> str:
        try:
            return name_clean(self.cleaned_data.get("name"))
        except InvalidInput as error:
            raise forms.ValidationError(error.field_errors["name"]) from None

    def clean(self) -> dict:
        data = super().clean()
        if data.get("file") and (data.get("credential") or "").strip():
            self.add_error("file", _("Give either the JSON or an image, not both."))
        elif not data.get("file") and not (data.get("credential") or "").strip() and not self.errors:
            self.add_error("credential", _("Paste a credential (its JSON) or choose a badge image."))
        return data

    def credential_data(self) -> dict | str:
        """The credential the valid form holds (or an OB 2.0 assertion's URL); `InvalidInput` (by
        field) if none can be read."""
        upload = self.cleaned_data.get("file")
        if upload:
            if upload.size > max_upload_bytes():
                raise upload_too_large("file")
            return presented_from_image(upload.read())
        return presented_from_text(self.cleaned_data["credential"])


# --- The report in plain words --------------------------------------------------------------------
# Read from the presented credential (untrusted JSON: every value is checked for its type and
# clipped) and from the report's checks, so that the sentences never claim more than the checks do.
@dataclass(frozen=True)
class EndorsementWords:
    """One endorsement embedded in a badge: by whom, for how long, and whether this registry holds it."""

    endorser: str
    endorser_id: str
    valid_from: datetime | None
    valid_until: datetime | None
    comment: str
    standing: str  # "active", "not-active" (this registry's, no longer in force), "elsewhere" (another body's)
    standing_message: str
    genuine: bool = True  # its form, issuer and signature hold: what it says is what its issuer signed


@dataclass(frozen=True)
class PlainWords:
    """Who issued the credential to whom, what it certifies, when, and who endorses it."""

    kind: str  # "badge", "endorsement" or "other"
    issuer_name: str
    issuer_id: str
    recipient_name: str
    recipient_email: str  # an e-mail address the credential states in plain text
    recipient_hashed_email: bool
    recipient_did: str
    email_match: str  # "" (none typed), "match", "mismatch", "none" (the credential names no e-mail)
    email_given: str  # what the visitor typed
    achievement_name: str
    achievement_description: str
    criteria_narrative: str
    criteria_url: str  # only an http(s) URL
    endorsed_id: str  # what an EndorsementCredential endorses
    endorsement_comment: str
    valid_from: datetime | None
    valid_from_text: str  # the stated value, when it is not a date
    valid_until: datetime | None
    valid_until_text: str
    signed: bool = False  # the signature check passed: the issuer named signed exactly this
    endorsements: list[EndorsementWords] = field(default_factory=list)
    checks_passed: int = 0
    checks_required: int = 0
    achievement_language: str = ""  # the `inLanguage` the achievement states, when a language tag
    name_match: str = ""  # "" (none typed), or the outcome of badges.identity's check: "match", "mismatch", …
    name_given: str = ""
    recipient_hashed_name: bool = False

    @property
    def achievement_written(self) -> Written:
        """The language its name, description and criteria are written in (config.i18n.written_in):
        for the note on a page in the other language."""
        return written_in({"language": self.achievement_language, "name": self.achievement_name,
                           "description": self.achievement_description, "criteria": self.criteria_narrative},
                          fields=("name", "description", "criteria"))

    @property
    def achievement_name_html(self) -> SafeString:
        """The achievement's name, in a `<span lang>` when it is written in the other language."""
        lang = lang_of(self.achievement_name, self.achievement_language)
        if not lang:
            return format_html("{}", self.achievement_name)
        return format_html("<span{}>{}</span>", lang, self.achievement_name)


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def _language_tag(value: Any) -> str:
    """A BCP 47 tag the credential states, or "" (anything else is not trusted into an attribute)."""
    return value if isinstance(value, str) and _LANGUAGE_TAG.fullmatch(value) else ""


def _str(value: Any, limit: int = 300) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _issuer(document: Mapping[str, Any]) -> tuple[str, str]:
    issuer = document.get("issuer")
    if isinstance(issuer, str):
        return "", issuer[:1000]
    issuer = _mapping(issuer)
    return _str(issuer.get("name")), _str(issuer.get("id"), 1000)


def _start(document: Mapping[str, Any]) -> Any:
    return document.get("validFrom", document.get("issuanceDate"))


def _end(document: Mapping[str, Any]) -> Any:
    return document.get("validUntil", document.get("expirationDate"))


def _web_url(value: Any) -> str:
    url = _str(value, 2000)
    return url if url.lower().startswith(("https://", "http://")) else ""


def _endorsement_words(number: int, endorsement: Mapping[str, Any], checks: dict[str, Check]) -> EndorsementWords:
    name, did = _issuer(endorsement)
    subject = next((s for s in _list(endorsement.get("credentialSubject")) if isinstance(s, Mapping)), {})
    held = checks.get(f"endorsement-{number}-registry")
    if held is None or (held.informational and not held.passed):
        standing = "elsewhere"
    else:
        standing = "active" if held.passed else "not-active"
    return EndorsementWords(
        endorser=name, endorser_id=did, valid_from=_moment(_start(endorsement)), valid_until=_moment(_end(endorsement)),
        comment=_str(subject.get("endorsementComment"), 2000), standing=standing,
        standing_message=held.message if held is not None else "",
        genuine=all(checks.get(f"endorsement-{number}-{kind}") is not None
                    and checks[f"endorsement-{number}-{kind}"].passed for kind in ("shape", "issuer", "proof")),
    )


def plain_words(credential: Mapping[str, Any], report: VerificationReport, *, email: str = "",
                name: str = "") -> PlainWords:
    """The report in sentences: the credential's own statements, and what the checks found about them.
    `email` and `name` are what the visitor typed (the "identity" and "recipient-name" checks hold
    whether they matched)."""
    checks = {c.id: c for c in report.checks}
    types = {t for t in _list(credential.get("type")) if isinstance(t, str)}
    kind = "badge" if types & BADGE_TYPES else "endorsement" if ENDORSEMENT_TYPE in types else "other"
    subject = next((s for s in _list(credential.get("credentialSubject")) if isinstance(s, Mapping)), {})
    achievement = _mapping(subject.get("achievement"))
    criteria = _mapping(achievement.get("criteria"))
    identities = [i for i in _list(subject.get("identifier")) if isinstance(i, Mapping)]
    names = [_str(i.get("identityHash")) for i in identities if i.get("identityType") == "name" and not i.get("hashed")]
    emails = [i for i in identities if i.get("identityType") == "emailAddress"]
    email_match = ""
    if email.strip():
        identity = checks.get("identity")
        email_match = ("match" if identity is not None and identity.passed
                       else "mismatch" if emails and kind == "badge" else "none")
    issuer_name, issuer_id = _issuer(credential)
    required = [c for c in report.checks if not c.informational]
    return PlainWords(
        kind=kind, issuer_name=issuer_name, issuer_id=issuer_id,
        recipient_name=_str(subject.get("name")) or next((n for n in names if n), ""),
        recipient_email=next((_str(i.get("identityHash")) for i in emails if not i.get("hashed")), ""),
        recipient_hashed_email=any(i.get("hashed") for i in emails),
        recipient_did=_str(subject.get("id"), 1000) if kind == "badge" else "",
        email_match=email_match, email_given=email.strip(),
        achievement_name=_str(achievement.get("name")) or (_str(credential.get("name")) if kind != "badge" else ""),
        achievement_description=_str(achievement.get("description"), 4000),
        criteria_narrative=_str(criteria.get("narrative"), 4000), criteria_url=_web_url(criteria.get("id")),
        endorsed_id=_str(subject.get("id"), 1000) if kind == "endorsement" else "",
        endorsement_comment=_str(subject.get("endorsementComment"), 2000) if kind == "endorsement" else "",
        valid_from=_moment(_start(credential)), valid_from_text=_str(_start(credential), 40),
        valid_until=_moment(_end(credential)), valid_until_text=_str(_end(credential), 40),
        signed=all(checks.get(c) is not None and checks[c].passed for c in ("issuer", "proof")),
        endorsements=[_endorsement_words(n, e, checks)
                      for n, (e, _target, _where) in enumerate(embedded_with_targets(credential), start=1)],
        checks_passed=sum(1 for c in required if c.passed), checks_required=len(required),
        achievement_language=_language_tag(achievement.get("inLanguage")),
        name_match=checks[NAME_CHECK].outcome if name.strip() and NAME_CHECK in checks else "",
        name_given=name.strip(),
        recipient_hashed_name=any(i.get("hashed") for i in identities if i.get("identityType") == "name"),
    )


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    report = words = None
    form = VerifyForm(request.POST, request.FILES) if request.method == "POST" else VerifyForm()
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data.get("email") or ""
        name = form.cleaned_data.get("name") or ""
        try:
            credential = form.credential_data()
            report = name_check_add(presented_verify(credential, email=email), credential, name)
        except InvalidInput as error:
            for name, messages in error.field_errors.items():
                for message in messages:
                    form.add_error(name if name in form.fields else None, message)
        else:
            # The plain words read an OB 3.0 credential (and speak of its signature): an OB 2.0
            # assertion's report is its checks alone, each saying what it found.
            words = None if is_ob2_input(credential) else plain_words(credential, report, email=email, name=name)
    status = 400 if form.errors else 200
    return render(request, "badges/verify.html", {"form": form, "report": report, "words": words}, status=status)
