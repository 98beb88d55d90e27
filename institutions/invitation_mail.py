"""The e-mail that carries an invitation's link, in English and Japanese (we do not know the invited
person's language yet). Sent once: a `Notification` row keyed by the invitation, in the same
transaction as the send, so the task may run twice and the mail goes out once."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from institutions.models import InvitationState, Role, StaffInvitation
from institutions.staff import invitation_url, token_digest


def _text(invitation: StaffInvitation, link: str, language: str) -> tuple[str, str]:
    with translation.override(language):
        organisation = invitation.organisation
        name = organisation.name_ja if language == "ja" and organisation.name_ja else organisation.name
        words = {
            "organisation": name, "role": str(Role(invitation.role).label), "link": link,
            "expires": date_format(invitation.expires_at, "DATETIME_FORMAT"),
        }
        subject = _("Invitation to join the staff of %(organisation)s") % words
        body = "\n\n".join([
            _("You are invited to join the staff of %(organisation)s as %(role)s.") % words,
            _("Open this link to accept and choose your username and password (it works once, until "
              "%(expires)s UTC):") % words + "\n" + link,
            _("Accepting creates a new login for %(organisation)s: each login belongs to one "
              "organisation, so keep any login you have for another one.") % words,
            _("If you did not expect this invitation, ignore this e-mail.") % words,
        ])
    return subject, body


def invitation_mail_send(invitation_id: int, token: str) -> bool:
    """Mail the invitation's link. True if sent now; False if the invitation is no longer pending,
    the token is not its own, or the mail was sent before."""
    from endorsement.models import Notification

    invitation = StaffInvitation.objects.select_related("organisation").filter(pk=invitation_id).first()
    if invitation is None or invitation.state != InvitationState.PENDING:
        return False
    if token_digest(token) != invitation.token_sha256:
        return False
    link = invitation_url(token)
    subject_en, body_en = _text(invitation, link, "en")
    subject_ja, body_ja = _text(invitation, link, "ja")
    subject = f"{subject_ja} / {subject_en}"
    body = f"{body_ja}\n\n----\n\n{body_en}\n"
    try:
        with transaction.atomic():
            Notification.objects.create(key=f"invitation:{invitation.public_id}", recipients=[invitation.email],
                                        subject=subject[:300])
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    except IntegrityError:
        return False
    return True
