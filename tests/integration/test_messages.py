"""/messages, /context, /members, /joined_members, and history visibility."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
import pytest

from ranvier.server import HomeServer

from .room_helpers import call, create_room, make_user, ok, q, send_message
from .sync_helpers import bodies, sync


@pytest.fixture
async def alice(server: HomeServer):
    return await make_user(server, "alice", device_id="ALICEDEV")


@pytest.fixture
async def room_id(client: Any, alice, bob) -> str:
    room = await create_room(client, alice, preset="public_chat", name="Chat")
    await ok(client, "POST", f"/join/{q(room)}", bob, {})
    return room


def _path(room_id: str, what: str, **params: Any) -> str:
    query = {k: orjson.dumps(v).decode() if isinstance(v, dict) else v
             for k, v in params.items() if v is not None}
    return f"/rooms/{q(room_id)}/{what}?{urlencode(query)}"


async def _messages(client: Any, user, room_id: str, **params: Any) -> dict[str, Any]:
    return await ok(client, "GET", _path(room_id, "messages", **params), user)


def _ids(page: dict[str, Any]) -> list[str]:
    return [e["event_id"] for e in page["chunk"]]


async def test_backwards_pages_have_no_gaps_or_duplicates(client: Any, alice, room_id) -> None:
    for i in range(25):
        await send_message(client, alice, room_id, f"m{i}", f"t{i}")
    seen: list[str] = []
    token = None
    while True:
        page = await _messages(client, alice, room_id, dir="b", limit=7, **{"from": token})
        seen += [e["event_id"] for e in page["chunk"]]
        if "end" not in page:
            break
        token = page["end"]
    assert len(seen) == len(set(seen))
    messages = [m for m in seen]
    all_page = await _messages(client, alice, room_id, dir="b", limit=1000)
    assert [e["event_id"] for e in all_page["chunk"]] == messages
    assert "end" not in all_page
    assert all_page["chunk"][-1]["type"] == "m.room.create"


async def test_a_page_from_the_newest_event_starts_at_it(
    client: Any, alice, room_id
) -> None:
    # Without `from`, `start` is the newest event's position whether or not the filter
    # keeps that event, and paging again from it gives the same page.
    newest = await send_message(client, alice, room_id, "newest", "t1")
    page = await _messages(client, alice, room_id, dir="b", limit=3)
    assert page["chunk"][0]["event_id"] == newest
    again = await _messages(client, alice, room_id, dir="b", limit=3, **{"from": page["start"]})
    assert again["start"] == page["start"]
    assert _ids(again) == _ids(page)
    filtered = await _messages(client, alice, room_id, dir="b", limit=3,
                               filter={"types": ["m.room.member"]})
    assert filtered["start"] == page["start"]
    assert all(e["type"] == "m.room.member" for e in filtered["chunk"])
    # Nothing left between the newest event and `to`: still the newest event's position.
    empty = await _messages(client, alice, room_id, dir="b", to=page["start"])
    assert (empty["start"], empty["chunk"]) == (page["start"], [])
    assert "end" not in empty


async def test_a_page_of_no_events_still_ends_in_a_token(client: Any, alice, room_id) -> None:
    await send_message(client, alice, room_id, "one", "t1")
    page = await _messages(client, alice, room_id, dir="b", limit=0)
    assert page["chunk"] == []
    assert page["end"] == page["start"]
    later = await _messages(client, alice, room_id, dir="b", limit=1, **{"from": page["end"]})
    assert bodies(later["chunk"]) == ["one"]


async def test_forwards_pagination_is_chronological(client: Any, alice, room_id) -> None:
    for i in range(5):
        await send_message(client, alice, room_id, f"m{i}", f"t{i}")
    first = await _messages(client, alice, room_id, dir="f", limit=3)
    assert first["chunk"][0]["type"] == "m.room.create"
    rest = []
    token = first["end"]
    while True:
        page = await _messages(client, alice, room_id, dir="f", limit=3, **{"from": token})
        if not page["chunk"]:
            break
        rest += page["chunk"]
        token = page["end"]
    assert bodies(rest) == [f"m{i}" for i in range(5)]
    # At the newest event the page still ends in a token: later events follow it.
    assert page["end"] == token


async def test_forwards_from_a_sync_next_batch_reaches_later_events(
    client: Any, alice, room_id
) -> None:
    await send_message(client, alice, room_id, "seen", "t1")
    next_batch = (await sync(client, alice))["next_batch"]
    await send_message(client, alice, room_id, "later", "t2")
    page = await _messages(client, alice, room_id, dir="f", **{"from": next_batch})
    assert bodies(page["chunk"]) == ["later"]
    again = await _messages(client, alice, room_id, dir="f", **{"from": page["end"]})
    assert again["chunk"] == []
    assert "end" in again


async def test_prev_batch_from_sync_continues_the_timeline(
    client: Any, alice, room_id
) -> None:
    for i in range(15):
        await send_message(client, alice, room_id, f"m{i}", f"t{i}")
    body = await sync(client, alice, filter={"room": {"timeline": {"limit": 5}}})
    timeline = body["rooms"]["join"][room_id]["timeline"]
    assert bodies(timeline["events"]) == [f"m{i}" for i in range(10, 15)]
    page = await _messages(client, alice, room_id, dir="b", limit=5,
                           **{"from": timeline["prev_batch"]})
    assert bodies(page["chunk"]) == [f"m{i}" for i in range(9, 4, -1)]


async def test_sync_token_is_accepted_as_from(client: Any, alice, room_id) -> None:
    await send_message(client, alice, room_id, "before", "t1")
    token = (await sync(client, alice))["next_batch"]
    await send_message(client, alice, room_id, "after", "t2")
    page = await _messages(client, alice, room_id, dir="b", limit=1, **{"from": token})
    assert bodies(page["chunk"]) == ["before"]


async def test_to_token_stops_pagination(client: Any, alice, room_id) -> None:
    ids = [await send_message(client, alice, room_id, f"m{i}", f"t{i}") for i in range(6)]
    first = await _messages(client, alice, room_id, dir="b", limit=2)
    stop = first["end"]
    page = await _messages(client, alice, room_id, dir="f", limit=100, to=stop,
                           **{"from": "t0-0"})
    assert page["chunk"][-1]["event_id"] == ids[3]


async def test_messages_filter_and_lazy_loaded_members(
    client: Any, server: HomeServer, alice, bob, room_id
) -> None:
    await send_message(client, alice, room_id, "from alice", "t1")
    await send_message(client, bob, room_id, "from bob", "t2")
    page = await _messages(client, alice, room_id, dir="b", limit=10,
                           filter={"senders": [bob.user_id], "lazy_load_members": True})
    assert bodies(page["chunk"]) == ["from bob"]
    assert {e["state_key"] for e in page["state"]} == {bob.user_id}


async def test_messages_bad_input(client: Any, alice, room_id) -> None:
    for params, code in (
        ({}, "M_MISSING_PARAM"),
        ({"dir": "x"}, "M_INVALID_PARAM"),
        ({"dir": "b", "from": "nonsense"}, "M_INVALID_PARAM"),
        ({"dir": "b", "limit": "many"}, "M_INVALID_PARAM"),
        ({"dir": "b", "filter": "{not json"}, "M_NOT_JSON"),
        ({"dir": "b", "filter": '{"limit": "x"}'}, "M_BAD_JSON"),
    ):
        status, body = await call(client, "GET", _path(room_id, "messages", **params), alice)
        assert (status, body["errcode"]) == (400, code), params


async def test_outsider_cannot_read_messages(client: Any, server: HomeServer, room_id) -> None:
    eve = await make_user(server, "eve")
    status, body = await call(client, "GET", _path(room_id, "messages", dir="b"), eve)
    assert (status, body["errcode"]) == (403, "M_FORBIDDEN")


async def test_world_readable_room_is_readable_by_outsiders(
    client: Any, server: HomeServer, alice, room_id
) -> None:
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.history_visibility", alice,
             {"history_visibility": "world_readable"})
    await send_message(client, alice, room_id, "public", "t1")
    eve = await make_user(server, "eve")
    page = await _messages(client, eve, room_id, dir="b", limit=1)
    assert bodies(page["chunk"]) == ["public"]


async def test_left_user_sees_history_up_to_leave_only(
    client: Any, alice, bob, room_id
) -> None:
    await send_message(client, alice, room_id, "while there", "t1")
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})
    await send_message(client, alice, room_id, "after leave", "t2")
    page = await _messages(client, bob, room_id, dir="b", limit=50)
    assert "after leave" not in bodies(page["chunk"])
    assert "while there" in bodies(page["chunk"])


async def test_joined_visibility_hides_history_before_join(
    client: Any, server: HomeServer, alice
) -> None:
    room = await create_room(client, alice, preset="public_chat")
    await ok(client, "PUT", f"/rooms/{q(room)}/state/m.room.history_visibility", alice,
             {"history_visibility": "joined"})
    await send_message(client, alice, room, "secret", "t1")
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/join/{q(room)}", carol, {})
    await send_message(client, alice, room, "welcome", "t2")
    page = await _messages(client, carol, room, dir="b", limit=50)
    assert bodies(page["chunk"]) == ["welcome"]
    # the same in the sync timeline
    body = await sync(client, carol)
    assert bodies(body["rooms"]["join"][room]["timeline"]["events"]) == ["welcome"]


async def test_shared_visibility_shows_history_before_join(
    client: Any, server: HomeServer, alice, room_id
) -> None:
    await send_message(client, alice, room_id, "old news", "t1")
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/join/{q(room_id)}", carol, {})
    page = await _messages(client, carol, room_id, dir="b", limit=50)
    assert "old news" in bodies(page["chunk"])


async def test_invited_visibility_shows_events_from_invite(
    client: Any, server: HomeServer, alice
) -> None:
    room = await create_room(client, alice, preset="private_chat")
    await ok(client, "PUT", f"/rooms/{q(room)}/state/m.room.history_visibility", alice,
             {"history_visibility": "invited"})
    await send_message(client, alice, room, "before invite", "t1")
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/rooms/{q(room)}/invite", alice, {"user_id": carol.user_id})
    await send_message(client, alice, room, "after invite", "t2")
    await ok(client, "POST", f"/join/{q(room)}", carol, {})
    page = await _messages(client, carol, room, dir="b", limit=50)
    assert bodies(page["chunk"]) == ["after invite"]


async def test_context_returns_surrounding_events(client: Any, alice, room_id) -> None:
    ids = [await send_message(client, alice, room_id, f"m{i}", f"t{i}") for i in range(9)]
    body = await ok(client, "GET", _path(room_id, f"context/{q(ids[4])}", limit=4), alice)
    assert body["event"]["event_id"] == ids[4]
    assert [e["event_id"] for e in body["events_before"]] == [ids[3], ids[2]]
    assert [e["event_id"] for e in body["events_after"]] == [ids[5], ids[6]]
    assert any(e["type"] == "m.room.create" for e in body["state"])
    before = await _messages(client, alice, room_id, dir="b", limit=1, **{"from": body["start"]})
    assert before["chunk"][0]["event_id"] == ids[1]
    after = await _messages(client, alice, room_id, dir="f", limit=1, **{"from": body["end"]})
    assert after["chunk"][0]["event_id"] == ids[7]


async def test_context_of_invisible_or_unknown_event_is_not_found(
    client: Any, server: HomeServer, alice
) -> None:
    room = await create_room(client, alice, preset="public_chat")
    await ok(client, "PUT", f"/rooms/{q(room)}/state/m.room.history_visibility", alice,
             {"history_visibility": "joined"})
    secret = await send_message(client, alice, room, "secret", "t1")
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/join/{q(room)}", carol, {})
    for event_id in (secret, "$nope"):
        status, body = await call(client, "GET", _path(room, f"context/{q(event_id)}"), carol)
        assert (status, body["errcode"]) == (404, "M_NOT_FOUND")


async def test_members_with_membership_filters(
    client: Any, server: HomeServer, alice, bob, room_id
) -> None:
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/rooms/{q(room_id)}/invite", alice, {"user_id": carol.user_id})
    everyone = await ok(client, "GET", _path(room_id, "members"), alice)
    assert {e["state_key"] for e in everyone["chunk"]} == {
        alice.user_id, bob.user_id, carol.user_id}
    joined = await ok(client, "GET", _path(room_id, "members", membership="join"), alice)
    assert {e["state_key"] for e in joined["chunk"]} == {alice.user_id, bob.user_id}
    not_joined = await ok(client, "GET", _path(room_id, "members", not_membership="join"), alice)
    assert {e["state_key"] for e in not_joined["chunk"]} == {carol.user_id}
    status, body = await call(client, "GET", _path(room_id, "members", membership="x"), alice)
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")


async def test_members_at_a_past_token(client: Any, server: HomeServer, alice, room_id) -> None:
    token = (await sync(client, alice))["next_batch"]
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/join/{q(room_id)}", carol, {})
    then = await ok(client, "GET", _path(room_id, "members", at=token), alice)
    assert carol.user_id not in {e["state_key"] for e in then["chunk"]}


async def test_invitee_reads_members_at_its_own_invite_only(
    client: Any, server: HomeServer, alice
) -> None:
    # Element opens an invited room with GET /members?at=<its sync token> (Synapse: 200).
    room = await create_room(client, alice, name="Secret")
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/rooms/{q(room)}/invite", alice, {"user_id": carol.user_id})
    token = (await sync(client, carol))["next_batch"]
    body = await ok(client, "GET", _path(room, "members", at=token, not_membership="leave"),
                    carol)
    assert {e["state_key"]: e["content"]["membership"] for e in body["chunk"]} == {
        alice.user_id: "join", carol.user_id: "invite"}
    # Without `at`, or once something newer happened, the invitee may not read them.
    status, err = await call(client, "GET", _path(room, "members"), carol)
    assert (status, err["errcode"]) == (403, "M_FORBIDDEN")
    await send_message(client, alice, room, "later", "t1")
    later = (await sync(client, carol))["next_batch"]
    status, err = await call(client, "GET", _path(room, "members", at=later), carol)
    assert (status, err["errcode"]) == (403, "M_FORBIDDEN")


async def test_joined_members_and_outsiders(client: Any, server: HomeServer, alice, bob,
                                            room_id) -> None:
    body = await ok(client, "GET", f"/rooms/{q(room_id)}/joined_members", alice)
    assert set(body["joined"]) == {alice.user_id, bob.user_id}
    # no avatar: the key is left out rather than null (RoomMember's fields are strings)
    assert body["joined"][alice.user_id] == {"display_name": "alice"}
    eve = await make_user(server, "eve")
    status, err = await call(client, "GET", f"/rooms/{q(room_id)}/joined_members", eve)
    assert (status, err["errcode"]) == (403, "M_FORBIDDEN")
    status, err = await call(client, "GET", _path(room_id, "members"), eve)
    assert (status, err["errcode"]) == (403, "M_FORBIDDEN")
