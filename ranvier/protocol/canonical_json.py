"""Canonical JSON (appendices.md "Canonical JSON"): the byte encoding every hash and
signature in Matrix is computed over, the strict number rules of room versions 6+, and
a JSON parser for untrusted input."""

from __future__ import annotations

import json
from typing import Any

import canonicaljson
import orjson

from .errors import InvalidJson

#: Numbers must lie in [-(2**53)+1, (2**53)-1] so that every JSON library, including
#: those holding numbers as IEEE doubles, reads them back exactly.
MAX_SAFE_INTEGER = 2**53 - 1
MIN_SAFE_INTEGER = -MAX_SAFE_INTEGER


def encode_canonical_json(obj: Any, *, float_free: bool = False) -> bytes:
    """The canonical UTF-8 encoding of `obj`: no insignificant whitespace, keys sorted by
    code point, non-ASCII written as UTF-8 rather than escaped.

    Values of strings, integers that fit in 64 bits, booleans and nulls (every event of
    room versions 6+, and nearly all others) are encoded by orjson, whose output for
    them is byte for byte the canonical form and 25 times faster to make (a property
    test holds the two encoders equal). Anything else (floats, which room versions 1-5
    tolerate, larger integers, non-string keys) goes to matrix-org's `canonicaljson`, so
    that our bytes, and so our hashes and signatures, are the ones other servers
    compute. NaN and infinities raise `InvalidJson`.

    `float_free` says the caller knows `obj` holds no float (it passed
    `check_strict_json`), which spares the walk that looks for one.
    """
    if float_free or not _has_float(obj):
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # beyond 64-bit integers, non-string keys, lone surrogates
            pass
    try:
        return canonicaljson.encode_canonical_json(obj)
    except ValueError as e:  # allow_nan=False: NaN, Infinity, -Infinity
        raise InvalidJson(f"value cannot be encoded as canonical JSON: {e}") from None


def _has_float(obj: Any) -> bool:
    stack = [obj]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, float):
            return True
    return False


def check_strict_json(obj: Any) -> None:
    """Raise `InvalidJson` if `obj` holds a float or an integer outside the safe range
    anywhere in its structure (the rule room versions 6+ enforce, rooms/v6.md)."""
    if not _plainly_strict(obj):
        _raise_strict_violation(obj)


def _plainly_strict(obj: Any) -> bool:
    """True when `obj` is made only of the exact JSON types with safe integers. Every
    event built or received takes this walk, so it carries no paths; False sends the
    value to `_raise_strict_violation`, which finds and names the fault (or accepts a
    value made with subclasses of the JSON types)."""
    stack = [obj]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is str or kind is bool or value is None:
            continue
        if kind is dict:
            stack.extend(value.values())
        elif kind is list or kind is tuple:
            stack.extend(value)
        elif kind is not int or not MIN_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return False
    return True


def _raise_strict_violation(obj: Any) -> None:
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        if isinstance(value, int):
            if not MIN_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                raise InvalidJson(f"{_where(path)}integer {value} is outside ±(2^53-1)")
        elif isinstance(value, float):
            raise InvalidJson(f"{_where(path)}float {value!r} is not allowed")
        elif isinstance(value, dict):
            stack.extend((f"{path}.{key}" if path else key, v) for key, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
        else:
            raise InvalidJson(f"{_where(path)}{type(value).__name__} is not a JSON value")


def parse_json(data: bytes) -> Any:
    """Parse untrusted JSON bytes, raising `InvalidJson` for anything that is not
    well-formed UTF-8 JSON: NaN/Infinity literals, lone surrogates, and objects that
    repeat a key.

    Duplicate keys are refused because parsers disagree on which value wins, and a
    signature over such a document would mean different things to different servers.
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise InvalidJson(f"invalid JSON: {e}") from None
    if isinstance(value, dict | list):
        # orjson keeps the last of repeated keys silently; the stdlib parser lets us
        # look at every key of every object. The input is known-good UTF-8 by now.
        json.loads(data, object_pairs_hook=_refuse_duplicate_keys)
    return value


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        keys = [key for key, _ in pairs]
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise InvalidJson(f"invalid JSON: key {duplicate!r} appears twice in an object")
    return result


def _where(path: str) -> str:
    return f"{path}: " if path else ""
