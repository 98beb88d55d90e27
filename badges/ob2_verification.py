"""Verifying a presented Open Badges 2.0 assertion (hosted verification), beside the OB 3.0
verifier in badges.verification: the /verify page and POST /api/v1/verify hand an OB 2.0 input
here (`presented_*` tell the two apart) and show the same kind of report.

What can be presented: the Assertion's URL (pasted as the "credential", or `{"credential": url}`),
its JSON, or a PNG baked with an `openbadges` iTXt chunk (JSON or URL inside).

The checks (ids as in the OB 3.0 report, so the verdict reads the same; codes in OB2_CHECK_CODES):

* `shape`: an OB 2.0 Assertion (the OB 2.0 context, type Assertion, an http(s) id, a badge, a
  recipient), verified by hosting (`verification.type` hosted / HostedBadge). A signed OB 2.0
  assertion (a JWS) is reported as not supported: this server does not check OB 2.0 signatures;
* `proof`: hosted verification. The Assertion is obtained from its id (ours read from the database,
  a foreign one fetched with the guarded fetcher, https only) and compared with the presented copy
  (recipient, badge, issuedOn, expires); the id must be on the issuer's origin (the default OB 2.0
  verification policy);
* `issuer`: the BadgeClass and its Issuer Profile (ours from the database; a foreign host's fetched);
* `dates`: issuedOn not in the future, expires not passed;
* `status`: revoked when the hosted Assertion says `revoked: true` or its id is in the issuer's
  RevocationList (ours read from the same rows the OB 3.0 status lists are computed from); a
  RevocationList that cannot be read is `status.unknown`;
* `registry`: ours only: the body's endorsement the BadgeClass names is in force (suspended, revoked
  or expired endorsements fail). For a foreign host it is `registry.elsewhere`, informational: this
  registry cannot say whether anyone endorses an issuer it does not hold;
* `identity`: with an e-mail address, whether it is the recipient's (informational).

What cannot be checked for a foreign host, and is said so in the report: that the issuer is who it
claims (hosted OB 2.0 trusts the host; there is no signature), and any endorsement of it.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from badges import credentials as vc
from badges import ob2
from badges.did_resolver import DidResolver
from badges.fetch import FetchError, fetch
from badges.models import Award, Programme
from badges.routes import resolve_path
from badges.verification import (
    CLOCK_LEEWAY,
    Check,
    VerificationReport,
    credential_from_image,
    credential_from_json,
    credential_verify,
)
from config.errors import InvalidInput
from endorsement.models import Endorsement, EndorsementState
from institutions.models import Organisation

log = logging.getLogger(__name__)
JsonDict = dict[str, Any]
Presented = JsonDict | str  # an OB 3.0 credential or OB 2.0 assertion (JSON), or an assertion URL
ACCEPT = "application/ld+json, application/json"
# The codes only an OB 2.0 report carries (the others are badges.verification.CHECK_CODES').
OB2_CHECK_CODES = (
    "shape.ob2-assertion", "shape.ob2-signed-unsupported", "shape.ob2-invalid",
    "proof.hosted", "proof.hosted-mismatch", "proof.hosted-not-found", "proof.hosted-unreachable",
    "proof.hosted-other-origin",
    "issuer.ob2-profile", "issuer.ob2-unreadable",
)
HOSTED_TYPES = {"hosted", "HostedBadge"}
GONE = "410 Gone"  # the marker of a foreign assertion whose id answers 410 Gone: revoked
COMPARED = ("recipient", "badge", "issuedOn", "expires")


# --- Telling the inputs apart ---------------------------------------------------------------------
def _is_url(text: str) -> bool:
    text = text.strip()
    return text.startswith(("https://", "http://")) and not any(c.isspace() for c in text) and len(text) <= 2000


def _contexts(document: Mapping[str, Any]) -> list[Any]:
    context = document.get("@context")
    return context if isinstance(context, list) else [context]


def is_ob2(document: Any) -> bool:
    """An OB 2.0 object: its @context is (or includes) the OB 2.0 context, and no VC context."""
    if not isinstance(document, Mapping):
        return False
    contexts = _contexts(document)
    return any(c in ob2.OB2_CONTEXTS for c in contexts) and not any(
        isinstance(c, str) and "credentials" in c for c in contexts)


def presented_from_text(text: str | bytes, *, field_name: str = "credential") -> Presented:
    """A pasted assertion URL as it is (the URL of one of our OB 3.0 badges: its signed credential);
    otherwise the JSON (badges.verification.credential_from_json)."""
    if isinstance(text, str) and _is_url(text):
        return _our_badge_credential(text.strip()) or text.strip()
    return credential_from_json(text, field_name=field_name)


def presented_from_image(data: bytes, *, field_name: str = "file") -> Presented:
    """What a baked image holds: an OB 3.0 credential, or else an OB 2.0 PNG's assertion (JSON or
    URL). The OB 3.0 reader's message is kept when the image holds neither."""
    try:
        return credential_from_image(data, field_name=field_name)
    except InvalidInput as error:
        if not data.startswith(b"\x89PNG\r\n\x1a\n"):
            raise
        try:
            baked = vc.extract_png_ob2(data)
        except vc.BakingError:
            raise error from None
    if isinstance(baked, str) and not _is_url(baked):
        message = _("This PNG holds a signed Open Badges 2.0 assertion (a JWS); only hosted OB 2.0 assertions "
                    "are checked here.")
        raise InvalidInput(message, field_errors={field_name: [message]})
    return baked


def is_ob2_input(presented: Presented) -> bool:
    """Whether what was presented is an OB 2.0 assertion (its URL or JSON), not an OB 3.0 credential."""
    return isinstance(presented, str) or is_ob2(presented)


def presented_verify(presented: Presented, *, email: str = "", now: datetime | None = None) -> VerificationReport:
    """The report on what was presented: an OB 2.0 assertion (URL or JSON) here, OB 3.0 credentials
    by badges.verification."""
    if is_ob2_input(presented):
        return ob2_verify(presented, email=email, now=now)
    return credential_verify(presented, email=email, now=now)


def _our_badge_credential(url: str) -> JsonDict | None:
    """The signed OB 3.0 credential of the badge this server serves at `url` (`/badges/<uuid>`)."""
    view = _local_view(url)
    if view is None or view[0] != "badge":
        return None
    return Award.objects.filter(public_id=view[1]["public_id"], credential__isnull=False).values_list(
        "credential", flat=True).first()


# --- Verifying ------------------------------------------------------------------------------------
def _check(id: str, label: str, passed: bool, code: str, message: str, *, informational: bool = False) -> Check:
    return Check(id, label, passed, message, informational=informational, code=code)


def _local_view(url: Any) -> tuple[str, dict[str, Any]] | None:
    """(url name, kwargs) of this server's view a URL names, when under SITE_URL."""
    if not isinstance(url, str) or not url.startswith(settings.SITE_URL + "/"):
        return None
    match = resolve_path(urlsplit(url).path)
    if match is None:
        return None
    return match.url_name or "", match.kwargs


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _email_matches(recipient: Any, email: str) -> bool:
    if not isinstance(recipient, Mapping) or recipient.get("type") != "email":
        return False
    identity = recipient.get("identity")
    if not isinstance(identity, str):
        return False
    if not recipient.get("hashed"):
        return hmac.compare_digest(vc.normalize_email(identity).encode(), vc.normalize_email(email).encode())
    return vc.email_identity_matches({"identityType": "emailAddress", "identityHash": identity, "hashed": True,
                                      "salt": recipient.get("salt") or ""}, email)


class _Ob2Verifier:
    """One OB 2.0 verification: at most the resolver's budget of documents fetched from elsewhere."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.fetcher = DidResolver()  # its budgeted, guarded fetch_json (badges.fetch)
        self.checks: list[Check] = []

    def add(self, *args: Any, **kwargs: Any) -> None:
        self.checks.append(_check(*args, **kwargs))

    # The documents, ours from the database, others fetched.
    def ours(self, url: str) -> tuple[JsonDict | None, bool]:
        """(the document this server serves at `url`, True) when `url` is ours; (None, True) for an
        unknown id of ours; (None, False) when not ours."""
        view = _local_view(url)
        if view is None:
            return None, False
        name, kwargs = view
        if name == "ob2-assertion":
            award = ob2.award_for_assertion(kwargs["public_id"])
            return (ob2.assertion_document(award) if award else None), True
        if name in ("ob2-badgeclass", "ob2-badgeclass-version"):
            programme = Programme.objects.select_related("organisation").filter(
                public_id=kwargs["public_id"]).first()
            return (ob2.badge_class_document(programme, int(kwargs.get("version", 1))) if programme else None), True
        if name in ("ob2-issuer", "ob2-revocations"):
            organisation = Organisation.objects.filter(slug=kwargs["slug"]).first()
            if organisation is None or not ob2.issuer_public(organisation):
                return None, True
            build = ob2.issuer_document if name == "ob2-issuer" else ob2.revocation_list_document
            return build(organisation), True
        return None, True

    def get(self, url: Any) -> tuple[JsonDict | None, str, bool]:
        """(document, why not, ours)."""
        if not isinstance(url, str) or not _is_url(url):
            return None, _("it is not an http(s) URL."), False
        document, local = self.ours(url)
        if local:
            return document, "" if document else _("this server has no such document."), True
        return (*self.fetch_json(url), False)

    def fetch_json(self, url: str) -> tuple[JsonDict | None, str]:
        """A foreign document, with the guarded fetcher (badges.fetch) under the resolver's budget
        and limits, https only. A hosted assertion revoked by a server that answers 410 Gone with
        its JSON (as OB 2.0 hosted verification allows) is read too."""
        resolver = self.fetcher
        if resolver.fetches >= resolver.max_fetches:
            return None, _("this assertion needs more than %(max)d documents from other servers; the rest were "
                           "not fetched.") % {"max": resolver.max_fetches}
        resolver.fetches += 1
        try:
            body = fetch(url, timeout=resolver.timeout, max_bytes=resolver.max_bytes,
                         allow_loopback=resolver.allow_loopback, https_only=True, accept=ACCEPT).body
        except FetchError as error:
            if error.status == 410:
                return {GONE: True}, ""
            return None, error.message
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None, _("it is not JSON.")
        if not isinstance(document, dict):
            return None, _("it is not a JSON object.")
        return document, ""

    def run(self, presented: Presented, email: str) -> tuple[list[Check], JsonDict]:
        summary: JsonDict = {"id": presented if isinstance(presented, str) else "", "type": ["Assertion"]}
        label_shape = _("An Open Badges 2.0 assertion")
        if isinstance(presented, Mapping):
            if not (isinstance(presented.get("id"), str) and _is_url(presented["id"])
                    and "Assertion" in vc_types(presented) and presented.get("badge") and presented.get("recipient")):
                self.add("shape", label_shape, False, "shape.ob2-invalid",
                         _("This is not a complete Open Badges 2.0 assertion: it needs an http(s) id, type "
                           "Assertion, a badge and a recipient."))
                return self.checks, summary
            verification = presented.get("verification")
            kind = verification.get("type") if isinstance(verification, Mapping) else None
            if kind not in HOSTED_TYPES:
                self.add("shape", label_shape, False, "shape.ob2-signed-unsupported",
                         _("This assertion is verified by signature (%(kind)s); only hosted Open Badges 2.0 "
                           "assertions are checked here.") % {"kind": str(kind)[:40]})
                return self.checks, summary
            assertion_id = presented["id"]
        else:
            assertion_id = presented
        summary["id"] = assertion_id[:1000]
        self.add("shape", label_shape, True, "shape.ob2-assertion",
                 _("An Open Badges 2.0 assertion, verified by being hosted at its id."))

        # Hosted verification: the assertion as its id serves it now.
        label_proof = _("Hosted at its id")
        hosted, error, local = self.get(assertion_id)
        if hosted is None:
            code = "proof.hosted-not-found" if local else "proof.hosted-unreachable"
            self.add("proof", label_proof, False, code,
                     _("The assertion could not be obtained from its id %(url)s: %(reason)s")
                     % {"url": assertion_id, "reason": error})
            return self.checks, summary
        if hosted.get(GONE):
            # Revoked, its server says; the rest is checked on the copy presented (if any).
            hosted = {**(presented if isinstance(presented, Mapping) else {"id": assertion_id, "type": "Assertion"}),
                      "revoked": True, "revocationReason": GONE}
        elif hosted.get("id") != assertion_id or "Assertion" not in vc_types(hosted):
            self.add("proof", label_proof, False, "proof.hosted-mismatch",
                     _("The document at %(url)s is not the assertion with that id.") % {"url": assertion_id})
            return self.checks, summary
        if isinstance(presented, Mapping) and hosted.get("revocationReason") != GONE:
            differing = [key for key in COMPARED if presented.get(key) != hosted.get(key)]
            if differing:
                self.add("proof", label_proof, False, "proof.hosted-mismatch",
                         _("The copy presented differs from the assertion hosted at its id in: %(fields)s.")
                         % {"fields": ", ".join(differing)})
                return self.checks, summary
        summary.update({"valid_from": str(hosted.get("issuedOn", ""))[:40],
                        "valid_until": str(hosted.get("expires", "") or "")[:40]})

        # The BadgeClass and its issuer; the id must be on the issuer's origin.
        label_issuer = _("Issuer known")
        badge, error, _local = self.get(hosted.get("badge"))
        issuer = None
        if badge is not None and "BadgeClass" in vc_types(badge):
            summary["achievement"] = summary["name"] = str(badge.get("name", ""))[:300]
            issuer, error, _local = self.get(badge.get("issuer"))
        if issuer is None or not ({"Issuer", "Profile"} & set(vc_types(issuer))):
            self.add("issuer", label_issuer, False, "issuer.ob2-unreadable",
                     _("The badge class or its issuer could not be read: %(reason)s")
                     % {"reason": error or _("not an Open Badges 2.0 BadgeClass and Issuer.")})
            return self.checks, summary
        summary["issuer"] = {"id": str(issuer.get("id", ""))[:1000], "name": str(issuer.get("name", ""))[:300]}
        if not isinstance(issuer.get("id"), str) or _origin(assertion_id) != _origin(issuer["id"]):
            self.add("proof", label_proof, False, "proof.hosted-other-origin",
                     _("The assertion is hosted at %(assertion)s, not on its issuer's origin %(issuer)s.")
                     % {"assertion": _origin(assertion_id), "issuer": _origin(str(issuer.get("id")))})
        else:
            self.add("proof", label_proof, True, "proof.hosted",
                     _("The assertion is served at its id on its issuer's origin, and the copy presented is the "
                       "same.") if isinstance(presented, Mapping) else
                     _("The assertion is served at its id on its issuer's origin."))
        self.add("issuer", label_issuer, True, "issuer.ob2-profile",
                 (_("%(name)s, from this registry's own records.") if local else
                  _("%(name)s, as its own server describes itself (hosted Open Badges 2.0 has no signature: "
                    "this cannot show who runs that server).")) % {"name": str(issuer.get("name", ""))[:300]})

        self.dates(hosted)
        self.status(hosted, issuer, assertion_id)
        self.registry(badge, local)
        if email:
            matches = _email_matches(hosted.get("recipient"), email)
            self.add("identity", _("Recipient's e-mail address"), matches,
                     "identity.match" if matches else "identity.mismatch",
                     _("The e-mail address you gave is the recipient's.") if matches else
                     _("The e-mail address you gave is not the one the assertion names."), informational=True)
        return self.checks, summary

    def dates(self, hosted: Mapping[str, Any]) -> None:
        label = _("Dates")
        issued, expires = _time(hosted.get("issuedOn")), _time(hosted.get("expires"))
        if issued is None or (hosted.get("expires") and expires is None):
            self.add("dates", label, False, "dates.invalid", _("issuedOn or expires is not a date-time."))
        elif issued > self.now + CLOCK_LEEWAY:
            self.add("dates", label, False, "dates.not-yet-valid", _("It is issued in the future."))
        elif expires is not None and expires <= self.now:
            self.add("dates", label, False, "dates.expired", _("It expired on %(when)s.")
                     % {"when": expires.strftime("%Y-%m-%d %H:%M UTC")})
        else:
            self.add("dates", label, True, "dates.ok", _("Issued on %(when)s; not expired.")
                     % {"when": issued.strftime("%Y-%m-%d %H:%M UTC")})

    def status(self, hosted: Mapping[str, Any], issuer: Mapping[str, Any], assertion_id: str) -> None:
        label = _("Not revoked")
        if hosted.get("revoked") is True:
            self.add("status", label, False, "status.revoked", _("Revoked by its issuer: %(reason)s")
                     % {"reason": str(hosted.get("revocationReason") or _("no reason given"))[:500]})
            return
        list_url = issuer.get("revocationList")
        if not list_url:
            self.add("status", label, True, "status.no-status",
                     _("Not marked revoked; its issuer publishes no revocation list."))
            return
        revocations, error, _local = self.get(list_url)
        if revocations is None or not isinstance(revocations.get("revokedAssertions", []), list):
            self.add("status", label, False, "status.unknown",
                     _("The issuer's revocation list %(url)s could not be read: %(reason)s")
                     % {"url": str(list_url)[:1000], "reason": error or _("it is not a RevocationList.")})
            return
        for entry in revocations.get("revokedAssertions", []):
            entry_id = entry.get("id") if isinstance(entry, Mapping) else entry
            if entry_id == assertion_id:
                reason = entry.get("revocationReason") if isinstance(entry, Mapping) else None
                self.add("status", label, False, "status.revoked", _("Revoked by its issuer: %(reason)s")
                         % {"reason": str(reason or _("no reason given"))[:500]})
                return
        self.add("status", label, True, "status.not-revoked", _("Not in its issuer's revocation list."))

    def registry(self, badge: Mapping[str, Any], local: bool) -> None:
        label = _("Endorsed by this registry")
        if not local:
            self.add("registry", label, False, "registry.elsewhere",
                     _("Not hosted by this registry: whether anyone endorses this issuer cannot be checked here."),
                     informational=True)
            return
        urls = [e for e in (badge.get("endorsement") or []) if isinstance(e, str)]
        views = [_local_view(u) for u in urls]
        ids = [v[1]["public_id"] for v in views if v and v[0] == "ob2-endorsement"]
        endorsement = Endorsement.objects.filter(public_id__in=ids).order_by("-valid_from").first()
        if endorsement is None:
            self.add("registry", label, False, "registry.not-found", _("This registry holds no endorsement of it."))
        elif endorsement.state == EndorsementState.SUSPENDED:
            self.add("registry", label, False, "registry.suspended", _("Its endorsement is suspended."))
        elif endorsement.state == EndorsementState.REVOKED:
            self.add("registry", label, False, "registry.revoked", _("Its endorsement was revoked."))
        elif endorsement.state == EndorsementState.EXPIRED or endorsement.valid_until <= self.now:
            self.add("registry", label, False, "registry.expired", _("Its endorsement has expired."))
        else:
            self.add("registry", label, True, "registry.ok", _("Endorsed by this registry until %(when)s.")
                     % {"when": endorsement.valid_until.strftime("%Y-%m-%d")})


def vc_types(document: Mapping[str, Any]) -> list[str]:
    value = document.get("type")
    return [t for t in (value if isinstance(value, list) else [value]) if isinstance(t, str)]


def ob2_verify(presented: Presented, *, email: str = "", now: datetime | None = None) -> VerificationReport:
    """The report on an OB 2.0 assertion (its URL or JSON). Never raises on odd input: a check that
    breaks is reported as failed."""
    verifier = _Ob2Verifier(now or timezone.now())
    try:
        checks, summary = verifier.run(presented, email)
    except Exception:
        log.exception("OB 2.0 verification failed on unexpected input")
        checks = [*verifier.checks, _check("error", _("Verification"), False, "error.error",
                                           _("The assertion could not be checked (unexpected content)."))]
        summary = {}
    return VerificationReport(checks=checks, credential=summary)
