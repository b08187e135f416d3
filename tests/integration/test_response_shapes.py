"""Answers shaped as the spec's schemas say: optional fields left out rather than null,
server-managed account data readable, invalid filters and invite_3pid refused."""

from __future__ import annotations

from typing import Any

import pytest

from ranvier.server import HomeServer

from .room_helpers import call, create_room, ok, q


async def test_devices_leave_out_unset_fields_instead_of_null(
    client: Any, server: HomeServer, alice
) -> None:
    # A device made without a name, that has made no request yet.
    await server.devices.ensure_device(alice.user_id, "SILENT", None)
    listed = await ok(client, "GET", "/devices", alice)
    silent = next(d for d in listed["devices"] if d["device_id"] == "SILENT")
    assert silent == {"device_id": "SILENT"}
    assert await ok(client, "GET", "/devices/SILENT", alice) == {"device_id": "SILENT"}


async def test_joined_members_leave_out_an_unset_avatar_and_name(
    client: Any, server: HomeServer, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "PUT", f"/profile/{q(bob.user_id)}/displayname", bob, {"displayname": None})
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    joined = (await ok(client, "GET", f"/rooms/{q(room_id)}/joined_members", alice))["joined"]
    assert joined == {alice.user_id: {"display_name": "alice"}, bob.user_id: {}}


async def test_push_rules_read_as_global_account_data(client: Any, alice) -> None:
    await ok(client, "PUT", "/pushrules/global/content/cats", alice,
             {"pattern": "cat*", "actions": ["notify"]})
    rules = await ok(client, "GET", f"/user/{q(alice.user_id)}/account_data/m.push_rules", alice)
    assert rules == await ok(client, "GET", "/pushrules/", alice)
    assert "cats" in {r["rule_id"] for r in rules["global"]["content"]}


@pytest.mark.parametrize("path", ["/account_data/m.push_rules",
                                  "/rooms/{room}/account_data/m.push_rules"])
async def test_setting_push_rules_as_account_data_is_refused_with_405(
    client: Any, alice, path: str
) -> None:
    room_id = await create_room(client, alice)
    before = await ok(client, "GET", "/pushrules/", alice)
    status, body = await call(
        client, "PUT", f"/user/{q(alice.user_id)}" + path.format(room=q(room_id)), alice,
        {"global": {}},
    )
    assert (status, body["errcode"]) == (405, "M_BAD_JSON")
    assert "m.push_rules" in body["error"]
    assert await ok(client, "GET", "/pushrules/", alice) == before


@pytest.mark.parametrize(("body", "field"), [
    ({"room": {"timeline": {"senders": ["\U0001dd73"]}}}, "room.timeline.senders"),
    ({"presence": {"not_senders": ["bob"]}}, "presence.not_senders"),
    ({"room": {"rooms": ["#alias:test.local"]}}, "room.rooms"),
])
async def test_filter_naming_non_ids_is_refused(client: Any, alice, body: Any, field: str) -> None:
    status, answer = await call(client, "POST", f"/user/{q(alice.user_id)}/filter", alice, body)
    assert (status, answer["errcode"]) == (400, "M_BAD_JSON")
    assert field in answer["error"]


@pytest.mark.parametrize(("invite", "status", "errcode", "named"), [
    ({"medium": "email", "address": "a@example.org"}, 400, "M_BAD_JSON",
     "invite_3pid[0].id_server"),
    ({"id_server": "id.example.org", "id_access_token": "t", "medium": "email",
      "address": "a@example.org"}, 403, "M_FORBIDDEN", "invite_3pid"),
])
async def test_create_room_with_third_party_invites_is_refused_and_creates_nothing(
    client: Any, server: HomeServer, alice, invite: dict, status: int, errcode: str,
    named: str,
) -> None:
    answer_status, answer = await call(client, "POST", "/createRoom", alice,
                                       {"invite_3pid": [invite]})
    assert (answer_status, answer["errcode"]) == (status, errcode)
    assert named in answer["error"]
    assert await server.stores.rooms.get_rooms_for_user(alice.user_id) == []
