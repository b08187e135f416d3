// What the matrix-js-sdk scripts share: arguments, steps with a JSON report, polling
// a client's model, and registered syncing users. The SDK module is passed in, so a
// script may run another matrix-js-sdk release (only one may be loaded per process).

import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: { "base-url": { type: "string" }, "server-name": { type: "string" } },
});
export const baseUrl = args["base-url"];
export const serverName = args["server-name"];
const WAIT_MS = 15000;
const PASSWORD = "correct horse battery staple";

const quietLogger = {
  trace() {}, debug() {}, info() {},
  warn: (...a) => console.error("[sdk warn]", ...a),
  error: (...a) => console.error("[sdk error]", ...a),
  getChild() { return quietLogger; },
};

const steps = [];
let currentStep = "start";

export function step(name) {
  if (currentStep !== "start") steps.push(currentStep);
  currentStep = name;
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  assert(a === e, `${what}: expected ${e}, got ${a}`);
}

/** Poll `predicate` (the client's model is updated by its own sync loop). */
export async function waitFor(who, what, predicate) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const result = predicate();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`${who} never saw ${what} through /sync`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A registered, syncing user of `sdk`; `seen` keeps every raw event its syncs
 * delivered. `lazyLoadMembers` syncs with lazy-loaded members, as Element does. */
export async function startUser(sdk, localpart, { lazyLoadMembers = false } = {}) {
  const anonymous = sdk.createClient({ baseUrl, logger: quietLogger });
  const reg = await anonymous.registerRequest({
    username: localpart, password: PASSWORD, auth: { type: "m.login.dummy" },
  });
  assert(reg.access_token, `register ${localpart} gave no access_token`);
  const client = sdk.createClient({
    baseUrl, accessToken: reg.access_token, userId: reg.user_id, deviceId: reg.device_id,
    logger: quietLogger,
  });
  const seen = [];
  client.on(sdk.ClientEvent.Event, (event) => {
    seen.push(structuredClone(event.event));
  });
  const prepared = new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === "PREPARED") resolve();
      if (state === "ERROR") reject(data?.error ?? new Error("sync error"));
    });
  });
  await client.startClient({ initialSyncLimit: 30, threadSupport: false, lazyLoadMembers });
  await prepared;
  return {
    client, seen, userId: reg.user_id, name: localpart,
    find(eventId) { return seen.find((e) => e.event_id === eventId); },
    membership(roomId, userId) {
      return client.getRoom(roomId)?.getMember(userId)?.membership;
    },
  };
}

/** Run `scenario`, print the one-line JSON report and exit 0 or 1. */
export async function report(scenario) {
  try {
    await scenario();
    console.log(JSON.stringify({ ok: true, steps }));
    process.exit(0);
  } catch (e) {
    const error = e?.errcode
      ? `${e.httpStatus} ${e.errcode}: ${e.data?.error ?? e.message}`
      : String(e?.stack ?? e);
    console.log(JSON.stringify({ ok: false, steps, step: currentStep, error }));
    process.exit(1);
  }
}
