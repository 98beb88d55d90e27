"""A credential presented as evidence that a learner holds an achievement (a pathway component):
verified in full, then compared with what it should be and who should hold it.

`check_presented` runs the verification service (`badges.verification.credential_verify`: shape,
issuer's DID resolved — ours, did:key, did:web over the guarded fetcher —, every proof, validity
dates, the status list fetched and its bit read, this registry's record of our own awards, every
embedded endorsement) and adds what a verifier who does not know the learner cannot check:

* the achievement is the expected one (`credentialSubject.achievement.id`);
* the issuer is the expected one: a DID compared as it is; a URL matches the issuer whose `did:web`
  it is, or whose Profile `url` (or `id`) it is — a Profile url is only trusted once the signature
  by that issuer's DID has verified;
* the recipient is the learner: an `IdentityObject` of type `emailAddress` or `name` naming them,
  in plain text or salted hash (`badges.credentials.email_identity_matches` /
  `name_identity_matches`), or the subject's `id` being the learner's DID.

The first failure decides (`PresentedCheck.code`, one of PRESENTED_CODES) and its words say why,
in the visitor's language. Nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from badges import credentials as vc
from badges.verification import BADGE_TYPES, VerificationReport, credential_verify

JsonDict = dict[str, Any]

#: Every outcome of `check_presented`, in the order the checks run.
PRESENTED_CODES = (
    "ok", "not-a-badge", "not-genuine", "revoked", "suspended", "expired", "not-yet-valid", "status-unknown",
    "not-verified", "endorsement-invalid", "achievement-mismatch", "issuer-mismatch", "recipient-mismatch",
)


@dataclass(frozen=True)
class Learner:
    """Who the credential should name: any of an e-mail address, a name, a DID."""

    email: str = ""
    name: str = ""
    did: str = ""


@dataclass(frozen=True)
class PresentedCheck:
    accepted: bool
    code: str
    reason: str
    report: VerificationReport | None = None

    def as_dict(self) -> JsonDict:
        return {"accepted": self.accepted, "code": self.code, "reason": self.reason,
                "report": self.report.as_dict() if self.report is not None else None}


def _as_list(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def _subjects(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in _as_list(credential.get("credentialSubject")) if isinstance(s, Mapping)]


def achievement_ids(credential: Mapping[str, Any]) -> list[str]:
    """The ids of the achievements a badge awards."""
    found = []
    for subject in _subjects(credential):
        achievement = subject.get("achievement")
        if isinstance(achievement, Mapping) and isinstance(achievement.get("id"), str):
            found.append(achievement["id"])
    return found


def issuer_matches(credential: Mapping[str, Any], expected: str) -> bool:
    """True if the credential's issuer is `expected`: the same DID; or, for a URL, the issuer whose
    did:web that URL gives, or whose Profile `url`/`id` it is (trailing slash ignored)."""
    issuer_id = vc.issuer_id(credential) or ""
    expected = (expected or "").strip()
    if not expected or not issuer_id:
        return False
    if expected.startswith("did:"):
        return issuer_id == expected
    if expected.startswith(("https://", "http://")):
        try:
            if issuer_id == vc.did_web_from_url(expected):
                return True
        except (ValueError, vc.CredentialError):
            pass
        issuer = credential.get("issuer")
        if isinstance(issuer, Mapping):
            urls = [issuer.get("url"), issuer.get("id")]
            return any(isinstance(u, str) and u.rstrip("/") == expected.rstrip("/") for u in urls)
    return False


def recipient_matches(credential: Mapping[str, Any], learner: Learner) -> bool:
    """True if the badge's subject names the learner (DID, e-mail or name; plain or hashed)."""
    for subject in _subjects(credential):
        if learner.did and subject.get("id") == learner.did:
            return True
        for identity in _as_list(subject.get("identifier")):
            if not isinstance(identity, Mapping):
                continue
            if learner.email and vc.email_identity_matches(identity, learner.email):
                return True
            if learner.name and vc.name_identity_matches(identity, learner.name):
                return True
    return False


def _failing(report: VerificationReport) -> str:
    """The words of the checks that failed (not the informational ones), joined."""
    messages = [f"{c.label}: {c.message}" for c in report.checks if not c.passed and not c.informational]
    return " ".join(messages[:3])


def check_presented(credential: Mapping[str, Any], *, learner: Learner, expected_issuer: str = "",
                    expected_achievement_id: str = "", now: datetime | None = None) -> PresentedCheck:
    """Verify a presented badge in full and compare it with the expected achievement, issuer and
    learner. `expected_issuer` is a DID or URL; empty skips that comparison (and the achievement's)."""
    if not isinstance(credential, Mapping) or not BADGE_TYPES & set(
            t for t in _as_list(credential.get("type")) if isinstance(t, str)):
        return PresentedCheck(False, "not-a-badge", _("This is not an Open Badges credential "
                                                      "(OpenBadgeCredential or AchievementCredential)."))
    report = credential_verify(credential, now=now)
    verdict = report.verdict
    if verdict != "verified" and verdict != "recipient-mismatch":
        words = {
            "not-genuine": _("The credential is not genuine: %(detail)s"),
            "revoked": _("Its issuer has revoked the credential: %(detail)s"),
            "suspended": _("Its issuer has suspended the credential: %(detail)s"),
            "expired": _("The credential has expired: %(detail)s"),
            "not-yet-valid": _("The credential is not valid yet: %(detail)s"),
            "status-unknown": _("Whether the credential was revoked cannot be told: %(detail)s"),
            "endorsement-invalid": _("An endorsement the credential carries does not hold: %(detail)s"),
        }.get(verdict, _("The credential does not verify: %(detail)s"))
        code = verdict if verdict in PRESENTED_CODES else "not-verified"
        return PresentedCheck(False, code, words % {"detail": _failing(report)}, report)
    if expected_achievement_id and expected_achievement_id not in achievement_ids(credential):
        return PresentedCheck(False, "achievement-mismatch", _(
            "The credential awards %(found)s, not the component's achievement %(expected)s.") % {
            "found": ", ".join(achievement_ids(credential)) or "?", "expected": expected_achievement_id}, report)
    if expected_issuer and not issuer_matches(credential, expected_issuer):
        return PresentedCheck(False, "issuer-mismatch", _(
            "The credential is issued by %(found)s, not by the component's declared issuer %(expected)s.") % {
            "found": vc.issuer_id(credential) or "?", "expected": expected_issuer}, report)
    if not recipient_matches(credential, learner):
        return PresentedCheck(False, "recipient-mismatch", _(
            "The credential's recipient is not this learner: none of its identities (e-mail address, name or "
            "DID) names them."), report)
    return PresentedCheck(True, "ok", _("Verified: genuine, in force, issued by the component's issuer to this "
                                        "learner."), report)
