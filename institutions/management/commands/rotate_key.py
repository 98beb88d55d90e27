"""manage.py rotate_key ORG: retire an issuer's signing key and create the next one."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from institutions.keys import issuer_key_rotate, organisation_did
from institutions.models import Organisation


class Command(BaseCommand):
    help = "Rotate the signing key of an organisation (slug), or of the body with 'body'. The retired key " \
           "stays in the DID document, so credentials it signed keep verifying."

    def add_arguments(self, parser) -> None:
        parser.add_argument("organisation", help="organisation slug, or 'body' for the certification body")

    def handle(self, *args, organisation: str, **options) -> None:
        if organisation == "body":
            org = Organisation.objects.filter(is_certification_body=True).first()
        else:
            org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with slug {organisation!r}.")
        key = issuer_key_rotate(org)
        self.stdout.write(f"{organisation_did(org)}#{key.fragment} is now the signing key of {org.name}.")
