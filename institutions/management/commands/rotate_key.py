"""manage.py rotate_key ORG [--compromised [--key FRAGMENT] --reason TEXT]: retire an issuer's signing
key and create the next one; with --compromised, also take the key out of the DID document and
re-sign everything it signed (badges.rekey, docs/operations.md "A compromised key")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from badges.rekey import key_compromised
from config.errors import DomainError
from institutions.keys import issuer_key_rotate, organisation_did
from institutions.models import Organisation


class Command(BaseCommand):
    help = "Rotate the signing key of an organisation (slug), or of the body with 'body'. The retired key " \
           "stays in the DID document, so credentials it signed keep verifying. With --compromised the key " \
           "leaves the DID document at once and everything it signed is signed again with the next key."

    def add_arguments(self, parser) -> None:
        parser.add_argument("organisation", help="organisation slug, or 'body' for the certification body")
        parser.add_argument("--compromised", action="store_true",
                            help="the key leaked: remove it from the DID document and re-sign what it signed")
        parser.add_argument("--key", dest="fragment", default=None,
                            help="with --compromised: the key's fragment (key-1, …) if not the active key")
        parser.add_argument("--reason", default="", help="with --compromised: what happened, for the audit trail")

    def handle(self, *args, organisation: str, compromised: bool, fragment: str | None, reason: str,
               **options) -> None:
        from endorsement.audit import AuditAction, audit_record

        if fragment and not compromised:
            raise CommandError("--key names a compromised key: use it with --compromised.")
        if organisation == "body":
            org = Organisation.objects.filter(is_certification_body=True).first()
        else:
            org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with slug {organisation!r}.")
        if compromised:
            try:
                report = key_compromised(actor=None, organisation=org, fragment=fragment, reason=reason)
            except DomainError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"{report.compromised} is no longer in the DID document of {org.name}; {report.active} signs now.\n"
                f"Signed again: {report.awards} badge(s), {report.endorsements} endorsement(s), "
                f"{report.status_lists} status list(s)."
            )
            return
        with transaction.atomic():
            key = issuer_key_rotate(org)
            audit_record(actor=None, action=AuditAction.KEY_ROTATED, subject=org,
                         data={"now_signing": f"{organisation_did(org)}#{key.fragment}"})
        self.stdout.write(f"{organisation_did(org)}#{key.fragment} is now the signing key of {org.name}.")
