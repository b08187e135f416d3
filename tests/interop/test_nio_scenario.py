"""matrix-nio (a real Python client) against a running Ranvier: two users go through
the life of a room, and each step is checked by what the *other* client sees in
/sync, not only by the HTTP status of the request."""

from __future__ import annotations

import functools
import secrets
from collections.abc import AsyncIterator

import pytest
from nio import (
    JoinResponse,
    RoomBanResponse,
    RoomCreateResponse,
    RoomForgetResponse,
    RoomGetEventResponse,
    RoomInviteResponse,
    RoomKickResponse,
    RoomLeaveResponse,
    RoomMessagesResponse,
    RoomPutStateResponse,
    RoomRedactResponse,
    RoomSendResponse,
    RoomTypingResponse,
    RoomVisibility,
    UpdateReceiptMarkerResponse,
)
from nio.api import RoomPreset

from tests.interop.conftest import RanvierProcess
from tests.interop.interop_user import alice_and_bob
from tests.interop.nio_helpers import NioUser, ok

pytestmark = pytest.mark.interop

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def users(ranvier_server: RanvierProcess) -> AsyncIterator[tuple[NioUser, NioUser]]:
    new_user = functools.partial(NioUser, ranvier_server.base_url)
    async with alice_and_bob(new_user, PASSWORD) as pair:
        yield pair


async def send_text(user: NioUser, room_id: str, body: str, **content: object) -> str:
    response = await user.client.room_send(
        room_id, "m.room.message", {"msgtype": "m.text", "body": body, **content}
    )
    return ok(response, RoomSendResponse).event_id


async def test_two_nio_clients_share_the_life_of_rooms(
    users: tuple[NioUser, NioUser], ranvier_server: RanvierProcess
) -> None:
    alice, bob = users
    server = ranvier_server.server_name

    # --- a public room with an alias, joined by alias --------------------------------
    alias_local = f"nio{secrets.token_hex(3)}"
    public = ok(await alice.client.room_create(
        visibility=RoomVisibility.public, alias=alias_local, name="Public square",
        topic="Anyone may come", preset=RoomPreset.public_chat,
    ), RoomCreateResponse).room_id
    ok(await bob.client.join(f"#{alias_local}:{server}"), JoinResponse)
    await bob.wait_for("the public room's name and topic", lambda: (
        public in bob.client.rooms
        and bob.client.rooms[public].name == "Public square"
        and bob.client.rooms[public].topic == "Anyone may come"
    ))
    await alice.wait_for("bob joining the public room",
                         lambda: alice.membership(public, bob.user_id) == "join")

    # --- a private room: invite, then join ----------------------------------------------
    private = ok(await alice.client.room_create(
        name="Back room", preset=RoomPreset.private_chat
    ), RoomCreateResponse).room_id
    ok(await alice.client.room_invite(private, bob.user_id), RoomInviteResponse)
    await bob.wait_for("the invite to the private room",
                       lambda: private in bob.client.invited_rooms)
    assert bob.section[private] == "invite"
    ok(await bob.client.join(private), JoinResponse)
    await alice.wait_for("bob accepting the invite",
                         lambda: alice.membership(private, bob.user_id) == "join")
    await bob.wait_for("the private room among joined rooms",
                       lambda: bob.section.get(private) == "join")

    # --- messages both ways -------------------------------------------------------------
    hello = await send_text(alice, private, "hello bob")
    seen = await bob.wait_for("alice's message", lambda: bob.find(private, event_id=hello))
    assert seen["sender"] == alice.user_id
    assert seen["content"]["body"] == "hello bob"
    answer = await send_text(bob, private, "hi alice")
    await alice.wait_for("bob's answer", lambda: alice.find(private, event_id=answer))

    # --- an edit (m.replace) ------------------------------------------------------------
    edit = await send_text(
        alice, private, "* hello Bob",
        **{"m.new_content": {"msgtype": "m.text", "body": "hello Bob"},
           "m.relates_to": {"rel_type": "m.replace", "event_id": hello}},
    )
    seen = await bob.wait_for("alice's edit", lambda: bob.find(private, event_id=edit))
    assert seen["content"]["m.relates_to"] == {"rel_type": "m.replace", "event_id": hello}
    assert seen["content"]["m.new_content"]["body"] == "hello Bob"

    # --- a reaction (m.annotation) ------------------------------------------------------
    reaction = ok(await bob.client.room_send(private, "m.reaction", {
        "m.relates_to": {"rel_type": "m.annotation", "event_id": hello, "key": "👍"}
    }), RoomSendResponse).event_id
    seen = await alice.wait_for("bob's reaction", lambda: alice.find(private, event_id=reaction))
    assert seen["type"] == "m.reaction"
    assert seen["content"]["m.relates_to"]["key"] == "👍"

    # --- a reply in a thread (m.thread) -------------------------------------------------
    in_thread = await send_text(
        bob, private, "replying in a thread",
        **{"m.relates_to": {"rel_type": "m.thread", "event_id": answer,
                            "is_falling_back": True,
                            "m.in_reply_to": {"event_id": answer}}},
    )
    seen = await alice.wait_for("bob's thread reply",
                                lambda: alice.find(private, event_id=in_thread))
    assert seen["content"]["m.relates_to"]["rel_type"] == "m.thread"
    # The thread root carries the thread's summary (spec: "Threading", server behaviour).
    root = ok(await alice.client.room_get_event(private, answer), RoomGetEventResponse)
    summary = root.event.source.get("unsigned", {}).get("m.relations", {}).get("m.thread")
    assert summary is not None, f"no m.thread summary on the root: {root.event.source}"
    assert summary["count"] == 1
    assert summary["latest_event"]["event_id"] == in_thread

    # --- a redaction --------------------------------------------------------------------
    redaction = ok(await alice.client.room_redact(private, hello, reason="typo"),
                   RoomRedactResponse).event_id
    seen = await bob.wait_for("the redaction", lambda: bob.find(private, event_id=redaction))
    assert seen["type"] == "m.room.redaction"
    # Since room version 11 `redacts` is in the content; older versions have it on top.
    assert hello in (seen.get("redacts"), seen["content"].get("redacts"))
    redacted = ok(await bob.client.room_get_event(private, hello), RoomGetEventResponse)
    assert redacted.event.source["content"] == {}
    assert redacted.event.source["unsigned"]["redacted_because"]["event_id"] == redaction

    # --- history, paginated backwards ---------------------------------------------------
    sent = [await send_text(alice, private, f"history {i}") for i in range(12)]
    await bob.wait_for("the last history message", lambda: bob.find(private, event_id=sent[-1]))
    token = bob.client.next_batch
    older: list[str] = []
    for _ in range(10):
        page = ok(await bob.client.room_messages(private, start=token, limit=5),
                  RoomMessagesResponse)
        assert len(page.chunk) <= 5
        older.extend(e.event_id for e in page.chunk)
        if not page.end or not page.chunk:
            break
        token = page.end
    assert older[:12] == list(reversed(sent)), "pagination lost or reordered messages"
    assert hello in older, "pagination did not reach the start of the conversation"

    # --- typing notifications -----------------------------------------------------------
    ok(await bob.client.room_typing(private, True, timeout=20_000), RoomTypingResponse)
    await alice.wait_for("bob typing",
                         lambda: alice.client.rooms[private].typing_users == [bob.user_id])
    ok(await bob.client.room_typing(private, False), RoomTypingResponse)
    await alice.wait_for("bob no longer typing",
                         lambda: alice.client.rooms[private].typing_users == [])

    # --- read receipts ------------------------------------------------------------------
    ok(await alice.client.update_receipt_marker(private, sent[-1], thread_id=None),
       UpdateReceiptMarkerResponse)
    receipt = await bob.wait_for("alice's read receipt", lambda: (
        alice.user_id in bob.client.rooms[private].read_receipts
        and bob.client.rooms[private].read_receipts[alice.user_id]
    ))
    assert receipt.event_id == sent[-1]

    # --- power levels -------------------------------------------------------------------
    levels = dict(alice.client.rooms[public].power_levels.users)
    ok(await alice.client.room_put_state(public, "m.room.power_levels", {
        **_power_levels_content(alice, public), "users": {**levels, bob.user_id: 50},
    }), RoomPutStateResponse)
    await bob.wait_for("his power level of 50", lambda: (
        bob.client.rooms[public].power_levels.get_user_level(bob.user_id) == 50
    ))

    # --- kick ---------------------------------------------------------------------------
    ok(await alice.client.room_kick(public, bob.user_id, reason="cool down"), RoomKickResponse)
    await bob.wait_for("being kicked (room in leave)", lambda: bob.section.get(public) == "leave")
    kick = bob.events(public, "m.room.member")[-1]
    assert kick["state_key"] == bob.user_id
    assert kick["sender"] == alice.user_id
    assert kick["content"]["membership"] == "leave"
    assert kick["content"].get("reason") == "cool down"
    await alice.wait_for("bob's kick", lambda: alice.membership(public, bob.user_id) == "leave")

    # --- ban: bob comes back, is banned, and cannot rejoin --------------------------------
    ok(await bob.client.join(public), JoinResponse)
    await alice.wait_for("bob rejoining", lambda: alice.membership(public, bob.user_id) == "join")
    ok(await alice.client.room_ban(public, bob.user_id, reason="spam"), RoomBanResponse)
    await bob.wait_for("being banned", lambda: (
        bob.section.get(public) == "leave" and bob.membership(public, bob.user_id) == "ban"
    ))
    refused = await bob.client.join(public)
    assert not isinstance(refused, JoinResponse), "a banned user could rejoin"
    assert refused.status_code == "M_FORBIDDEN"

    # --- leave and forget ---------------------------------------------------------------
    ok(await bob.client.room_leave(private), RoomLeaveResponse)
    await alice.wait_for("bob leaving", lambda: alice.membership(private, bob.user_id) == "leave")
    await bob.wait_for("the private room among left rooms",
                       lambda: bob.section.get(private) == "leave")
    ok(await bob.client.room_forget(private), RoomForgetResponse)


def _power_levels_content(user: NioUser, room_id: str) -> dict[str, object]:
    """The current m.room.power_levels content as `user`'s client knows it."""
    levels = user.client.rooms[room_id].power_levels
    return {
        "users": dict(levels.users),
        "users_default": levels.defaults.users_default,
        "events": dict(levels.events),
        "events_default": levels.defaults.events_default,
        "state_default": levels.defaults.state_default,
        "ban": levels.defaults.ban,
        "kick": levels.defaults.kick,
        "redact": levels.defaults.redact,
        "invite": levels.defaults.invite,
        "notifications": dict(levels.defaults.notifications),
    }
