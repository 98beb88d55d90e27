"""System checks for deployment (`manage.py check --deploy`): every DID this server writes is a
did:web derived from SITE_URL, and did:web resolves only over https to a domain name. A SITE_URL on
http, or on an IP address, gives DIDs that no other verifier can resolve, so every credential signed
under it fails elsewhere: that is an error, not a warning."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def site_url_resolvable_as_did_web(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    site = urlsplit(settings.SITE_URL)
    errors: list[Error] = []
    if site.scheme != "https":
        errors.append(Error(
            f"SITE_URL={settings.SITE_URL!r} is not https: did:web DIDs derived from it cannot be resolved by "
            "other verifiers (did:web is resolved over https only).",
            hint="Serve the site over https and set SITE_URL=https://<its domain name>.",
            id="badges.E001",
        ))
    host = (site.hostname or "").strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        errors.append(Error(
            f"SITE_URL={settings.SITE_URL!r} names an IP address: a did:web DID needs a domain name with a "
            "certificate, so credentials signed under it cannot be resolved by other verifiers.",
            hint="Set SITE_URL to the site's domain name (https://endorse.example.org).",
            id="badges.E002",
        ))
    return errors
