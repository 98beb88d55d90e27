"""Why a connection failed, in words for people: what `badges.fetch` says in place of the
operating system's text (`[Errno -2] Name or service not known`), which means nothing to an employer
reading a verification report or to the staff told that an evidence link is gone."""

from __future__ import annotations

import errno
import http.client
import socket
import ssl

from django.utils.translation import gettext as _

_LOOKUP_MISSING = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)}
_LOOKUP_LATER = {getattr(socket, name) for name in ("EAI_AGAIN",) if hasattr(socket, name)}


def reason_in_words(reason: object) -> str:
    """A short clause ("no server of that name exists") for an exception or reason of a failed fetch."""
    if isinstance(reason, socket.gaierror):
        if reason.errno in _LOOKUP_MISSING:
            return _("no server of that name exists")
        if reason.errno in _LOOKUP_LATER:
            return _("the name could not be looked up just now; it may work later")
        return _("the name could not be looked up")
    if isinstance(reason, UnicodeError):
        return _("the host name is not a valid domain name")
    if isinstance(reason, ssl.SSLCertVerificationError):
        return _("its security certificate could not be verified")
    if isinstance(reason, ssl.SSLError):
        return _("a secure (TLS) connection could not be made")
    if isinstance(reason, TimeoutError):
        return _("it did not answer in time")
    if isinstance(reason, ConnectionRefusedError):
        return _("the server refused the connection")
    if isinstance(reason, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return _("the server broke off the connection")
    if isinstance(reason, http.client.HTTPException):
        return _("the server did not answer in HTTP")
    if isinstance(reason, OSError) and reason.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return _("no network route leads to it")
    if isinstance(reason, str) and reason and "errno" not in reason.lower():
        return reason
    return _("the connection failed")
