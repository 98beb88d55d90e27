"""The claim link mailed with a badge (docs/learners.md, "Claiming"): a random token whose SHA-256
is kept on the award, good once and for CLAIM_LINK_DAYS days. Whoever opens it has shown that they
read the mail to the badge's address; the learners app then offers them a learner account for that
address. The token itself is only in the mail (the outbox row), never stored in the award.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from badges.models import Award
from config.errors import NotFound, WrongState


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def claim_url(token: str) -> str:
    return settings.SITE_URL + reverse("learners:claim", args=[token])


def claim_token_new(award: Award) -> str:
    """A new claim token for `award` (set on the instance; the caller saves it). Returns the token."""
    token = secrets.token_urlsafe(32)
    award.claim_token_sha256 = token_digest(token)
    award.claim_expires_at = timezone.now() + timedelta(days=settings.CLAIM_LINK_DAYS)
    return token


def award_for_claim(token: str) -> Award:
    """The award a claim link names, if the link can still be used; NotFound or WrongState in words."""
    award = (Award.objects.select_related("programme", "organisation")
             .filter(claim_token_sha256=token_digest(token or ""), credential__isnull=False).first()
             if token else None)
    if award is None or not award.recipient_email:
        raise NotFound(_("This claim link is not valid."))
    if award.claimed_at is not None:
        raise WrongState(_("This claim link has already been used. Sign in to your learner account with your "
                           "e-mail address instead."))
    if award.claim_expires_at is None or award.claim_expires_at <= timezone.now():
        raise WrongState(_("This claim link has expired. Sign in to your learner account with your e-mail "
                           "address instead: every badge sent to it is there."))
    return award


def award_claim(token: str) -> Award:
    """Use a claim link: marks the award claimed (the link is then spent) and returns it."""
    with transaction.atomic():
        award = award_for_claim(token)
        locked = Award.objects.select_for_update().get(pk=award.pk)
        if locked.claimed_at is not None:  # another request used it in between
            raise WrongState(_("This claim link has already been used. Sign in to your learner account with your "
                               "e-mail address instead."))
        locked.claimed_at = timezone.now()
        locked.save(update_fields=["claimed_at"])
        award.claimed_at = locked.claimed_at
    return award
