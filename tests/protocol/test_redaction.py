from __future__ import annotations

import copy
from typing import Any

import pytest

from ranvier.protocol.redaction import redact
from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS

ALL_VERSIONS = [str(n) for n in range(1, 13)]


def _event(event_type: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "room_id": "!r:example.org",
        "sender": "@a:example.org",
        "content": content,
        "depth": 4,
        "origin_server_ts": 1,
        "prev_events": [],
        "auth_events": [],
        "hashes": {"sha256": "h"},
        "signatures": {"example.org": {"ed25519:1": "s"}},
        **extra,
    }


def _redacted_content(version: str, event_type: str, content: Any) -> Any:
    return redact(_event(event_type, content), KNOWN_ROOM_VERSIONS[version])["content"]


COMMON_TOP_LEVEL = {
    "event_id": "$e:example.org",
    "state_key": "",
}
LEGACY_TOP_LEVEL = {"origin": "example.org", "membership": "join", "prev_state": []}
NEVER_KEPT = {"unsigned": {"age": 1}, "redacts": "$x:example.org", "custom": 1}


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_top_level_keys_kept_per_version(version: str) -> None:
    event = _event(
        "m.room.message", {"body": "hi"}, **COMMON_TOP_LEVEL, **LEGACY_TOP_LEVEL, **NEVER_KEPT
    )
    redacted = redact(event, KNOWN_ROOM_VERSIONS[version])
    expected = set(_event("x", {})) | set(COMMON_TOP_LEVEL)
    if int(version) < 11:  # MSC2176 dropped origin, membership, prev_state in v11
        expected |= set(LEGACY_TOP_LEVEL)
    assert set(redacted) == expected
    assert redacted["content"] == {}


MEMBER = {
    "membership": "join",
    "displayname": "Alice",
    "join_authorised_via_users_server": "@b:example.org",
    "third_party_invite": {"display_name": "c", "signed": {"mxid": "@c:x", "token": "t"}},
}


@pytest.mark.parametrize(
    ("versions", "kept"),
    [
        (["1", "2", "3", "4", "5", "6", "7", "8"], {"membership"}),
        (["9", "10"], {"membership", "join_authorised_via_users_server"}),
        (["11", "12"], {"membership", "join_authorised_via_users_server", "third_party_invite"}),
    ],
)
def test_member_content_kept_per_version(versions: list[str], kept: set[str]) -> None:
    for version in versions:
        redacted = _redacted_content(version, "m.room.member", MEMBER)
        assert set(redacted) == kept, version


def test_v11_keeps_only_the_signed_part_of_a_third_party_invite() -> None:
    redacted = _redacted_content("11", "m.room.member", MEMBER)
    assert redacted["third_party_invite"] == {"signed": {"mxid": "@c:x", "token": "t"}}


@pytest.mark.parametrize("invite", [{"display_name": "c"}, "not an object", None])
def test_v11_drops_a_third_party_invite_without_signed(invite: Any) -> None:
    content = {"membership": "invite", "third_party_invite": invite}
    assert _redacted_content("11", "m.room.member", content) == {"membership": "invite"}


CREATE = {
    "creator": "@a:example.org",
    "room_version": "9",
    "m.federate": False,
    "additional_creators": ["@b:example.org"],
}


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_create_keeps_creator_before_v11_and_everything_after(version: str) -> None:
    expected = CREATE if int(version) >= 11 else {"creator": "@a:example.org"}
    assert _redacted_content(version, "m.room.create", CREATE) == expected


JOIN_RULES = {"join_rule": "restricted", "allow": [{"type": "m.room_membership"}], "x": 1}


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_join_rules_keep_allow_from_v8(version: str) -> None:
    expected = {"join_rule": "restricted"}
    if int(version) >= 8:
        expected["allow"] = JOIN_RULES["allow"]
    assert _redacted_content(version, "m.room.join_rules", JOIN_RULES) == expected


POWER_LEVELS = {
    "ban": 50,
    "events": {"m.room.name": 50},
    "events_default": 0,
    "invite": 0,
    "kick": 50,
    "redact": 50,
    "state_default": 50,
    "users": {"@a:example.org": 100},
    "users_default": 0,
    "notifications": {"room": 50},
}


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_power_levels_keep_invite_from_v11_and_never_notifications(version: str) -> None:
    redacted = _redacted_content(version, "m.room.power_levels", POWER_LEVELS)
    expected = set(POWER_LEVELS) - {"notifications"}
    if int(version) < 11:
        expected -= {"invite"}
    assert set(redacted) == expected


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_aliases_are_protected_only_before_v6(version: str) -> None:
    content = {"aliases": ["#a:example.org"]}
    expected = content if int(version) <= 5 else {}
    assert _redacted_content(version, "m.room.aliases", content) == expected


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_history_visibility_is_always_protected(version: str) -> None:
    content = {"history_visibility": "joined", "other": True}
    expected = {"history_visibility": "joined"}
    assert _redacted_content(version, "m.room.history_visibility", content) == expected


@pytest.mark.parametrize("version", ALL_VERSIONS)
def test_redaction_keeps_content_redacts_from_v11(version: str) -> None:
    content = {"redacts": "$target", "reason": "spam"}
    expected = {"redacts": "$target"} if int(version) >= 11 else {}
    assert _redacted_content(version, "m.room.redaction", content) == expected


@pytest.mark.parametrize("content", [None, [1], "text"])
def test_content_that_is_not_an_object_becomes_empty(content: Any) -> None:
    assert _redacted_content("12", "m.room.member", content) == {}


def test_missing_content_becomes_empty() -> None:
    event = _event("m.room.message", {})
    del event["content"]
    assert redact(event, KNOWN_ROOM_VERSIONS["1"])["content"] == {}


def test_redaction_leaves_the_input_unchanged() -> None:
    event = _event("m.room.member", MEMBER, unsigned={"age": 1})
    before = copy.deepcopy(event)
    redact(event, KNOWN_ROOM_VERSIONS["11"])
    assert event == before


def test_redacting_twice_changes_nothing_more() -> None:
    for version in ALL_VERSIONS:
        room_version = KNOWN_ROOM_VERSIONS[version]
        once = redact(_event("m.room.member", MEMBER, origin="x"), room_version)
        assert redact(once, room_version) == once
