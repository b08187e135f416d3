"""Relations, threads and bundled aggregations."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer

from .room_helpers import User, call, make_user, ok, q, send_message, shared_room

V1 = "/_matrix/client/v1"


async def v1(client: Any, path: str, user: User) -> tuple[int, Any]:
    response = await client.get(V1 + path, headers={"Authorization": f"Bearer {user.token}"})
    return response.status, await response.json()


async def v1_ok(client: Any, path: str, user: User) -> Any:
    status, body = await v1(client, path, user)
    assert status == 200, (status, body)
    return body


_txn = iter(range(10**6))


async def send(client: Any, user: User, room_id: str, content: dict,
               etype: str = "m.room.message") -> str:
    data = await ok(client, "PUT", f"/rooms/{q(room_id)}/send/{etype}/t{next(_txn)}", user,
                    content)
    return data["event_id"]


def reply_in_thread(root: str, body: str) -> dict:
    return {"msgtype": "m.text", "body": body,
            "m.relates_to": {"rel_type": "m.thread", "event_id": root}}


def edit_of(original: str, body: str) -> dict:
    return {"msgtype": "m.text", "body": f"* {body}",
            "m.new_content": {"msgtype": "m.text", "body": body},
            "m.relates_to": {"rel_type": "m.replace", "event_id": original}}


async def get_event(client: Any, user: User, room_id: str, event_id: str) -> dict:
    return await ok(client, "GET", f"/rooms/{q(room_id)}/event/{q(event_id)}", user)


async def setup(server: HomeServer, client: Any) -> tuple[User, User, str]:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await shared_room(client, alice, bob)
    return alice, bob, room_id


async def test_relations_lists_children_newest_first_with_filters(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    root = await send_message(client, alice, room_id, "root", "r")
    t1 = await send(client, bob, room_id, reply_in_thread(root, "one"))
    react = await send(client, bob, room_id, {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": root, "key": "👍"}}, "m.reaction")
    t2 = await send(client, alice, room_id, reply_in_thread(root, "two"))
    await send_message(client, alice, room_id, "unrelated", "u")
    base = f"/rooms/{q(room_id)}/relations/{q(root)}"
    data = await v1_ok(client, base, alice)
    assert [e["event_id"] for e in data["chunk"]] == [t2, react, t1]
    assert "recursion_depth" not in data
    threads = await v1_ok(client, base + "/m.thread", alice)
    assert [e["event_id"] for e in threads["chunk"]] == [t2, t1]
    reactions = await v1_ok(client, base + "/m.annotation/m.reaction", alice)
    assert [e["event_id"] for e in reactions["chunk"]] == [react]
    assert (await v1_ok(client, base + "/m.annotation/m.room.message", alice))["chunk"] == []
    forwards = await v1_ok(client, base + "?dir=f", alice)
    assert [e["event_id"] for e in forwards["chunk"]] == [t1, react, t2]


async def test_relations_paginate_with_next_batch(server: HomeServer, client: Any) -> None:
    alice, _, room_id = await setup(server, client)
    root = await send_message(client, alice, room_id, "root", "r")
    replies = [await send(client, alice, room_id, reply_in_thread(root, str(i)))
               for i in range(5)]
    base = f"/rooms/{q(room_id)}/relations/{q(root)}?limit=2"
    seen: list[str] = []
    token = None
    for _ in range(5):
        page = await v1_ok(client, base + (f"&from={token}" if token else ""), alice)
        seen += [e["event_id"] for e in page["chunk"]]
        token = page.get("next_batch")
        if token is None:
            break
    assert seen == list(reversed(replies))


async def test_relations_recurse_follows_relations_of_relations(
    server: HomeServer, client: Any
) -> None:
    alice, _, room_id = await setup(server, client)
    root = await send_message(client, alice, room_id, "root", "r")
    reply = await send(client, alice, room_id, reply_in_thread(root, "reply"))
    edit = await send(client, alice, room_id, edit_of(reply, "reply!"))
    base = f"/rooms/{q(room_id)}/relations/{q(root)}"
    flat = await v1_ok(client, base, alice)
    assert [e["event_id"] for e in flat["chunk"]] == [reply]
    deep = await v1_ok(client, base + "?recurse=true", alice)
    assert [e["event_id"] for e in deep["chunk"]] == [edit, reply]
    assert deep["recursion_depth"] == 2


async def test_relations_of_unseen_or_unknown_event_is_not_found(
    server: HomeServer, client: Any
) -> None:
    alice, _, room_id = await setup(server, client)
    eve = await make_user(server, "eve")
    root = await send_message(client, alice, room_id, "root", "r")
    status, body = await v1(client, f"/rooms/{q(room_id)}/relations/{q(root)}", eve)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    status, body = await v1(client, f"/rooms/{q(room_id)}/relations/%24nope", alice)
    assert (status, body["errcode"]) == (404, "M_NOT_FOUND")
    for query in ("?dir=x", "?from=abc", "?limit=-1"):
        status, body = await v1(client, f"/rooms/{q(room_id)}/relations/{q(root)}{query}", alice)
        assert (status, body["errcode"]) == (400, "M_INVALID_PARAM"), query


async def test_edit_is_bundled_as_latest_valid_replacement(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    original = await send_message(client, alice, room_id, "helo", "o")
    await send(client, alice, room_id, edit_of(original, "hello"))
    latest = await send(client, alice, room_id, edit_of(original, "hello!"))
    await send(client, bob, room_id, edit_of(original, "not alice's edit"))
    event = await get_event(client, alice, room_id, original)
    replacement = event["unsigned"]["m.relations"]["m.replace"]
    assert replacement["event_id"] == latest
    assert replacement["content"]["m.new_content"]["body"] == "hello!"
    assert event["content"]["body"] == "helo"  # the original content is left intact


async def test_redacted_edits_drop_out_and_redacted_original_has_no_bundle(
    server: HomeServer, client: Any
) -> None:
    alice, _, room_id = await setup(server, client)
    original = await send_message(client, alice, room_id, "helo", "o")
    first = await send(client, alice, room_id, edit_of(original, "hello"))
    second = await send(client, alice, room_id, edit_of(original, "hello!"))
    await ok(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(second)}/red1", alice, {})
    event = await get_event(client, alice, room_id, original)
    assert event["unsigned"]["m.relations"]["m.replace"]["event_id"] == first
    await ok(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(original)}/red2", alice, {})
    event = await get_event(client, alice, room_id, original)
    assert "m.relations" not in event["unsigned"]


async def test_thread_summary_and_references_are_bundled(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    root = await send_message(client, alice, room_id, "root", "r")
    await send(client, bob, room_id, reply_in_thread(root, "one"))
    last = await send(client, bob, room_id, reply_in_thread(root, "two"))
    ref = await send(client, bob, room_id, {"msgtype": "m.text", "body": "see",
                     "m.relates_to": {"rel_type": "m.reference", "event_id": root}})
    as_bob = (await get_event(client, bob, room_id, root))["unsigned"]["m.relations"]
    assert as_bob["m.thread"]["count"] == 2
    assert as_bob["m.thread"]["latest_event"]["event_id"] == last
    assert as_bob["m.thread"]["current_user_participated"] is True
    assert as_bob["m.reference"] == {"chunk": [{"event_id": ref}]}
    carol = await make_user(server, "carol")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", carol, {})
    as_carol = (await get_event(client, carol, room_id, root))["unsigned"]["m.relations"]
    assert as_carol["m.thread"]["current_user_participated"] is False


async def test_thread_from_an_event_with_a_relation_is_refused(
    server: HomeServer, client: Any
) -> None:
    alice, _, room_id = await setup(server, client)
    root = await send_message(client, alice, room_id, "root", "r")
    reply = await send(client, alice, room_id, reply_in_thread(root, "in thread"))
    status, body = await call(
        client, "PUT", f"/rooms/{q(room_id)}/send/m.room.message/bad", alice,
        reply_in_thread(reply, "nested"),
    )
    assert (status, body["errcode"]) == (400, "M_UNKNOWN")
    relations = await v1_ok(client, f"/rooms/{q(room_id)}/relations/{q(reply)}", alice)
    assert relations["chunk"] == []


async def test_threads_list_orders_by_activity_and_filters_participation(
    server: HomeServer, client: Any
) -> None:
    alice, bob, room_id = await setup(server, client)
    mine = await send_message(client, alice, room_id, "alice's thread", "a")
    theirs = await send_message(client, bob, room_id, "bob's thread", "b")
    await send(client, bob, room_id, reply_in_thread(theirs, "x"))
    await send(client, bob, room_id, reply_in_thread(mine, "y"))
    await send_message(client, bob, room_id, "no thread", "c")
    base = f"/rooms/{q(room_id)}/threads"
    everything = await v1_ok(client, base, alice)
    assert [e["event_id"] for e in everything["chunk"]] == [mine, theirs]
    assert everything["chunk"][0]["unsigned"]["m.relations"]["m.thread"]["count"] == 1
    participated = await v1_ok(client, base + "?include=participated", alice)
    assert [e["event_id"] for e in participated["chunk"]] == [mine]
    page1 = await v1_ok(client, base + "?limit=1", alice)
    assert [e["event_id"] for e in page1["chunk"]] == [mine]
    page2 = await v1_ok(client, base + f"?limit=1&from={page1['next_batch']}", alice)
    assert [e["event_id"] for e in page2["chunk"]] == [theirs]
    assert "next_batch" not in page2
    status, body = await v1(client, base + "?include=mine", alice)
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")


async def test_messages_pages_bundle_the_relations_of_their_events(
    server: HomeServer, client: Any
) -> None:
    # The page's read says which of its events have children; only those are bundled,
    # across page boundaries and whatever page the children fall on.
    alice, bob, room_id = await setup(server, client)
    edited = await send_message(client, alice, room_id, "helo", "e")
    root = await send_message(client, alice, room_id, "root", "r")
    plain = await send_message(client, alice, room_id, "plain", "p")
    edit = await send(client, alice, room_id, edit_of(edited, "hello"))
    for i in range(3):
        await send_message(client, bob, room_id, f"filler {i}", f"f{i}")
    reply = await send(client, bob, room_id, reply_in_thread(root, "in thread"))
    seen: dict[str, dict] = {}
    token = None
    while True:
        path = f"/rooms/{q(room_id)}/messages?dir=b&limit=3" + (f"&from={token}" if token else "")
        page = await ok(client, "GET", path, alice)
        seen |= {e["event_id"]: e for e in page["chunk"]}
        if "end" not in page:
            break
        token = page["end"]
    assert seen[edited]["unsigned"]["m.relations"]["m.replace"]["event_id"] == edit
    thread = seen[root]["unsigned"]["m.relations"]["m.thread"]
    assert (thread["count"], thread["latest_event"]["event_id"]) == (1, reply)
    assert "m.relations" not in seen[plain]["unsigned"]
    assert "m.relations" not in seen[edit]["unsigned"]
