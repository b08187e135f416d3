// Emoji SAS verification (m.sas.v1) between two devices of one user, each driven by
// its own matrix-js-sdk client, over to-device messages through the homeserver.

import {
  CryptoEvent, VerificationPhase, VerifierEvent,
} from "matrix-js-sdk/lib/crypto-api/index.js";
import { assert, waitFor, within } from "./crypto_client.mjs";

/** The ShowSas callbacks `verifier` emits once the keys are exchanged. */
function sasShown(verifier) {
  return new Promise((resolve) => verifier.once(VerifierEvent.ShowSas, resolve));
}

/**
 * `newDevice` asks for verification of its own user; `existingDevice` accepts; the
 * new device starts SAS; each side compares the emojis it shows with the other's
 * (a human would compare the two screens) and confirms. Returns the emoji names.
 */
export async function verifyOwnDevicesWithSas(existingDevice, newDevice) {
  const incoming = new Promise((resolve) => {
    existingDevice.on(CryptoEvent.VerificationRequestReceived, resolve);
  });
  // As for a person, the new device shows up on the existing one before it asks: Rust
  // crypto ignores a request from a device whose keys it has not fetched yet.
  const userId = newDevice.getUserId();
  await waitFor("the existing device to know the new one", async () =>
    (await existingDevice.getCrypto().getUserDeviceInfo([userId], true))
      .get(userId)?.has(newDevice.getDeviceId()));
  const requested = await newDevice.getCrypto().requestOwnUserVerification();
  const received = await within(incoming, "the request on the existing device");
  assert(received.isSelfVerification, "the request is not a self-verification");
  assert(received.otherDeviceId === newDevice.getDeviceId(),
    `request from ${received.otherDeviceId}, not the new device ${newDevice.getDeviceId()}`);
  await received.accept();
  await waitFor("the request to be ready on the new device",
    () => requested.phase === VerificationPhase.Ready);

  const newVerifier = await requested.startVerification("m.sas.v1");
  const existingVerifier = await waitFor("SAS to start on the existing device",
    () => received.phase === VerificationPhase.Started && received.verifier);
  const shown = [sasShown(newVerifier), sasShown(existingVerifier)];
  const done = [newVerifier.verify(), existingVerifier.verify()];
  const [newSas, existingSas] = await within(Promise.all(shown), "both devices to show emojis");
  const emojis = newSas.sas.emoji?.map(([, name]) => name);
  const otherEmojis = existingSas.sas.emoji?.map(([, name]) => name);
  assert(emojis?.length === 7, `expected 7 emojis, got ${JSON.stringify(newSas.sas)}`);
  assert(JSON.stringify(emojis) === JSON.stringify(otherEmojis),
    `the devices show different emojis: ${emojis} vs ${otherEmojis}`);
  await Promise.all([newSas.confirm(), existingSas.confirm()]);
  await within(Promise.all(done), "both verifiers to finish");
  await waitFor("both requests to be done", () =>
    requested.phase === VerificationPhase.Done && received.phase === VerificationPhase.Done);
  return emojis;
}
