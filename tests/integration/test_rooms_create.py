"""POST /createRoom: presets, room versions, the order and content of the initial
events, and bad requests that must change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.protocol.room_versions import KNOWN_ROOM_VERSIONS
from ranvier.server import HomeServer

from .room_helpers import call, create_room, ok, q, room_state


async def _room_count(server: HomeServer) -> int:
    return await server.db.fetchval("SELECT COUNT(*) FROM rooms")


async def _event_count(server: HomeServer) -> int:
    return await server.db.fetchval("SELECT COUNT(*) FROM events")


@pytest.mark.parametrize(
    ("preset", "join_rule", "guest_access", "invite_level"),
    [
        ("private_chat", "invite", "can_join", 0),
        ("trusted_private_chat", "invite", "can_join", 0),
        ("public_chat", "public", "forbidden", 50),
    ],
)
async def test_each_preset_sets_its_join_rules_history_and_guest_access(
    client: Any, server: HomeServer, alice, bob, preset, join_rule, guest_access, invite_level
) -> None:
    room_id = await create_room(client, alice, preset=preset, invite=[bob.user_id],
                                room_version="11")
    state = await room_state(client, alice, room_id)
    assert state[("m.room.join_rules", "")]["content"] == {"join_rule": join_rule}
    assert state[("m.room.history_visibility", "")]["content"] == {
        "history_visibility": "shared"
    }
    assert state[("m.room.guest_access", "")]["content"] == {"guest_access": guest_access}
    levels = state[("m.room.power_levels", "")]["content"]
    assert levels["invite"] == invite_level
    # trusted_private_chat: invitees get the creator's level (v1-11)
    expected_users = {alice.user_id: 100}
    if preset == "trusted_private_chat":
        expected_users[bob.user_id] = 100
    assert levels["users"] == expected_users
    assert state[("m.room.member", bob.user_id)]["content"]["membership"] == "invite"


async def test_visibility_public_without_preset_means_public_chat(
    client: Any, server: HomeServer, alice
) -> None:
    room_id = await create_room(client, alice, visibility="public")
    state = await room_state(client, alice, room_id)
    assert state[("m.room.join_rules", "")]["content"]["join_rule"] == "public"
    assert (await server.stores.rooms.get_room(room_id)).is_public


@pytest.mark.parametrize("version", sorted(KNOWN_ROOM_VERSIONS, key=int))
async def test_every_room_version_creates_a_working_room(
    client: Any, alice, bob, version: str
) -> None:
    room_id = await create_room(
        client, alice, room_version=version, name="Room", topic="About", preset="public_chat"
    )
    state = await room_state(client, alice, room_id)
    create = state[("m.room.create", "")]
    assert create["content"]["room_version"] == version
    assert create["sender"] == alice.user_id
    if int(version) <= 10:
        assert create["content"]["creator"] == alice.user_id
    else:
        assert "creator" not in create["content"]
    if version == "12":
        # v12: the room ID is the create event's ID with '!' instead of '$'
        assert room_id == "!" + create["event_id"][1:]
        assert ":" not in room_id
        assert alice.user_id not in state[("m.room.power_levels", "")]["content"]["users"]
        assert state[("m.room.power_levels", "")]["content"]["events"]["m.room.tombstone"] == 150
    else:
        assert room_id.endswith(":test.local")
    assert state[("m.room.name", "")]["content"] == {"name": "Room"}
    assert state[("m.room.topic", "")]["content"]["topic"] == "About"
    # the room works: another user joins and talks
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await ok(client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/t1", bob, {"body": "hi"})


async def test_default_room_version_is_12(client: Any, alice) -> None:
    room_id = await create_room(client, alice)
    state = await room_state(client, alice, room_id)
    assert state[("m.room.create", "")]["content"]["room_version"] == "12"


async def test_initial_events_follow_the_spec_order(
    client: Any, server: HomeServer, alice, bob
) -> None:
    room_id = await create_room(
        client, alice, room_version="10", room_alias_name="ordered", name="N", topic="T",
        invite=[bob.user_id], initial_state=[
            {"type": "m.room.avatar", "content": {"url": "mxc://x/y"}},
        ],
    )
    rows = await server.db.fetchall(
        "SELECT type, state_key FROM events WHERE room_id = ? ORDER BY stream_ordering",
        room_id,
    )
    assert [r[0] for r in rows] == [
        "m.room.create", "m.room.member", "m.room.power_levels", "m.room.canonical_alias",
        "m.room.join_rules", "m.room.history_visibility", "m.room.guest_access",
        "m.room.avatar", "m.room.name", "m.room.topic", "m.room.member",
    ]
    assert rows[-1][1] == bob.user_id


async def test_initial_state_overrides_preset_and_name_overrides_initial_state(
    client: Any, alice
) -> None:
    room_id = await create_room(
        client, alice, preset="private_chat", name="From name",
        initial_state=[
            {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "public"}},
            {"type": "m.room.name", "content": {"name": "From initial_state"}},
        ],
    )
    state = await room_state(client, alice, room_id)
    assert state[("m.room.join_rules", "")]["content"] == {"join_rule": "public"}
    assert state[("m.room.name", "")]["content"] == {"name": "From name"}


async def test_power_level_override_and_creation_content_apply(client: Any, alice) -> None:
    room_id = await create_room(
        client, alice, room_version="9",
        power_level_content_override={"events_default": 20, "kick": 75},
        creation_content={"m.federate": False, "creator": "@mallory:evil", "room_version": "1"},
    )
    state = await room_state(client, alice, room_id)
    levels = state[("m.room.power_levels", "")]["content"]
    assert (levels["events_default"], levels["kick"], levels["ban"]) == (20, 75, 50)
    create = state[("m.room.create", "")]["content"]
    # the server's own keys win over creation_content
    assert create == {"m.federate": False, "creator": alice.user_id, "room_version": "9"}


async def test_v12_trusted_private_chat_makes_invitees_additional_creators(
    client: Any, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="trusted_private_chat",
                                invite=[bob.user_id], is_direct=True)
    state = await room_state(client, alice, room_id)
    assert state[("m.room.create", "")]["content"]["additional_creators"] == [bob.user_id]
    assert state[("m.room.power_levels", "")]["content"]["users"] == {}
    invite = state[("m.room.member", bob.user_id)]["content"]
    assert invite["membership"] == "invite"
    assert invite["is_direct"] is True


async def test_room_alias_is_created_and_joinable(client: Any, alice, bob) -> None:
    room_id = await create_room(client, alice, room_alias_name="lobby", preset="public_chat")
    state = await room_state(client, alice, room_id)
    assert state[("m.room.canonical_alias", "")]["content"] == {"alias": "#lobby:test.local"}
    joined = await ok(client, "POST", f"/join/{q('#lobby:test.local')}", bob, {})
    assert joined == {"room_id": room_id}


async def test_taken_alias_is_m_room_in_use_and_creates_nothing(
    client: Any, server: HomeServer, alice
) -> None:
    await create_room(client, alice, room_alias_name="taken")
    rooms, events = await _room_count(server), await _event_count(server)
    status, body = await call(client, "POST", "/createRoom", alice,
                              {"room_alias_name": "taken"})
    assert (status, body["errcode"]) == (400, "M_ROOM_IN_USE")
    assert (await _room_count(server), await _event_count(server)) == (rooms, events)


@pytest.mark.parametrize(
    ("body", "status", "errcode"),
    [
        ({"room_version": "13"}, 400, "M_UNSUPPORTED_ROOM_VERSION"),
        ({"room_version": "org.example.custom"}, 400, "M_UNSUPPORTED_ROOM_VERSION"),
        ({"room_version": 12}, 400, "M_BAD_JSON"),
        ({"preset": "secret_chat"}, 400, "M_INVALID_PARAM"),
        ({"visibility": "hidden"}, 400, "M_INVALID_PARAM"),
        ({"invite": ["not-a-user"]}, 400, "M_INVALID_PARAM"),
        ({"invite": "@bob:test.local"}, 400, "M_BAD_JSON"),
        ({"initial_state": [{"type": "m.room.topic"}]}, 400, "M_BAD_JSON"),
        ({"initial_state": [{"type": "m.room.member", "state_key": "@x:y",
                             "content": {"membership": "join"}}]}, 400, "M_INVALID_PARAM"),
        ({"creation_content": []}, 400, "M_BAD_JSON"),
        ({"creation_content": {"additional_creators": ["nobody"]}}, 400, "M_BAD_JSON"),
        ({"room_alias_name": "has space"}, 400, "M_INVALID_PARAM"),
        # the creator may not lock themself out: the state contradicts itself
        ({"room_version": "10", "power_level_content_override": {
            "users": {}, "events": {"m.room.join_rules": 100}}}, 400, "M_INVALID_ROOM_STATE"),
    ],
)
async def test_bad_create_requests_are_rejected_and_change_nothing(
    client: Any, server: HomeServer, alice, body, status, errcode
) -> None:
    status_got, data = await call(client, "POST", "/createRoom", alice, body)
    assert (status_got, data["errcode"]) == (status, errcode), data
    assert data["error"]
    assert await _room_count(server) == 0
    assert await _event_count(server) == 0


async def test_create_room_rejects_non_json_and_needs_a_token(client: Any, alice) -> None:
    status, data = await call(client, "POST", "/createRoom", alice, raw=b"{nope")
    assert (status, data["errcode"]) == (400, "M_NOT_JSON")
    status, data = await call(client, "POST", "/createRoom", None, {})
    assert (status, data["errcode"]) == (401, "M_MISSING_TOKEN")
