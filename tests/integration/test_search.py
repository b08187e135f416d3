"""POST /search: full-text search over room events on both engines — ranking and recent
order, pagination, groupings, context, state, keys and filters, history visibility,
and the errors of bad requests."""

from __future__ import annotations

from typing import Any

from ranvier.server import HomeServer
from tests.integration.room_helpers import (
    User,
    call,
    create_room,
    make_user,
    ok,
    q,
    send_message,
    shared_room,
)

_txn = iter(range(10**6))


async def say(client: Any, user: User, room_id: str, body: str) -> str:
    return await send_message(client, user, room_id, body, f"s{next(_txn)}")


async def search(client: Any, user: User, criteria: dict, next_batch: str | None = None
                 ) -> dict:
    path = "/search" + (f"?next_batch={q(next_batch)}" if next_batch else "")
    data = await ok(client, "POST", path, user, {"search_categories": {"room_events": criteria}})
    return data["search_categories"]["room_events"]


def ids(result: dict) -> list[str]:
    return [r["result"]["event_id"] for r in result["results"]]


async def test_finds_messages_by_word_prefix_and_stem(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    hit = await say(client, alice, room_id, "The Martians are landing")
    await say(client, alice, room_id, "nothing to see here")
    for term in ("martians", "MARTIAN", "mart", "martians landing"):
        found = await search(client, alice, {"search_term": term})
        assert ids(found) == [hit], term
        assert found["count"] == 1
        assert found["results"][0]["result"]["content"]["body"] == "The Martians are landing"
        assert "next_batch" not in found
    assert ids(await search(client, alice, {"search_term": "martians venus"})) == []


async def test_highlights_name_the_matched_words(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    await say(client, alice, room_id, "Martians invade")
    found = await search(client, alice, {"search_term": "marti"})
    assert set(found["highlights"]) == {"marti", "martians"}


async def test_recent_order_is_newest_first(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    sent = [await say(client, alice, room_id, f"cake number {i}") for i in range(3)]
    found = await search(client, alice, {"search_term": "cake", "order_by": "recent"})
    assert ids(found) == sent[::-1]


async def test_rank_order_puts_the_better_match_first(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    weak = await say(client, alice, room_id,
                     "we talked about many things today, the weather, trains, and some cake")
    strong = await say(client, alice, room_id, "cake cake cake")
    found = await search(client, alice, {"search_term": "cake"})  # rank is the default
    assert ids(found) == [strong, weak]
    assert found["results"][0]["rank"] > found["results"][1]["rank"]


async def test_recent_pagination_walks_every_match_once(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    sent = [await say(client, alice, room_id, f"pancake {i}") for i in range(5)]
    criteria = {"search_term": "pancake", "order_by": "recent", "filter": {"limit": 2}}
    pages: list[list[str]] = []
    token = None
    while True:
        found = await search(client, alice, criteria, token)
        pages.append(ids(found))
        assert found["count"] == 5
        token = found.get("next_batch")
        if token is None:
            break
    assert [len(p) for p in pages if p] == [2, 2, 1]
    assert [e for p in pages for e in p] == sent[::-1]


async def test_rank_pagination_walks_every_match_once(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    sent = {await say(client, alice, room_id, "waffle " * (i + 1)) for i in range(5)}
    criteria = {"search_term": "waffle", "filter": {"limit": 3}}
    first = await search(client, alice, criteria)
    second = await search(client, alice, criteria, first["next_batch"])
    assert len(ids(first)) == 3 and len(ids(second)) == 2
    assert set(ids(first)) | set(ids(second)) == sent
    assert "next_batch" not in second


async def test_a_token_of_the_other_order_is_refused(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    for i in range(3):
        await say(client, alice, room_id, f"scone {i}")
    first = await search(client, alice, {"search_term": "scone", "filter": {"limit": 1}})
    status, body = await call(
        client, "POST", f"/search?next_batch={q(first['next_batch'])}", alice,
        {"search_categories": {"room_events": {"search_term": "scone", "order_by": "recent"}}},
    )
    assert (status, body["errcode"]) == (400, "M_INVALID_PARAM")


async def test_groupings_by_room_and_sender(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_a = await shared_room(client, alice, bob)
    room_b = await shared_room(client, alice)
    a1 = await say(client, alice, room_a, "muffin one")
    b1 = await say(client, bob, room_a, "muffin two")
    a2 = await say(client, alice, room_b, "muffin three")
    found = await search(client, alice, {
        "search_term": "muffin", "order_by": "recent",
        "groupings": {"group_by": [{"key": "room_id"}, {"key": "sender"}]},
    })
    by_room = found["groups"]["room_id"]
    assert by_room[room_b]["results"] == [a2] and by_room[room_b]["order"] == 1
    assert by_room[room_a]["results"] == [b1, a1] and by_room[room_a]["order"] == 2
    by_sender = found["groups"]["sender"]
    assert by_sender[alice.user_id]["results"] == [a2, a1]
    assert by_sender[bob.user_id]["results"] == [b1]


async def test_a_group_token_pages_within_its_group(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_a = await shared_room(client, alice)
    room_b = await shared_room(client, alice)
    in_a = [await say(client, alice, room_a, f"bagel a{i}") for i in range(3)]
    await say(client, alice, room_b, "bagel b")
    criteria = {"search_term": "bagel", "order_by": "recent", "filter": {"limit": 1},
                "groupings": {"group_by": [{"key": "room_id"}]}}
    first = await search(client, alice, criteria)  # the newest match is in room B
    assert [r["result"]["room_id"] for r in first["results"]] == [room_b]
    rest_of_b = await search(
        client, alice, criteria, first["groups"]["room_id"][room_b]["next_batch"]
    )
    assert rest_of_b["results"] == []
    first_in_a = await search(
        client, alice, {**criteria, "filter": {"limit": 1, "rooms": [room_a]}}
    )
    assert ids(first_in_a) == [in_a[2]]
    token_a = first_in_a["groups"]["room_id"][room_a]["next_batch"]
    walked = []
    while token_a:
        page = await search(client, alice, criteria, token_a)
        walked += ids(page)
        token_a = page.get("next_batch")
    assert walked == [in_a[1], in_a[0]]


async def test_event_context_and_profiles(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await shared_room(client, alice, bob)
    await ok(client, "PUT", f"/profile/{q(bob.user_id)}/displayname", bob,
             {"displayname": "Bobby"})
    before = [await say(client, alice, room_id, f"before {i}") for i in range(3)]
    hit = await say(client, bob, room_id, "the crumpet")
    after = [await say(client, alice, room_id, f"after {i}") for i in range(3)]
    found = await search(client, alice, {
        "search_term": "crumpet",
        "event_context": {"before_limit": 2, "after_limit": 1, "include_profile": True},
    })
    assert ids(found) == [hit]
    context = found["results"][0]["context"]
    assert [e["event_id"] for e in context["events_before"]] == before[:0:-1]
    assert [e["event_id"] for e in context["events_after"]] == after[:1]
    assert context["profile_info"][bob.user_id]["displayname"] == "Bobby"
    assert alice.user_id in context["profile_info"]
    # The tokens continue /messages around the result.
    older = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=b&limit=1"
                     f"&from={q(context['start'])}", alice)
    assert [e["event_id"] for e in older["chunk"]] == [before[0]]
    newer = await ok(client, "GET", f"/rooms/{q(room_id)}/messages?dir=f&limit=1"
                     f"&from={q(context['end'])}", alice)
    assert [e["event_id"] for e in newer["chunk"]] == [after[1]]


async def test_include_state_gives_each_result_rooms_state(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    await say(client, alice, room_id, "teacake")
    found = await search(client, alice, {"search_term": "teacake", "include_state": True})
    types = {e["type"] for e in found["state"][room_id]}
    assert {"m.room.create", "m.room.member", "m.room.join_rules"} <= types


async def test_keys_choose_names_and_topics(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice, name="Biscuit club", topic="all about scones")
    message = await say(client, alice, room_id, "biscuit scones")
    names = await search(client, alice, {"search_term": "biscuit", "keys": ["content.name"]})
    assert [r["result"]["type"] for r in names["results"]] == ["m.room.name"]
    topics = await search(client, alice, {"search_term": "scones", "keys": ["content.topic"]})
    assert [r["result"]["type"] for r in topics["results"]] == ["m.room.topic"]
    bodies = await search(client, alice, {"search_term": "scones", "keys": ["content.body"]})
    assert ids(bodies) == [message]
    everything = await search(client, alice, {"search_term": "scones"})
    assert len(everything["results"]) == 2


async def test_rich_topic_text_is_searched(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await create_room(client, alice)
    await ok(client, "PUT", f"/rooms/{q(room_id)}/state/m.room.topic", alice, {
        "topic": "plain",
        "m.topic": {"m.text": [{"mimetype": "text/html", "body": "<b>htmlonly</b>"},
                               {"body": "flapjack"}]},
    })
    assert len((await search(client, alice, {"search_term": "flapjack"}))["results"]) == 1
    assert (await search(client, alice, {"search_term": "htmlonly"}))["results"] == []


async def test_filter_narrows_rooms_and_senders(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_a = await shared_room(client, alice, bob)
    room_b = await shared_room(client, alice)
    from_bob = await say(client, bob, room_a, "brownie by bob")
    from_alice = await say(client, alice, room_a, "brownie by alice")
    in_b = await say(client, alice, room_b, "brownie elsewhere")
    base = {"search_term": "brownie", "order_by": "recent"}
    assert ids(await search(client, alice, {**base, "filter": {"rooms": [room_b]}})) == [in_b]
    assert ids(await search(client, alice, {**base, "filter": {"not_rooms": [room_b]}})) == [
        from_alice, from_bob]
    assert ids(await search(client, alice, {**base, "filter": {"senders": [bob.user_id]}})) == [
        from_bob]
    assert ids(await search(
        client, alice, {**base, "filter": {"not_senders": [bob.user_id], "rooms": [room_a]}}
    )) == [from_alice]
    assert ids(await search(client, alice, {**base, "filter": {"types": ["m.room.name"]}})) == []


async def test_rooms_never_joined_are_not_searched(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    eve = await make_user(server, "eve")
    room_id = await shared_room(client, alice)
    await say(client, alice, room_id, "secret strudel")
    found = await search(client, eve, {"search_term": "strudel"})
    assert found["results"] == [] and found["count"] == 0


async def test_history_before_joining_a_joined_only_room_is_hidden(
    server: HomeServer, client: Any
) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await create_room(client, alice, preset="public_chat", initial_state=[
        {"type": "m.room.history_visibility", "content": {"history_visibility": "joined"}},
    ])
    await say(client, alice, room_id, "early eclair")
    await ok(client, "POST", f"/rooms/{q(room_id)}/join", bob, {})
    later = await say(client, alice, room_id, "later eclair")
    assert ids(await search(client, bob, {"search_term": "eclair"})) == [later]
    assert len(ids(await search(client, alice, {"search_term": "eclair"}))) == 2


async def test_messages_after_leaving_are_hidden(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    bob = await make_user(server, "bob")
    room_id = await shared_room(client, alice, bob)
    seen = await say(client, alice, room_id, "donut while bob is here")
    await ok(client, "POST", f"/rooms/{q(room_id)}/leave", bob, {})
    await say(client, alice, room_id, "donut after bob left")
    assert ids(await search(client, bob, {"search_term": "donut"})) == [seen]


async def test_redacted_messages_are_not_found(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    gone = await say(client, alice, room_id, "embarrassing typo")
    await ok(client, "PUT", f"/rooms/{q(room_id)}/redact/{q(gone)}/r1", alice, {})
    assert (await search(client, alice, {"search_term": "embarrassing"}))["results"] == []


async def test_no_category_gives_no_results(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    data = await ok(client, "POST", "/search", alice, {"search_categories": {}})
    assert data == {"search_categories": {}}


async def test_bad_requests_are_refused(server: HomeServer, client: Any) -> None:
    alice = await make_user(server, "alice")
    cases = [
        ({}, "M_MISSING_PARAM"),
        ({"search_categories": {"room_events": {}}}, "M_MISSING_PARAM"),
        ({"search_categories": {"room_events": {"search_term": 5}}}, "M_BAD_JSON"),
    ]
    room_events: list[tuple[dict, str]] = [
        ({"order_by": "oldest"}, "M_INVALID_PARAM"),
        ({"keys": ["content.url"]}, "M_INVALID_PARAM"),
        ({"groupings": {"group_by": [{"key": "type"}]}}, "M_INVALID_PARAM"),
        ({"event_context": {"before_limit": -1}}, "M_INVALID_PARAM"),
        ({"event_context": {"after_limit": "5"}}, "M_BAD_JSON"),
        ({"filter": {"limit": "ten"}}, "M_BAD_JSON"),
        ({"filter": {"rooms": "!a:b"}}, "M_BAD_JSON"),
    ]
    for extra, errcode in room_events:
        body = {"search_categories": {"room_events": {"search_term": "x", **extra}}}
        cases.append((body, errcode))
    for body, errcode in cases:
        status, data = await call(client, "POST", "/search", alice, body)
        assert (status, data["errcode"]) == (400, errcode), (body, data)
        assert "error" in data
    status, data = await call(
        client, "POST", "/search?next_batch=not-a-token", alice,
        {"search_categories": {"room_events": {"search_term": "x"}}},
    )
    assert (status, data["errcode"]) == (400, "M_INVALID_PARAM")
    status, data = await call(client, "POST", "/search", None, {"search_categories": {}})
    assert (status, data["errcode"]) == (401, "M_MISSING_TOKEN")


async def test_pending_text_moves_into_the_index_in_batches_and_before_a_query(
    server: HomeServer, client: Any, monkeypatch: Any
) -> None:
    if server.db.engine != "sqlite":
        return  # PostgreSQL indexes each event in the events' transaction
    monkeypatch.setattr("ranvier.storage.search.FLUSH_EVERY", 5)
    alice = await make_user(server, "alice")
    room_id = await shared_room(client, alice)
    await server.stores.search._index_pending()  # the room's name/topic, if any
    for i in range(4):
        await say(client, alice, room_id, f"pending {i}")
    assert await server.db.fetchval("SELECT count(*) FROM event_search_pending") == 4
    await say(client, alice, room_id, "pending 4")  # the fifth: the batch moves
    assert await server.db.fetchval("SELECT count(*) FROM event_search_pending") == 0
    hit = await say(client, alice, room_id, "straggler")
    assert ids(await search(client, alice, {"search_term": "straggler"})) == [hit]
    assert await server.db.fetchval("SELECT count(*) FROM event_search_pending") == 0
    assert len(ids(await search(client, alice, {"search_term": "pending"}))) == 5
