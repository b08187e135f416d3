"""Opaque pagination tokens: a small JSON object, unpadded URL-safe base64. The reader
checks every field it takes out; a token that does not decode is simply invalid."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson


def encode_token(fields: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(fields)).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    """The token's fields, or None when it is not one of ours."""
    try:
        value = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        return None
    return value if isinstance(value, dict) else None
