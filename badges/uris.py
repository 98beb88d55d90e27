"""Evidence links as URIs, checked and normalised before they are signed into a badge.

A link the JSON-LD processors of other verifiers read differently from ours breaks the signature
there: `https://e.example.org/%zz` was signed here, and Oxigraph drops the node, so the badge no
longer verifies on that stack. `evidence_uri` therefore turns what an issuer typed into one RFC 3986
URI that every processor reads alike, or refuses it with a message saying what to change:

* the scheme must be http or https, in any case (`HTTPS://` becomes `https://`);
* the host is mapped and encoded with IDNA 2008 and UTS #46 (the `idna` library): a full-width host
  (`ｅｘａｍｐｌｅ．ｏｒｇ`) becomes `example.org`, an internationalised one its `xn--` form; a
  host that is no domain name or IP address is refused, and so is a bad port; the default port is
  dropped and an empty path becomes `/`;
* a user name or password (`user:password@`) is refused: the badge is public, so it would be
  published to everyone who sees it;
* `%` must begin an escape of two hexadecimal digits (`%zz` is refused: write `%25` for a `%`);
  escapes are written in upper case;
* characters a URI cannot hold (spaces, `" < > ^ ` { | }`, `[ ]` outside an IPv6 host, and any
  non-ASCII letter) are percent-encoded as UTF-8, as a browser does when it follows the link;
* a backslash is refused: browsers read it as `/`, other software as itself, so the link would not
  mean one thing.

Only the syntax is checked here; which hosts may be fetched (public addresses only) is
`badges.fetch`'s concern, when the link is fetched. The award and batch validation
(`badges.awards.recipient_clean`) call this for every evidence URL.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit, urlunsplit

import idna
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

MAX_URI = 1000
DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# What may stay as it is in a path, query or fragment: unreserved, sub-delims, ":", "@", "/", "?" and
# the "%" of an escape already checked.
_SAFE = "-._~!$&'()*+,;=:@/?%"
_http_url = URLValidator(schemes=["http", "https"])


class UriError(ValueError):
    """The link cannot be made a URI; `message` says what to change."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _host(hostname: str) -> str:
    if hostname.startswith("[") or ":" in hostname:
        try:
            return f"[{ipaddress.IPv6Address(hostname.strip('[]')).compressed}]"
        except ValueError:
            raise UriError(_("The address in brackets is not an IPv6 address.")) from None
    try:
        return idna.encode(hostname, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise UriError(_("“%(host)s” is not a valid host name.") % {"host": hostname[:100]}) from None


def _component(text: str) -> str:
    found = _BAD_ESCAPE.search(text)
    if found:
        bad = text[found.start():found.start() + 3]
        raise UriError(_("“%(bad)s” is not a percent-escape: a %% must be followed by two hexadecimal digits "
                         "(write %%25 for a %% sign).") % {"bad": bad})
    encoded = quote(text, safe=_SAFE, encoding="utf-8", errors="strict")
    return _ESCAPE.sub(lambda m: m.group(0).upper(), encoded)


def evidence_uri(value: str) -> str:
    """`value` as a normalised absolute http(s) URI; `UriError` with a message if it cannot be one."""
    text = value.strip()
    if _CONTROL.search(text):
        raise UriError(_("Remove the control characters (or line breaks) from the link."))
    if "\\" in text:
        raise UriError(_("A link cannot hold a backslash (\\): browsers read it as /, so write / instead."))
    scheme_match = _SCHEME.match(text)
    if not scheme_match or scheme_match.group(1).lower() not in DEFAULT_PORTS:
        raise UriError(_("Enter an absolute link that starts with http:// or https://."))
    scheme = scheme_match.group(1).lower()
    rest = text[scheme_match.end():]
    if not rest.startswith("//"):
        raise UriError(_("Enter an absolute link that starts with http:// or https://."))
    try:
        parts = urlsplit(scheme + ":" + rest)
        port = parts.port
    except ValueError:
        raise UriError(_("The host or port of this link is not valid.")) from None
    if "@" in parts.netloc:
        raise UriError(_("Remove the user name or password (the part before @): the badge is public, so everyone "
                         "who sees it would read them."))
    hostname = parts.netloc.rsplit(":", 1)[0] if port is not None or parts.netloc.endswith(":") else parts.netloc
    if not hostname:
        raise UriError(_("The link names no host."))
    host = _host(hostname)
    netloc = host if port is None or port == DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _component(parts.path) or "/"
    query = _component(parts.query)
    fragment = _component(parts.fragment)
    uri = urlunsplit((scheme, netloc, path, query, fragment))
    if len(uri) > MAX_URI:
        raise UriError(_("At most %(max)d characters (as a URI, with its escapes).") % {"max": MAX_URI})
    try:
        _http_url(uri)
    except ValidationError:
        raise UriError(_("Enter an absolute http:// or https:// link.")) from None
    return uri
