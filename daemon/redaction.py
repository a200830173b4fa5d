"""Keeping secrets out of what we print and log: API keys (keeping their non-secret prefix), JWTs, bearer values,
fields named like credentials, and database passwords in URLs.

A leaf module: logging configuration (daemon/logs.py) uses it, and so do auth and the CLI; it imports none of
them, so `logs -> redaction` never loops back through auth and apikeys."""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_SECRET_FIELDS = frozenset({"authorization", "x-api-key", "api_key", "apikey", "token", "access_token",
                            "refresh_token", "password", "secret", "jwt", "service_role_key", "jwt_secret"})
_SECRET_TEXT = re.compile(
    r"(?P<key>bsk_[0-9a-f]{12})_[A-Za-z0-9_-]+"                          # an API key: keep its prefix
    r"|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"          # a JWT
    r"|(?P<scheme>bearer\s+)[^\s,;\"']+",                                  # any bearer credential
    re.IGNORECASE,
)


def _mask(match: re.Match[str]) -> str:
    if match["key"]:
        return f"{match['key']}_[redacted]"
    if match["scheme"]:
        return f"{match['scheme']}[redacted]"
    return "[redacted jwt]"


def redact_text(text: str) -> str:
    """text with every API key, JWT and bearer value masked."""
    return _SECRET_TEXT.sub(_mask, text)


def redact_secrets(logger: Any, method_name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: blanks fields named like credentials and masks API keys, JWTs and bearer values in
    every string value (exception text included when placed after format_exc_info)."""
    for name, value in list(event_dict.items()):
        if name.lower() in _SECRET_FIELDS and value is not None:
            event_dict[name] = "[redacted]"
        elif isinstance(value, str):
            event_dict[name] = redact_text(value)
    return event_dict


def redact_url(url: str) -> str:
    """A connection URL without its password, for printing."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
