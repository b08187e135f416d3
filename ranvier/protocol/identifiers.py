"""Grammars and size limits of Matrix identifiers (appendices.md "Identifier Grammar").

Checkers raise `InvalidIdentifier` with a message naming the problem; `is_valid_*`
predicates wrap them for callers that only need a yes or no.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from .errors import InvalidIdentifier
from .room_versions import EventFormat, RoomVersion

#: User IDs, room IDs, room aliases and event IDs: at most 255 bytes of UTF-8, sigil
#: and domain included.
MAX_IDENTIFIER_BYTES = 255

_PORT = re.compile(r"[0-9]{1,5}")
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_IPV6_CHARS = re.compile(r"[0-9A-Fa-f:.]{2,45}")
_DNS_NAME = re.compile(r"[0-9A-Za-z.-]{1,255}")
_USER_LOCALPART = re.compile(r"[a-z0-9._=/+-]+")
# 32 bytes of SHA-256 in unpadded base64 is 43 characters.
_STANDARD_HASH = re.compile(r"[A-Za-z0-9+/]{43}")
_URL_SAFE_HASH = re.compile(r"[A-Za-z0-9_-]{43}")


# --- server names -----------------------------------------------------------------


def parse_server_name(server_name: str) -> tuple[str, int | None]:
    """Split `hostname[:port]` into its parts, checking the grammar of each.

    The hostname is a dotted-quad IPv4 literal, an IPv6 literal in brackets, or a DNS
    name; the port, if any, is decimal.
    """
    if server_name.startswith("["):
        end = server_name.find("]")
        if end == -1:
            raise InvalidIdentifier(f"server name {server_name!r}: unclosed '[' of IPv6 literal")
        host, rest = server_name[: end + 1], server_name[end + 1 :]
        _check_ipv6_literal(host[1:-1], server_name)
    else:
        host, colon, port_text = server_name.partition(":")
        rest = colon + port_text
        _check_hostname(host, server_name)
    if not rest:
        return host, None
    if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]):
        raise InvalidIdentifier(f"server name {server_name!r}: port must be 1-5 digits")
    port = int(rest[1:])
    if port > 65535:
        raise InvalidIdentifier(f"server name {server_name!r}: port {port} is above 65535")
    return host, port


def is_valid_server_name(server_name: str) -> bool:
    return _holds(parse_server_name, server_name)


def _check_hostname(host: str, server_name: str) -> None:
    if _IPV4.fullmatch(host):
        if any(int(part) > 255 for part in host.split(".")):
            raise InvalidIdentifier(f"server name {server_name!r}: IPv4 part above 255")
    elif not _DNS_NAME.fullmatch(host):
        raise InvalidIdentifier(
            f"server name {server_name!r}: hostname must be 1-255 of A-Z a-z 0-9 '-' '.'"
        )


def _check_ipv6_literal(address: str, server_name: str) -> None:
    # The grammar's character set first: `ipaddress` would also accept `%zone` suffixes.
    if not _IPV6_CHARS.fullmatch(address):
        raise InvalidIdentifier(f"server name {server_name!r}: malformed IPv6 literal")
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        raise InvalidIdentifier(
            f"server name {server_name!r}: {address!r} is not an IPv6 address"
        ) from None


# --- the common sigil:localpart:domain shape -----------------------------------------


def _split_with_domain(identifier: str, sigil: str, kind: str) -> tuple[str, str]:
    """Check the sigil, the byte limit and the server name of `&localpart:domain`; the
    localpart (which cannot contain ':') is returned unchecked."""
    if not isinstance(identifier, str):
        raise InvalidIdentifier(f"{kind} must be a string, not {type(identifier).__name__}")
    if not identifier.startswith(sigil):
        raise InvalidIdentifier(f"{kind} {identifier!r} must start with {sigil!r}")
    _check_length(identifier, kind)
    localpart, colon, domain = identifier[1:].partition(":")
    if not colon:
        raise InvalidIdentifier(f"{kind} {identifier!r} has no ':domain' part")
    parse_server_name(domain)
    return localpart, domain


def _check_length(identifier: str, kind: str) -> None:
    size = len(identifier.encode("utf-8", "surrogatepass"))
    if size > MAX_IDENTIFIER_BYTES:
        raise InvalidIdentifier(f"{kind} is {size} bytes, over the {MAX_IDENTIFIER_BYTES} limit")


def _check_opaque(localpart: str, identifier: str, kind: str) -> None:
    """The historical, permissive localpart: any non-surrogate code point but NUL (':'
    is excluded by the split)."""
    for char in localpart:
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            raise InvalidIdentifier(
                f"{kind} {identifier!r} contains a forbidden code point U+{ord(char):04X}"
            )


# --- users ----------------------------------------------------------------------------


def parse_user_id(user_id: str, *, allow_historical: bool = True) -> tuple[str, str]:
    """`(localpart, server_name)` of a user ID.

    `allow_historical` (the default, for IDs met in events) accepts the old grammar
    servers MUST still accept (appendices "Historical User IDs"): any non-surrogate
    code point but ':' and NUL, even an empty localpart. Without it, the current
    grammar applies: a non-empty localpart of `a-z 0-9 . _ = - / +`.
    """
    localpart, domain = _split_with_domain(user_id, "@", "user ID")
    if allow_historical:
        _check_opaque(localpart, user_id, "user ID")
    elif not _USER_LOCALPART.fullmatch(localpart):
        raise InvalidIdentifier(
            f"user ID {user_id!r}: localpart must be non-empty and only a-z 0-9 ._=-/+"
        )
    return localpart, domain


def is_valid_user_id(user_id: str, *, allow_historical: bool = False) -> bool:
    """Whether `user_id` is valid; by default under the current, strict grammar (what a
    server may hand out), see `parse_user_id`."""
    return _holds(lambda u: parse_user_id(u, allow_historical=allow_historical), user_id)


# --- rooms ----------------------------------------------------------------------------


def check_room_id(room_id: str, room_version: RoomVersion | None = None) -> None:
    """Check a room ID's grammar: `!opaque:domain`, or from v12 `!` + the URL-safe
    unpadded base64 of the create event's reference hash. Without a room version,
    either form is accepted (e.g. in an API path, before the room is known)."""
    if not isinstance(room_id, str):
        raise InvalidIdentifier(f"room ID must be a string, not {type(room_id).__name__}")
    hashed = room_version.room_id_from_create_event if room_version else ":" not in room_id
    if hashed:
        if not (room_id.startswith("!") and _URL_SAFE_HASH.fullmatch(room_id[1:])):
            raise InvalidIdentifier(
                f"room ID {room_id!r} must be '!' and 43 URL-safe base64 characters"
            )
        return
    localpart, _ = _split_with_domain(room_id, "!", "room ID")
    _check_opaque(localpart, room_id, "room ID")


def is_valid_room_id(room_id: str, room_version: RoomVersion | None = None) -> bool:
    return _holds(lambda r: check_room_id(r, room_version), room_id)


def check_room_alias(alias: str) -> None:
    """`#localpart:domain`, the localpart any non-surrogate code point but ':' and NUL."""
    localpart, _ = _split_with_domain(alias, "#", "room alias")
    _check_opaque(localpart, alias, "room alias")


def is_valid_room_alias(alias: str) -> bool:
    return _holds(check_room_alias, alias)


# --- events ---------------------------------------------------------------------------


def check_event_id(event_id: str, room_version: RoomVersion) -> None:
    """Check an event ID against its room version's format: `$opaque:domain` (v1, v2),
    `$` + 43 standard base64 characters (v3), or URL-safe base64 (v4+)."""
    if not isinstance(event_id, str):
        raise InvalidIdentifier(f"event ID must be a string, not {type(event_id).__name__}")
    event_format = room_version.event_format
    if event_format is EventFormat.V1:
        localpart, _ = _split_with_domain(event_id, "$", "event ID")
        _check_opaque(localpart, event_id, "event ID")
        return
    pattern, alphabet = (
        (_STANDARD_HASH, "standard")
        if event_format is EventFormat.V2
        else (_URL_SAFE_HASH, "URL-safe")
    )
    if not (event_id.startswith("$") and pattern.fullmatch(event_id[1:])):
        raise InvalidIdentifier(
            f"event ID {event_id!r} must be '$' and 43 {alphabet} base64 characters "
            f"in room version {room_version.identifier}"
        )


def is_valid_event_id(event_id: str, room_version: RoomVersion) -> bool:
    return _holds(lambda e: check_event_id(e, room_version), event_id)


# --- any identifier ---------------------------------------------------------------------

_KINDS = {"@": "user ID", "!": "room ID", "$": "event ID", "#": "room alias"}


def server_name_of(identifier: str) -> str:
    """The server name after the first ':' of a user ID, room alias, or a room or event
    ID of the formats that carry one. Raises for IDs without a domain (v12 room IDs,
    hash-based event IDs)."""
    kind = _KINDS.get(identifier[:1])
    if kind is None:
        raise InvalidIdentifier(f"{identifier!r} does not start with a sigil (@ ! $ #)")
    return _split_with_domain(identifier, identifier[0], kind)[1]


def _holds(check: Callable[[str], object], value: str) -> bool:
    try:
        check(value)
    except InvalidIdentifier:
        return False
    return True
