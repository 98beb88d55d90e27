"""The learner's side (docs/learners.md): accounts gathering every badge sent to their verified
addresses on this server, signed in with links mailed to them; hiding a badge's public page;
downloading every badge; deleting the account.

Links (sign-in, a new address's check) are random tokens of which only the SHA-256 is stored; each
works once and for LEARNER_LINK_MINUTES. Asking for a sign-in link answers the same whether or not
the address has badges here (nobody learns who is a learner), and is throttled per address and per
client (LEARNER_LINK_LIMIT within LEARNER_LINK_WINDOW), like the concerns form.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import secrets
import zipfile
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from badges.award_images import award_png, award_svg
from badges.claims import award_claim
from badges.mail_language import chosen_languages, language_choose, languages_forget, mail_language
from badges.models import Award
from config.errors import DomainError, InvalidInput, NotFound, WrongState
from config.tasking import enqueue_on_commit
from endorsement.audit import AuditAction, audit_record
from endorsement.models import AuditEvent
from endorsement.outbox import notification_write
from learners.models import LearnerAccount, LearnerEmail, LearnerLink, LinkPurpose

MAX_EMAIL = 254
MAX_ADDRESSES = 5


class TooManyRequests(DomainError):
    status_code = 429


def learner_actor(account: LearnerAccount) -> str:
    """How the audit trail names a learner (no `auth.User`): `learner:<the account's public ID>`. Their
    events also carry it as `data["account"]`, which `account_history` reads."""
    return f"learner:{account.public_id}"


def account_history(account: LearnerAccount, limit: int = 50) -> list[AuditEvent]:
    """The audit events of what the learner did, or a wallet did with their access, newest first."""
    return list(AuditEvent.objects.filter(data__account=str(account.public_id)).order_by("-seq")[:limit])


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def email_clean(value: Any) -> str:
    """An address as stored and matched: trimmed and case-folded; InvalidInput in words otherwise."""
    email = str(value or "").strip().lower()
    if not email:
        raise InvalidInput(_("Enter your e-mail address."), field_errors={"email": [_("This field is required.")]})
    try:
        if len(email) > MAX_EMAIL:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise InvalidInput(_("Enter a valid e-mail address."),
                           field_errors={"email": [_("Enter a valid e-mail address.")]}) from None
    return email


# --- throttle ---------------------------------------------------------------------------------------
def _throttle_keys(address: str, email: str) -> list[str]:
    return ["learners:link:" + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()
            for kind, value in (("addr", address), ("email", email))]


def _throttle(address: str, email: str) -> None:
    """Count one link request; TooManyRequests once the client or the address has had its share."""
    keys = _throttle_keys(address, email)
    if any((cache.get(key) or 0) >= settings.LEARNER_LINK_LIMIT for key in keys):
        minutes = max(1, math.ceil(settings.LEARNER_LINK_WINDOW.total_seconds() / 60))
        raise TooManyRequests(_("Too many links were asked for. Please try again in %(minutes)d minutes.")
                              % {"minutes": minutes})
    timeout = max(1, math.ceil(settings.LEARNER_LINK_WINDOW.total_seconds()))
    for key in keys:
        cache.add(key, 0, timeout=timeout)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=timeout)


# --- links --------------------------------------------------------------------------------------------
def link_new(purpose: str, email: str, account: LearnerAccount | None) -> str:
    token = secrets.token_urlsafe(32)
    LearnerLink.objects.create(purpose=purpose, token_sha256=token_digest(token), email=email, account=account,
                               expires_at=timezone.now() + timedelta(minutes=settings.LEARNER_LINK_MINUTES))
    return token


def _mail(key: str, email: str, subject: str, lines: Iterable[str]) -> None:
    row = notification_write(key=key, recipients=[email], subject=subject, body="\n".join(lines))
    if row is not None:
        enqueue_on_commit("learners.tasks.send_learner_mail", row.pk)


def _has_badges(email: str) -> bool:
    return Award.objects.filter(recipient_email__iexact=email, credential__isnull=False).exists()


def sign_in_link_request(*, email: Any, address: str, language: str) -> None:
    """Mail a sign-in link to `email` if it has badges here or is a learner's address; nothing
    otherwise. Refuses (and counts) as the throttle says; the caller answers the same either way."""
    email = email_clean(email)
    _throttle(address, email)
    if not (LearnerEmail.objects.filter(email=email).exists() or _has_badges(email)):
        return
    with transaction.atomic():
        token = link_new(LinkPurpose.SIGN_IN, email, None)
        url = settings.SITE_URL + reverse("learners:sign_in_link", args=[token])
        # The learner's chosen language for this address wins over the page's.
        with translation.override(mail_language(email, language)):
            _mail(f"learner-sign-in:{token_digest(token)}", email, _("Your sign-in link"), [
                _("Hello,"), "",
                _("Open this link to sign in to your learner account and see every badge sent to this address. "
                  "It works once, within %(minutes)d minutes:") % {"minutes": settings.LEARNER_LINK_MINUTES},
                url, "",
                _("If you did not ask for it, ignore this mail: nothing happens."),
            ])


def _link_for(token: str, purpose: str) -> LearnerLink:
    link = (LearnerLink.objects.select_for_update(of=("self",)).select_related("account")
            .filter(token_sha256=token_digest(token or ""), purpose=purpose).first() if token else None)
    if link is None:
        raise NotFound(_("This link is not valid."))
    if link.used_at is not None:
        raise WrongState(_("This link has already been used. Ask for a new one."))
    if link.expires_at <= timezone.now():
        raise WrongState(_("This link has expired. Ask for a new one."))
    return link


def link_problem(token: str, purpose: str) -> str | None:
    """Why a link cannot be used, in words; None when it can (nothing is changed)."""
    try:
        with transaction.atomic():
            _link_for(token, purpose)
    except DomainError as error:
        return error.message
    return None


def account_for_email(email: str) -> LearnerAccount:
    """The account holding `email`, created (with the address verified) when there is none."""
    found = LearnerEmail.objects.select_related("account").filter(email=email).first()
    if found is not None:
        return found.account
    account = LearnerAccount.objects.create()
    LearnerEmail.objects.create(account=account, email=email)
    return account


def _signed_in(account: LearnerAccount) -> LearnerAccount:
    account.last_sign_in_at = timezone.now()
    account.save(update_fields=["last_sign_in_at"])
    return account


def sign_in_with_link(token: str) -> LearnerAccount:
    """Use a sign-in link: the account of its address (made now if it is the first time)."""
    with transaction.atomic():
        link = _link_for(token, LinkPurpose.SIGN_IN)
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        return _signed_in(account_for_email(link.email))


def claim_with_link(token: str) -> tuple[Award, LearnerAccount]:
    """Use a badge's claim link (badges.claims): the badge, and the account of its address."""
    with transaction.atomic():
        award = award_claim(token)
        account = _signed_in(account_for_email(award.recipient_email.strip().lower()))
        audit_record(actor=learner_actor(account), action=AuditAction.AWARD_CLAIMED, subject=award,
                     data={"account": str(account.public_id), "award": str(award.public_id)})
        return award, account


# --- addresses ----------------------------------------------------------------------------------------
def address_add_request(*, account: LearnerAccount, email: Any, address: str, language: str) -> None:
    """Mail a link to `email` that adds it to `account` once opened."""
    email = email_clean(email)
    if account.emails.filter(email=email).exists():
        raise InvalidInput(_("This address is already in your account."),
                           field_errors={"email": [_("This address is already in your account.")]})
    if account.emails.count() >= MAX_ADDRESSES:
        raise InvalidInput(_("An account holds at most %(n)d addresses.") % {"n": MAX_ADDRESSES},
                           field_errors={"email": [_("An account holds at most %(n)d addresses.")
                                                   % {"n": MAX_ADDRESSES}]})
    _throttle(address, email)
    with transaction.atomic():
        token = link_new(LinkPurpose.ADD_ADDRESS, email, account)
        url = settings.SITE_URL + reverse("learners:address_confirm", args=[token])
        with translation.override(account_language(account) or language):
            _mail(f"learner-address:{token_digest(token)}", email, _("Confirm your e-mail address"), [
                _("Hello,"), "",
                _("Open this link to add this address to your learner account, so that the badges sent to it "
                  "are gathered there too. It works once, within %(minutes)d minutes:")
                % {"minutes": settings.LEARNER_LINK_MINUTES},
                url, "",
                _("If you did not ask for it, ignore this mail: nothing happens."),
            ])


def address_confirm(token: str) -> LearnerEmail:
    """Use an address link: the address joins the account that asked for it. Refused when the address
    already belongs to another learner account (that account's holder can delete it, or keep it)."""
    with transaction.atomic():
        link = _link_for(token, LinkPurpose.ADD_ADDRESS)
        if link.account is None:
            raise NotFound(_("This link is not valid."))
        other = LearnerEmail.objects.filter(email=link.email).first()
        if other is not None and other.account_id != link.account_id:
            raise WrongState(_("This address already belongs to another learner account. Sign in with it there, "
                               "or delete that account first."))
        link.used_at = timezone.now()
        link.save(update_fields=["used_at"])
        if other is not None:
            return other
        added = LearnerEmail.objects.create(account=link.account, email=link.email)
        chosen = account_language(link.account)
        if chosen:  # the account's choice covers its new address too
            language_choose([added.email], chosen)
        return added


# --- the language of the learner's mails ------------------------------------------------------------
def account_language(account: LearnerAccount) -> str:
    """The language the learner chose for their mails ("" when none: the issuer's or the site's)."""
    emails = list(account.emails.values_list("email", flat=True))
    chosen = chosen_languages(emails)
    return next((chosen[e] for e in emails if e in chosen), "")


def account_language_set(account: LearnerAccount, language: Any) -> str:
    """Choose the language of every mail to the account's addresses (badges.mail_language): award
    notifications, claim links, sign-in links. "" forgets the choice. InvalidInput (by field) for a
    language the site does not have; nothing is changed then."""
    try:
        return language_choose(account.emails.values_list("email", flat=True), language)
    except ValueError as error:
        raise InvalidInput(str(error), field_errors={"language": [str(error)]}) from None


# --- badges -------------------------------------------------------------------------------------------
def account_awards(account: LearnerAccount) -> QuerySet[Award]:
    """Every signed badge issued on this server to one of the account's addresses, newest first."""
    emails = list(account.emails.values_list("email", flat=True))
    if not emails:
        return Award.objects.none()
    match = Q()
    for email in emails:
        match |= Q(recipient_email__iexact=email)
    return (Award.objects.filter(match, credential__isnull=False)
            .select_related("programme", "organisation", "endorsement__application")
            .order_by("-issued_at", "-id"))


def account_award(account: LearnerAccount, public_id: Any) -> Award:
    award = account_awards(account).filter(public_id=public_id).first()
    if award is None:
        raise NotFound(_("No such badge in your account."))
    return award


def award_visibility_set(*, account: LearnerAccount, public_id: Any, hidden: bool) -> Award:
    """Hide a badge's public page (it then answers 404), or show it again. The credential is not
    changed: it still verifies for whoever holds a copy."""
    with transaction.atomic():
        award = account_award(account, public_id)
        was_hidden = award.hidden_at is not None
        award.hidden_at = timezone.now() if hidden else None
        Award.objects.filter(pk=award.pk).update(hidden_at=award.hidden_at)
        if was_hidden != hidden:
            audit_record(actor=learner_actor(account),
                         action=AuditAction.AWARD_HIDDEN if hidden else AuditAction.AWARD_SHOWN, subject=award,
                         from_state="private" if was_hidden else "public", to_state="private" if hidden else "public",
                         data={"account": str(account.public_id), "award": str(award.public_id)})
    return award


def account_archive(account: LearnerAccount) -> bytes:
    """Every badge of the account as a zip: per badge, its credential (JSON) and its baked PNG and SVG."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for award in account_awards(account):
            stem = f"badge-{award.public_id}"
            archive.writestr(f"{stem}.json", json.dumps(award.credential, ensure_ascii=False, indent=2))
            archive.writestr(f"{stem}.png", award_png(award))
            archive.writestr(f"{stem}.svg", award_svg(award))
    return buffer.getvalue()


def account_delete(account: LearnerAccount) -> None:
    """Delete the account, its addresses and links, and every wallet's access to it. The badges stay as
    their issuers made them (a badge's visibility is left as the learner set it: signing in again with
    the address shows it)."""
    with transaction.atomic():
        # Its wallet user first (docs/api.md): with it go every token and grant of its applications.
        get_user_model().objects.filter(wallet_holder__account=account).delete()
        languages_forget(account.emails.values_list("email", flat=True))
        LearnerAccount.objects.filter(pk=account.pk).delete()
