// End-to-end encryption with matrix-js-sdk and its Rust crypto against a running
// homeserver: Megolm messages between two users, cross-signing, secret storage and
// key backup, a second device verified by emoji SAS that gets the backup key and
// reads history from before it existed. The server only ever relays ciphertext.
//
//   node crypto_scenario.mjs --base-url http://127.0.0.1:8008
//
// Prints one JSON line on stdout (see Steps in crypto_client.mjs); exit code 0 or 1.

import { parseArgs } from "node:util";
import * as sdk from "matrix-js-sdk";
import {
  Steps, assert, decrypted, login, passwordUia, register, startCryptoClient, waitFor,
} from "./crypto_client.mjs";
import { verifyOwnDevicesWithSas } from "./sas_verification.mjs";

const { values: args } = parseArgs({ options: { "base-url": { type: "string" } } });
const baseUrl = args["base-url"];
const MEGOLM = "m.megolm.v1.aes-sha2";

/** Send `body` to `roomId`; return the event ID and the Megolm session that carried it. */
async function sendEncrypted(client, roomId, body) {
  const { event_id: eventId } = await client.sendMessage(roomId, { msgtype: "m.text", body });
  const event = await waitFor(`${eventId} in the sender's timeline`,
    () => client.getRoom(roomId)?.findEventById(eventId));
  const wire = event.getWireContent();
  assert(event.getWireType() === "m.room.encrypted" && wire.algorithm === MEGOLM,
    `sent as ${event.getWireType()} ${JSON.stringify(wire)}`);
  return { eventId, sessionId: wire.session_id };
}

async function expectMessage(client, roomId, eventId, body, sender) {
  const event = await decrypted(client, roomId, eventId);
  assert(event.getWireType() === "m.room.encrypted", `arrived as ${event.getWireType()}`);
  assert(event.getContent().body === body,
    `decrypted body ${JSON.stringify(event.getContent().body)}, expected ${JSON.stringify(body)}`);
  assert(event.getSender() === sender, `sender ${event.getSender()}, expected ${sender}`);
}

/** The session IDs the server's current backup holds for `roomId`, with their data. */
async function backedUpSessions(client, version, roomId) {
  const keys = await client.http.authedRequest(sdk.Method.Get, "/room_keys/keys", { version });
  return keys.rooms?.[roomId]?.sessions ?? {};
}

/** The public master key of `userId` as `client` knows it (from /keys/query). */
async function masterKeySeenBy(client, userId) {
  const keys = await client.getCrypto().getUserCrossSigningKeys(userId);
  return keys?.master_key ? Object.values(keys.master_key.keys)[0] : null;
}

async function scenario(steps) {
  const suffix = Math.random().toString(16).slice(2, 8);
  const clients = [];
  let recoveryKey = null;
  try {
    steps.step("register alice and bob; Rust crypto uploads their device keys");
    const aliceCreds = await register(baseUrl, `cryptoalice${suffix}`);
    const bobCreds = await register(baseUrl, `cryptobob${suffix}`);
    const alice = await startCryptoClient(baseUrl, aliceCreds, () => recoveryKey?.privateKey);
    const bob = await startCryptoClient(baseUrl, bobCreds);
    clients.push(alice, bob);
    const aliceId = aliceCreds.user_id;
    const bobId = bobCreds.user_id;
    const devices = await bob.getCrypto().getUserDeviceInfo([aliceId], true);
    assert(devices.get(aliceId)?.has(aliceCreds.device_id),
      `bob cannot see alice's device keys: ${JSON.stringify([...devices.get(aliceId) ?? []])}`);

    steps.step("encrypted room: created with m.room.encryption, bob invited and joined");
    const { room_id: roomId } = await alice.createRoom({
      preset: sdk.Preset.PrivateChat, name: "Secrets",
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: MEGOLM } }],
    });
    await alice.invite(roomId, bobId);
    await waitFor("bob to see the invite", () => bob.getRoom(roomId)?.getMyMembership() === "invite");
    await bob.joinRoom(roomId);
    await waitFor("alice to see bob join",
      () => alice.getRoom(roomId)?.getMember(bobId)?.membership === "join");
    for (const client of [alice, bob]) {
      await waitFor(`${client.getUserId()} to know the room is encrypted`,
        () => client.getCrypto().isEncryptionEnabledInRoom(roomId));
    }

    steps.step("megolm messages both ways, each decrypted by the other");
    const beforeSecondDevice = "sent before alice's second device existed";
    const first = await sendEncrypted(alice, roomId, beforeSecondDevice);
    await expectMessage(bob, roomId, first.eventId, beforeSecondDevice, aliceId);
    const reply = await sendEncrypted(bob, roomId, "bob's encrypted answer");
    await expectMessage(alice, roomId, reply.eventId, "bob's encrypted answer", bobId);

    steps.step("alice bootstraps cross-signing; bob sees her master key");
    const crypto = alice.getCrypto();
    const uiaStages = [];
    await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordUia(aliceId, uiaStages) });
    assert(await crypto.isCrossSigningReady(), "cross-signing is not ready after bootstrap");
    const master = await crypto.getCrossSigningKeyId();
    await waitFor("bob to see alice's master key", async () =>
      await masterKeySeenBy(bob, aliceId) === master);

    steps.step("alice bootstraps secret storage with a recovery key and a new key backup");
    recoveryKey = await crypto.createRecoveryKeyFromPassphrase();
    await crypto.bootstrapSecretStorage({
      createSecretStorageKey: async () => recoveryKey,
      setupNewSecretStorage: true,
      setupNewKeyBackup: true,
    });
    assert(await crypto.isSecretStorageReady(), "secret storage is not ready after bootstrap");
    const check = await crypto.checkKeyBackupAndEnable();
    const version = check?.backupInfo?.version;
    assert(version && check.trustInfo.trusted, `backup not trusted: ${JSON.stringify(check)}`);
    assert(await crypto.getActiveSessionBackupVersion() === version, "backup not active");
    steps.summary.backup_version = version;

    steps.step("alice's room keys are uploaded to the backup, encrypted");
    const sessions = await waitFor("alice's Megolm session in the server's backup",
      async () => {
        const held = await backedUpSessions(alice, version, roomId);
        return held[first.sessionId] && held[reply.sessionId] ? held : null;
      });
    const data = sessions[first.sessionId].session_data;
    assert(data.ciphertext && data.ephemeral && data.mac && !("session_key" in data),
      `backed-up session data is not encrypted: ${JSON.stringify(data)}`);
    steps.summary.backed_up_sessions = Object.keys(sessions).length;

    steps.step("alice's second device logs in and cannot read the earlier message");
    const secondCreds = await login(baseUrl, aliceId, "second device");
    assert(secondCreds.device_id !== aliceCreds.device_id, "login reused the first device");
    // No secret-storage key: the backup key has to come from the other device.
    const second = await startCryptoClient(baseUrl, secondCreds);
    clients.push(second);
    const undecryptable = await waitFor("the earlier message to fail decryption", () => {
      const event = second.getRoom(roomId)?.findEventById(first.eventId);
      return event && !event.isBeingDecrypted() && event.isDecryptionFailure() ? event : null;
    });
    steps.summary.before_restore = undecryptable.decryptionFailureReason;

    steps.step("the two devices verify each other with emoji SAS");
    steps.summary.emojis = await verifyOwnDevicesWithSas(alice, second);
    await waitFor("the first device to trust the second through cross-signing", async () =>
      (await crypto.getDeviceVerificationStatus(aliceId, secondCreds.device_id))
        ?.crossSigningVerified);
    await waitFor("the second device to trust the first through cross-signing", async () =>
      (await second.getCrypto().getDeviceVerificationStatus(aliceId, aliceCreds.device_id))
        ?.crossSigningVerified);

    steps.step("the second device receives the backup key by secret gossip");
    const secondCrypto = second.getCrypto();
    await waitFor("the backup key on the second device",
      () => secondCrypto.getSessionBackupPrivateKey());
    await secondCrypto.checkKeyBackupAndEnable();
    steps.summary.backup_key_source = "secret gossip";

    steps.step("the second device restores the backup and reads the earlier message");
    const restored = await secondCrypto.restoreKeyBackup();
    assert(restored.total >= 2, `restored ${JSON.stringify(restored)}`);
    steps.summary.restored = restored;
    await expectMessage(second, roomId, first.eventId, beforeSecondDevice, aliceId);

    steps.step("bob decrypts a message from alice's second device");
    const fromSecond = await sendEncrypted(second, roomId, "hello from my second device");
    await expectMessage(bob, roomId, fromSecond.eventId, "hello from my second device", aliceId);

    // Last, because the new private keys are only kept if no /keys/query answer (from
    // the sync loop, with the old master key) lands during the UIA round trip.
    steps.step("replacing alice's cross-signing keys demands her password (UIA)");
    await crypto.bootstrapCrossSigning({
      setupNewCrossSigning: true, authUploadDeviceSigningKeys: passwordUia(aliceId, uiaStages),
    });
    assert(uiaStages.includes("m.login.password"),
      `replacing the cross-signing keys did not ask for the password: ${uiaStages}`);
    steps.summary.uia_stages = uiaStages;
    await waitFor("bob to see alice's new master key", async () => {
      const seen = await masterKeySeenBy(bob, aliceId);
      return seen && seen !== master;
    });
  } finally {
    for (const client of clients) client.stopClient();
  }
}

await new Steps().run(scenario);
