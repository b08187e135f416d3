"""mautrix-python (the framework of the mautrix bridges) against a running Ranvier: two
users go through the life of a room with mautrix's typed client methods, and each step
is checked by what the *other* user's mautrix syncer parses out of /sync."""

from __future__ import annotations

import functools
import secrets
from collections.abc import AsyncIterator

import pytest
from mautrix.errors import MForbidden
from mautrix.types import (
    EventType,
    Format,
    Membership,
    MessageEvent,
    MessageType,
    PaginationDirection,
    PowerLevelStateEventContent,
    ReactionEvent,
    ReceiptEvent,
    ReceiptType,
    RedactionEvent,
    RelationType,
    RoomCreatePreset,
    RoomDirectoryVisibility,
    TextMessageEventContent,
    TypingEvent,
)

from tests.interop.conftest import RanvierProcess
from tests.interop.interop_user import alice_and_bob
from tests.interop.mautrix_helpers import MautrixUser

pytestmark = pytest.mark.interop

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def users(ranvier_server: RanvierProcess) -> AsyncIterator[tuple[MautrixUser, MautrixUser]]:
    new_user = functools.partial(MautrixUser, ranvier_server.base_url)
    async with alice_and_bob(new_user, PASSWORD) as pair:
        yield pair


def typing_users(user: MautrixUser, room_id: str) -> list[str] | None:
    """The user IDs of the latest typing notification `user` saw in the room."""
    typing = [e for e in user.ephemeral[room_id] if isinstance(e, TypingEvent)]
    return typing[-1].content.user_ids if typing else None


async def test_two_mautrix_clients_share_the_life_of_rooms(
    users: tuple[MautrixUser, MautrixUser], ranvier_server: RanvierProcess
) -> None:
    alice, bob = users
    server = ranvier_server.server_name

    # --- a public room with an alias, joined by alias --------------------------------
    alias_local = f"mau{secrets.token_hex(3)}"
    public = await alice.client.create_room(
        alias_localpart=alias_local, visibility=RoomDirectoryVisibility.PUBLIC,
        preset=RoomCreatePreset.PUBLIC, name="Public square", topic="Anyone may come",
    )
    resolved = await bob.client.resolve_room_alias(f"#{alias_local}:{server}")
    assert resolved.room_id == public
    assert await bob.client.join_room(f"#{alias_local}:{server}", max_retries=0) == public
    await bob.wait_for("the public room's name and topic", lambda: (
        ("m.room.name", "") in bob.state[public] and ("m.room.topic", "") in bob.state[public]
    ))
    assert bob.state[public][("m.room.name", "")].content.name == "Public square"
    assert bob.state[public][("m.room.topic", "")].content.topic == "Anyone may come"
    await alice.wait_for("bob joining the public room",
                         lambda: alice.membership(public, bob.user_id) == Membership.JOIN)
    directory = await bob.client.get_room_directory()
    assert public in [room.room_id for room in directory.chunk]

    # --- a private room: invite, then join ----------------------------------------------
    private = await alice.client.create_room(name="Back room", preset=RoomCreatePreset.PRIVATE)
    await alice.client.invite_user(private, bob.user_id)
    invite = await bob.wait_for("the invite to the private room", lambda: bob.invites.get(private))
    assert invite.sender == alice.user_id
    assert invite.content.membership == Membership.INVITE
    stripped = {e.type.t: e for e in invite.unsigned.invite_room_state}
    assert stripped["m.room.name"].content.name == "Back room"
    assert await bob.client.join_room_by_id(private) == private
    await alice.wait_for("bob accepting the invite",
                         lambda: alice.membership(private, bob.user_id) == Membership.JOIN)
    await bob.wait_for("the private room among joined rooms",
                       lambda: bob.section.get(private) == "join")
    assert set(await bob.client.get_joined_rooms()) == {public, private}

    # --- messages both ways, plain and HTML ---------------------------------------------
    hello = await alice.client.send_text(private, "hello bob")
    seen = await bob.wait_for("alice's message", lambda: bob.find(private, hello))
    assert isinstance(seen, MessageEvent)
    assert seen.sender == alice.user_id
    assert seen.content.msgtype == MessageType.TEXT
    assert seen.content.body == "hello bob"
    answer = await bob.client.send_text(private, html="hi <b>alice</b>")
    seen = await alice.wait_for("bob's answer", lambda: alice.find(private, answer))
    assert seen.content.format == Format.HTML
    assert seen.content.formatted_body == "hi <b>alice</b>"
    assert seen.content.body == "hi **alice**"  # mautrix's own HTML-to-text

    # --- an edit (m.replace), made by mautrix's set_edit --------------------------------
    edited = TextMessageEventContent(msgtype=MessageType.TEXT, body="hello Bob")
    edited.set_edit(hello)
    edit = await alice.client.send_message(private, edited)
    seen = await bob.wait_for("alice's edit", lambda: bob.find(private, edit))
    # mautrix parses an edit into its m.new_content, keeping the relation.
    assert seen.content.get_edit() == hello
    assert seen.content.body == "hello Bob"

    # --- a reaction (m.annotation) ------------------------------------------------------
    reaction = await bob.client.react(private, hello, "👍")
    seen = await alice.wait_for("bob's reaction", lambda: alice.find(private, reaction))
    assert isinstance(seen, ReactionEvent)
    assert seen.content.relates_to.rel_type == RelationType.ANNOTATION
    assert seen.content.relates_to.event_id == hello
    assert seen.content.relates_to.key == "👍"

    # --- a reply in a thread (m.thread with the reply fallback) -------------------------
    threaded = TextMessageEventContent(msgtype=MessageType.TEXT, body="replying in a thread")
    threaded.set_thread_parent(answer)
    in_thread = await bob.client.send_message(private, threaded)
    seen = await alice.wait_for("bob's thread reply", lambda: alice.find(private, in_thread))
    assert seen.content.get_thread_parent() == answer
    assert seen.content.get_reply_to() == answer  # the fallback for clients without threads
    root = await alice.client.get_event(private, answer)
    summary = root.unsigned["m.relations"]["m.thread"]
    assert summary["count"] == 1
    assert summary["latest_event"]["event_id"] == in_thread

    # --- a redaction --------------------------------------------------------------------
    redaction = await alice.client.redact(private, hello, reason="typo")
    seen = await bob.wait_for("the redaction", lambda: bob.find(private, redaction))
    assert isinstance(seen, RedactionEvent)
    assert seen.redacts == hello
    assert seen.content.reason == "typo"
    redacted = await bob.client.get_event(private, hello)
    assert redacted.content.serialize() == {}
    assert redacted.unsigned["redacted_because"]["event_id"] == redaction

    # --- history, paginated backwards with get_messages ----------------------------------
    sent = [await alice.client.send_text(private, f"history {i}") for i in range(12)]
    await bob.wait_for("the last history message", lambda: bob.find(private, sent[-1]))
    token = bob.next_batch
    older: list[str] = []
    for _ in range(10):
        page = await bob.client.get_messages(
            private, PaginationDirection.BACKWARD, from_token=token, limit=5
        )
        assert len(page.events) <= 5
        older.extend(e.event_id for e in page.events)
        if not page.end or not page.events:
            break
        token = page.end
    assert older[:12] == list(reversed(sent)), "pagination lost or reordered messages"
    assert hello in older, "pagination did not reach the start of the conversation"

    # --- typing notifications -----------------------------------------------------------
    await bob.client.set_typing(private, timeout=20_000)
    await alice.wait_for("bob typing", lambda: typing_users(alice, private) == [bob.user_id])
    await bob.client.set_typing(private, timeout=0)
    await alice.wait_for("bob no longer typing", lambda: typing_users(alice, private) == [])

    # --- read receipts ------------------------------------------------------------------
    await alice.client.send_receipt(private, sent[-1], ReceiptType.READ)
    receipt = await bob.wait_for("alice's read receipt", lambda: next((
        e for e in bob.ephemeral[private] if isinstance(e, ReceiptEvent)
        and alice.user_id in e.content.get(sent[-1], {}).get(ReceiptType.READ, {})
    ), None))
    assert receipt.content[sent[-1]][ReceiptType.READ][alice.user_id].ts > 0

    # --- power levels, through mautrix's typed content ----------------------------------
    levels = await alice.client.get_state_event(public, EventType.ROOM_POWER_LEVELS)
    assert isinstance(levels, PowerLevelStateEventContent)
    # Room version 12 (the default): creators outrank everyone and are not in `users`.
    assert alice.user_id not in levels.users
    levels.set_user_level(bob.user_id, 50)
    await alice.client.send_state_event(public, EventType.ROOM_POWER_LEVELS, levels)
    await bob.wait_for("his power level of 50", lambda: (
        ("m.room.power_levels", "") in bob.state[public]
        and bob.state[public][("m.room.power_levels", "")].content.get_user_level(bob.user_id)
        == 50
    ))

    # --- kick ---------------------------------------------------------------------------
    await alice.client.kick_user(public, bob.user_id, reason="cool down")
    await bob.wait_for("being kicked (room in leave)", lambda: bob.section.get(public) == "leave")
    kick = bob.of_type(public, "m.room.member")[-1]
    assert kick.state_key == bob.user_id
    assert kick.sender == alice.user_id
    assert kick.content.membership == Membership.LEAVE
    assert kick.content.reason == "cool down"
    await alice.wait_for("bob's kick",
                         lambda: alice.membership(public, bob.user_id) == Membership.LEAVE)

    # --- ban: bob comes back, is banned, and cannot rejoin --------------------------------
    assert await bob.client.join_room_by_id(public) == public
    await alice.wait_for("bob rejoining",
                         lambda: alice.membership(public, bob.user_id) == Membership.JOIN)
    await alice.client.ban_user(public, bob.user_id, reason="spam")
    await bob.wait_for("being banned", lambda: (
        bob.section.get(public) == "leave"
        and bob.membership(public, bob.user_id) == Membership.BAN
    ))
    with pytest.raises(MForbidden):
        await bob.client.join_room_by_id(public)

    # --- leave and forget ---------------------------------------------------------------
    await bob.client.leave_room(private, reason="bye")
    await alice.wait_for("bob leaving",
                         lambda: alice.membership(private, bob.user_id) == Membership.LEAVE)
    await bob.wait_for("the private room among left rooms",
                       lambda: bob.section.get(private) == "leave")
    await bob.client.forget_room(private)
    assert await bob.client.get_joined_rooms() == []
