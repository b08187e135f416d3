"""m.ignored_user_list: ignored users' messages and invites are not sent; their state is
(client-server API "Ignoring Users")."""

from __future__ import annotations

from typing import Any

from .room_helpers import create_room, ok, q, send_message
from .sync_helpers import bodies, sync, timeline


async def _ignore(client: Any, user, *ignored) -> None:
    await ok(client, "PUT", f"/user/{q(user.user_id)}/account_data/m.ignored_user_list", user,
             {"ignored_users": {u.user_id: {} for u in ignored}})


async def test_ignored_users_messages_are_left_out_but_their_state_kept(
    client: Any, alice, bob
) -> None:
    room_id = await create_room(client, alice, preset="public_chat")
    await ok(client, "POST", f"/join/{q(room_id)}", bob, {})
    await _ignore(client, alice, bob)
    await send_message(client, bob, room_id, "from bob", "b1")
    await send_message(client, alice, room_id, "from alice", "a1")
    events = timeline(await sync(client, alice), room_id)
    assert bodies(events) == ["from alice"]
    assert any(e["type"] == "m.room.member" and e["sender"] == bob.user_id for e in events)
    page = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b", alice)
    assert bodies(page["chunk"]) == ["from alice"]
    # Un-ignoring shows them again.
    await _ignore(client, alice)
    assert bodies(timeline(await sync(client, alice), room_id)) == ["from bob", "from alice"]


async def test_invites_from_ignored_users_are_not_sent(client: Any, alice, bob) -> None:
    await _ignore(client, alice, bob)
    since = (await sync(client, alice))["next_batch"]
    room_id = await create_room(client, bob, invite=[alice.user_id])
    assert room_id not in (await sync(client, alice, since=since))["rooms"]["invite"]
    assert room_id not in (await sync(client, alice))["rooms"]["invite"]
