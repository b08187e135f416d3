// matrix-js-sdk (a real JavaScript client) against a running homeserver: two
// MatrixClients with their own sync loops go through the life of a room, and each
// step is checked by what the *other* client sees through /sync.
//
//   node scenario.mjs --base-url http://127.0.0.1:8008 --server-name localhost:8008
//
// Prints one JSON line on stdout: {"ok": true, "steps": [...]} or
// {"ok": false, "steps": [...passed...], "step": "...", "error": "..."}; exit code 0 or 1.
// SDK logs (warnings and errors only) go to stderr.

import * as sdk from "matrix-js-sdk";
import {
  assert, equal, report, serverName, startUser as startUserOf, step, waitFor,
} from "./harness.mjs";

const startUser = (localpart) => startUserOf(sdk, localpart);

async function scenario() {
  const suffix = Math.random().toString(16).slice(2, 8);
  step("register and start two clients");
  const alice = await startUser(`jsalice${suffix}`);
  const bob = await startUser(`jsbob${suffix}`);
  try {
    step("public room with an alias, joined by alias");
    const aliasLocal = `js${suffix}`;
    const { room_id: publicRoom } = await alice.client.createRoom({
      visibility: sdk.Visibility.Public, room_alias_name: aliasLocal, name: "Public square",
      topic: "Anyone may come", preset: sdk.Preset.PublicChat,
    });
    await bob.client.joinRoom(`#${aliasLocal}:${serverName}`);
    await waitFor("bob", "the public room's name and topic", () => {
      const room = bob.client.getRoom(publicRoom);
      return room?.name === "Public square"
        && room.currentState.getStateEvents("m.room.topic", "")?.getContent().topic
          === "Anyone may come";
    });
    await waitFor("alice", "bob joining", () => alice.membership(publicRoom, bob.userId) === "join");

    step("private room: invite, then join");
    const { room_id: privateRoom } = await alice.client.createRoom({
      name: "Back room", preset: sdk.Preset.PrivateChat,
    });
    await alice.client.invite(privateRoom, bob.userId);
    await waitFor("bob", "the invite", () =>
      bob.client.getRoom(privateRoom)?.getMyMembership() === "invite");
    await bob.client.joinRoom(privateRoom);
    await waitFor("alice", "bob accepting the invite",
      () => alice.membership(privateRoom, bob.userId) === "join");

    step("messages both ways");
    const { event_id: hello } = await alice.client.sendMessage(privateRoom,
      { msgtype: "m.text", body: "hello bob" });
    const seenHello = await waitFor("bob", "alice's message", () => bob.find(hello));
    equal(seenHello.content.body, "hello bob", "message body");
    equal(seenHello.sender, alice.userId, "message sender");
    const { event_id: answer } = await bob.client.sendMessage(privateRoom,
      { msgtype: "m.text", body: "hi alice" });
    await waitFor("alice", "bob's answer", () => alice.find(answer));

    step("edit (m.replace)");
    const { event_id: edit } = await alice.client.sendMessage(privateRoom, {
      msgtype: "m.text", body: "* hello Bob",
      "m.new_content": { msgtype: "m.text", body: "hello Bob" },
      "m.relates_to": { rel_type: "m.replace", event_id: hello },
    });
    const seenEdit = await waitFor("bob", "the edit", () => bob.find(edit));
    equal(seenEdit.content["m.relates_to"], { rel_type: "m.replace", event_id: hello },
      "edit relation");
    await waitFor("bob", "the edit applied to the original", () =>
      bob.client.getRoom(privateRoom)?.findEventById(hello)?.getContent().body === "hello Bob");

    step("reaction (m.annotation)");
    const { event_id: reaction } = await bob.client.sendEvent(privateRoom, "m.reaction", {
      "m.relates_to": { rel_type: "m.annotation", event_id: hello, key: "👍" },
    });
    const seenReaction = await waitFor("alice", "bob's reaction", () => alice.find(reaction));
    equal(seenReaction.content["m.relates_to"].key, "👍", "reaction key");

    step("reply in a thread (m.thread)");
    const { event_id: inThread } = await bob.client.sendMessage(privateRoom, answer, {
      msgtype: "m.text", body: "replying in a thread",
    });
    const seenThread = await waitFor("alice", "the thread reply", () => alice.find(inThread));
    equal(seenThread.content["m.relates_to"]?.rel_type, "m.thread", "thread relation");
    equal(seenThread.content["m.relates_to"]?.event_id, answer, "thread root");
    const root = await alice.client.fetchRoomEvent(privateRoom, answer);
    const summary = root.unsigned?.["m.relations"]?.["m.thread"];
    assert(summary, `no m.thread summary on the thread root: ${JSON.stringify(root)}`);
    equal(summary.count, 1, "thread summary count");
    equal(summary.latest_event?.event_id, inThread, "thread summary latest_event");

    step("redaction");
    const { event_id: redaction } = await alice.client.redactEvent(privateRoom, hello,
      undefined, { reason: "typo" });
    const seenRedaction = await waitFor("bob", "the redaction", () => bob.find(redaction));
    assert([seenRedaction.redacts, seenRedaction.content?.redacts].includes(hello),
      `redaction does not name ${hello}: ${JSON.stringify(seenRedaction)}`);
    await waitFor("bob", "the original redacted", () =>
      bob.client.getRoom(privateRoom)?.findEventById(hello)?.isRedacted());
    const redacted = await bob.client.fetchRoomEvent(privateRoom, hello);
    equal(redacted.content, {}, "content of the redacted event from the server");

    step("history, paginated backwards");
    const sent = [];
    for (let i = 0; i < 12; i++) {
      sent.push((await alice.client.sendMessage(privateRoom,
        { msgtype: "m.text", body: `history ${i}` })).event_id);
    }
    await waitFor("bob", "the last history message", () => bob.find(sent[sent.length - 1]));
    const older = [];
    let from = null; // no `from`: the spec's "start from the end of the timeline"
    for (let page = 0; page < 10; page++) {
      const res = await bob.client.createMessagesRequest(privateRoom, from, 5,
        sdk.Direction.Backward);
      assert(res.chunk.length <= 5, `page of ${res.chunk.length} events for limit 5`);
      older.push(...res.chunk.map((e) => e.event_id));
      if (!res.end || res.chunk.length === 0) break;
      from = res.end;
    }
    equal(older.filter((id) => sent.includes(id)), [...sent].reverse(),
      "history messages paginated backwards");
    assert(older.includes(hello), "pagination did not reach the start of the conversation");

    step("typing notifications");
    await bob.client.sendTyping(privateRoom, true, 20000);
    await waitFor("alice", "bob typing", () =>
      alice.client.getRoom(privateRoom)?.getMember(bob.userId)?.typing === true);
    await bob.client.sendTyping(privateRoom, false, 0);
    await waitFor("alice", "bob no longer typing", () =>
      alice.client.getRoom(privateRoom)?.getMember(bob.userId)?.typing === false);

    step("read receipts");
    const last = sent[sent.length - 1];
    const lastEvent = await waitFor("alice", "her last message",
      () => alice.client.getRoom(privateRoom)?.findEventById(last));
    await alice.client.sendReceipt(lastEvent, sdk.ReceiptType.Read, {}, true);
    await waitFor("bob", "alice's read receipt", () =>
      bob.client.getRoom(privateRoom)?.getReadReceiptForUserId(alice.userId, true)?.eventId
        === last);

    step("power levels");
    await alice.client.setPowerLevel(publicRoom, bob.userId, 50);
    await waitFor("bob", "his power level of 50", () =>
      bob.client.getRoom(publicRoom)?.getMember(bob.userId)?.powerLevel === 50);

    step("kick");
    await alice.client.kick(publicRoom, bob.userId, "cool down");
    await waitFor("bob", "being kicked", () =>
      bob.client.getRoom(publicRoom)?.getMyMembership() === "leave");
    const kick = bob.client.getRoom(publicRoom).currentState
      .getStateEvents("m.room.member", bob.userId);
    equal(kick.getSender(), alice.userId, "kick sender");
    equal(kick.getContent().reason, "cool down", "kick reason");
    await waitFor("alice", "bob's kick", () => alice.membership(publicRoom, bob.userId) === "leave");

    step("ban: rejoin, banned, cannot rejoin");
    await bob.client.joinRoom(publicRoom);
    await waitFor("alice", "bob rejoining", () => alice.membership(publicRoom, bob.userId) === "join");
    await alice.client.ban(publicRoom, bob.userId, "spam");
    await waitFor("bob", "being banned", () =>
      bob.client.getRoom(publicRoom)?.getMyMembership() === "ban");
    let refused = null;
    try {
      await bob.client.joinRoom(publicRoom);
    } catch (e) {
      refused = e;
    }
    assert(refused, "a banned user could rejoin");
    equal(refused.errcode, "M_FORBIDDEN", "errcode of a banned user's join");

    step("leave and forget");
    await bob.client.leave(privateRoom);
    await waitFor("alice", "bob leaving", () => alice.membership(privateRoom, bob.userId) === "leave");
    await waitFor("bob", "the private room as left", () =>
      bob.client.getRoom(privateRoom)?.getMyMembership() === "leave");
    await bob.client.forget(privateRoom);
    step("done");
  } finally {
    alice.client.stopClient();
    bob.client.stopClient();
  }
}

await report(scenario);
