from __future__ import annotations

import pytest

from ranvier.protocol.errors import InvalidIdentifier
from ranvier.protocol.identifiers import (
    check_event_id,
    check_room_alias,
    check_room_id,
    is_valid_event_id,
    is_valid_room_alias,
    is_valid_room_id,
    is_valid_server_name,
    is_valid_user_id,
    parse_server_name,
    parse_user_id,
    server_name_of,
)
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS

V1, V3, V4, V11, V12 = (KNOWN_ROOM_VERSIONS[v] for v in ("1", "3", "4", "11", "12"))
HASH_URLSAFE = "Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"  # fragments/v4-event-ids.md
HASH_STANDARD = "acR1l0raoZnm60CBwAVgqbZqoO/mYU81xysh1u7XcJk"

# --- server names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "parsed"),
    [  # appendices.md "Server Name" examples, and edges of the grammar
        ("matrix.org", ("matrix.org", None)),
        ("matrix.org:8888", ("matrix.org", 8888)),
        ("1.2.3.4", ("1.2.3.4", None)),
        ("1.2.3.4:1234", ("1.2.3.4", 1234)),
        ("[1234:5678::abcd]", ("[1234:5678::abcd]", None)),
        ("[1234:5678::abcd]:5678", ("[1234:5678::abcd]", 5678)),
        ("[::ffff:1.2.3.4]", ("[::ffff:1.2.3.4]", None)),
        ("localhost", ("localhost", None)),
        ("MATRIX.ORG:65535", ("MATRIX.ORG", 65535)),
        ("a" * 255, ("a" * 255, None)),
    ],
)
def test_valid_server_names_parse(name: str, parsed: tuple[str, int | None]) -> None:
    assert parse_server_name(name) == parsed
    assert is_valid_server_name(name)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "hostname must be"),
        ("exa mple.org", "hostname must be"),
        ("example.org:", "port must be 1-5 digits"),
        ("example.org:123456", "port must be 1-5 digits"),
        ("example.org:80a", "port must be 1-5 digits"),
        ("example.org:70000", "port 70000 is above 65535"),
        ("256.1.1.1", "IPv4 part above 255"),
        ("[1234:5678::abcd", "unclosed"),
        ("[1234::abcd]x", "port must be"),
        ("[fe80::1%eth0]", "malformed IPv6"),
        ("[12345::]", "is not an IPv6 address"),
        ("[g::1]", "malformed IPv6"),
        ("1234:5678::abcd", "port must be"),
        ("a" * 256, "hostname must be"),
        ("ex_ample.org", "hostname must be"),
    ],
)
def test_invalid_server_names_are_refused(name: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifier, match=problem):
        parse_server_name(name)
    assert not is_valid_server_name(name)


# --- user IDs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "user_id",
    [
        "@alice:example.org",
        "@a.b_c=d-e/f+g:example.org:8448",
        "@0:1.2.3.4",
        "@x:[::1]:8008",
        "@" + "a" * 242 + ":example.org",  # exactly 255 bytes
    ],
)
def test_current_grammar_user_ids_are_valid(user_id: str) -> None:
    assert is_valid_user_id(user_id)
    assert is_valid_user_id(user_id, allow_historical=True)


@pytest.mark.parametrize(
    "user_id",
    ["@Alice:example.org", "@al ice:example.org", "@:example.org", "@ünï:example.org", "@*:x"],
)
def test_historical_user_ids_are_only_accepted_when_allowed(user_id: str) -> None:
    assert not is_valid_user_id(user_id)
    assert is_valid_user_id(user_id, allow_historical=True)
    with pytest.raises(InvalidIdentifier, match="localpart must be non-empty"):
        parse_user_id(user_id, allow_historical=False)


@pytest.mark.parametrize(
    ("user_id", "problem"),
    [
        ("alice:example.org", "must start with '@'"),
        ("@alice", "no ':domain' part"),
        ("@alice:", "hostname must be"),
        ("@al\x00ice:example.org", "forbidden code point U\\+0000"),
        ("@al\ud800ice:example.org", "forbidden code point U\\+D800"),
        ("@" + "a" * 243 + ":example.org", "256 bytes, over the 255 limit"),
        ("@a" + "é" * 121 + ":example.org", "256 bytes"),
    ],
)
def test_malformed_user_ids_are_refused_even_historically(user_id: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifier, match=problem):
        parse_user_id(user_id)
    assert not is_valid_user_id(user_id, allow_historical=True)


def test_parse_user_id_splits_at_the_first_colon() -> None:
    assert parse_user_id("@alice:example.org:8448") == ("alice", "example.org:8448")
    assert parse_user_id("@:example.org") == ("", "example.org")


def test_non_string_identifier_is_refused() -> None:
    with pytest.raises(InvalidIdentifier, match="user ID must be a string, not int"):
        parse_user_id(12)  # type: ignore[arg-type]


# --- room IDs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("room_id", "version", "valid"),
    [
        ("!abc:example.org", V1, True),
        ("!abc:example.org", V11, True),
        ("!abc:example.org", None, True),
        ("!ä ö:example.org", V11, True),
        ("!:example.org", V11, True),
        ("!abc", V11, False),
        ("!a\x00c:example.org", V11, False),
        ("#abc:example.org", V11, False),
        ("!" + HASH_URLSAFE, V12, True),
        ("!" + HASH_URLSAFE, None, True),
        ("!abc:example.org", V12, False),
        ("!" + HASH_STANDARD, V12, False),
        ("!" + HASH_URLSAFE[:-1], V12, False),
        ("!" + HASH_URLSAFE, V11, False),
        (42, None, False),
    ],
)
def test_room_id_grammar_depends_on_the_room_version(room_id, version, valid) -> None:
    assert is_valid_room_id(room_id, version) is valid


def test_bad_room_ids_name_the_problem() -> None:
    with pytest.raises(InvalidIdentifier, match="43 URL-safe base64"):
        check_room_id("!abc:example.org", V12)
    with pytest.raises(InvalidIdentifier, match="room ID must be a string"):
        check_room_id(None)  # type: ignore[arg-type]


# --- aliases and event IDs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "valid"),
    [
        ("#room:example.org", True),
        ("#Räum mit Leerzeichen:example.org:8448", True),
        ("#room", False),
        ("room:example.org", False),
        ("#ro\x00om:example.org", False),
        ("#" + "a" * 243 + ":example.org", False),
    ],
)
def test_room_alias_grammar(alias: str, valid: bool) -> None:
    assert is_valid_room_alias(alias) is valid


def test_bad_alias_names_the_problem() -> None:
    with pytest.raises(InvalidIdentifier, match=r"room alias .* must start with '#'"):
        check_room_alias("!room:example.org")


@pytest.mark.parametrize(
    ("event_id", "version", "valid"),
    [
        ("$abc:example.org", V1, True),
        ("$abc", V1, False),
        ("$" + HASH_STANDARD, V3, True),
        ("$" + HASH_URLSAFE, V3, False),
        ("$" + HASH_URLSAFE, V4, True),
        ("$" + HASH_STANDARD, V4, False),
        ("$" + HASH_URLSAFE, V12, True),
        ("$" + HASH_URLSAFE + "A", V12, False),
        ("$abc:example.org", V4, False),
        ("!" + HASH_URLSAFE, V4, False),
        (None, V4, False),
    ],
)
def test_event_id_format_depends_on_the_room_version(event_id, version, valid) -> None:
    assert is_valid_event_id(event_id, version) is valid


def test_bad_event_id_names_the_format() -> None:
    with pytest.raises(InvalidIdentifier, match="43 standard base64 characters in room version 3"):
        check_event_id("$" + HASH_URLSAFE, V3)


# --- server_name_of ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "server"),
    [
        ("@alice:example.org", "example.org"),
        ("!room:example.org:8448", "example.org:8448"),
        ("$ev:[::1]", "[::1]"),
        ("#alias:1.2.3.4", "1.2.3.4"),
    ],
)
def test_server_name_of_returns_the_domain(identifier: str, server: str) -> None:
    assert server_name_of(identifier) == server


@pytest.mark.parametrize(
    ("identifier", "problem"),
    [
        ("!" + HASH_URLSAFE, "no ':domain' part"),
        ("$" + HASH_URLSAFE, "no ':domain' part"),
        ("alice:example.org", "does not start with a sigil"),
        ("", "does not start with a sigil"),
        ("@alice:bad host", "hostname must be"),
    ],
)
def test_server_name_of_refuses_ids_without_a_valid_domain(identifier: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifier, match=problem):
        server_name_of(identifier)
