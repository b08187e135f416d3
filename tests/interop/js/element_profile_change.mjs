// The matrix-js-sdk release inside the Element Web checked by hand (docs/ELEMENT_WEB.md),
// syncing with lazy-loaded members as Element does, sees a room member change their
// avatar: the timeline line of that change must carry the new avatar, as it does on
// Synapse.
//
// This js-sdk gives a timeline event the sender of the state before it, and keeps that
// sender after applying the event; so the line shows the new avatar only when /sync
// repeats the member event in `state` as well as in `timeline`, as Synapse does.
//
//   node element_profile_change.mjs --base-url http://127.0.0.1:8008 --server-name localhost:8008
//
// Prints the one-line JSON report of harness.mjs.

import * as sdk from "matrix-js-sdk-31";
import { equal, report, serverName, startUser, step, waitFor } from "./harness.mjs";

async function scenario() {
  const suffix = Math.random().toString(16).slice(2, 8);
  step("two lazy-loading clients in one room");
  const alice = await startUser(sdk, `elalice${suffix}`, { lazyLoadMembers: true });
  const bob = await startUser(sdk, `elbob${suffix}`, { lazyLoadMembers: true });
  try {
    const { room_id: roomId } = await alice.client.createRoom({ preset: sdk.Preset.PublicChat });
    await bob.client.joinRoom(roomId);
    await waitFor("alice", "bob joining", () => alice.membership(roomId, bob.userId) === "join");

    step("a profile change is drawn with the new avatar in both open sessions");
    const avatar = `mxc://${serverName}/alice${suffix}`;
    await alice.client.setAvatarUrl(avatar);
    for (const viewer of [alice, bob]) {
      const change = await waitFor(viewer.name, "alice's new avatar", () => viewer.seen.find(
        (e) => e.type === "m.room.member" && e.room_id === roomId
          && e.content?.avatar_url === avatar));
      const line = await waitFor(viewer.name, "the profile change in the timeline",
        () => viewer.client.getRoom(roomId)?.findEventById(change.event_id));
      equal(line.sender?.getMxcAvatarUrl(), avatar,
        `avatar of the profile change's sender, as ${viewer.name} draws it`);
    }
    step("done");
  } finally {
    alice.client.stopClient();
    bob.client.stopClient();
  }
}

await report(scenario);
