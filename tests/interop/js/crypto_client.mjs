// Helpers for crypto_scenario.mjs: matrix-js-sdk clients with the Rust crypto stack
// (matrix-sdk-crypto-wasm, kept in memory: no IndexedDB in Node), a step reporter
// and polling.

import * as sdk from "matrix-js-sdk";

// Parts of the SDK log debug lines through console.log/info/debug, i.e. to stdout,
// where the report goes: keep only warnings and errors (stderr).
console.log = console.info = console.debug = () => {};

export const PASSWORD = "correct horse battery staple";
const WAIT_MS = 20000;
/** The whole scenario's budget: a hang is reported with its step, not killed silently. */
const SCENARIO_MS = 240000;

export const quietLogger = {
  trace() {}, debug() {}, info() {},
  warn: (...a) => console.error("[sdk warn]", ...a),
  error: (...a) => console.error("[sdk error]", ...a),
  getChild() { return quietLogger; },
};

function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Named steps: `run()` prints one JSON line, {"ok", "steps", "summary"} or the
 * failing step and its error, and exits 0 or 1. */
export class Steps {
  constructor() {
    this.passed = [];
    this.current = "start";
    this.summary = {};
  }

  step(name) {
    if (this.current !== "start") this.passed.push(this.current);
    this.current = name;
  }

  async run(scenario) {
    try {
      await within(scenario(this), "the scenario to finish", SCENARIO_MS);
      this.step("done");
      report({ ok: true, steps: this.passed, summary: this.summary });
      process.exit(0);
    } catch (e) {
      const error = e?.errcode
        ? `${e.httpStatus} ${e.errcode}: ${e.data?.error ?? e.message}`
        : String(e?.stack ?? e);
      report({ ok: false, steps: this.passed, step: this.current, error, summary: this.summary });
      process.exit(1);
    }
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** `promise`, or a failure naming `what` once `timeoutMs` have passed. */
export function within(promise, what, timeoutMs = WAIT_MS) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Poll `predicate` (sync, or async) until it returns something truthy. */
export async function waitFor(what, predicate, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await predicate();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A UIA callback for endpoints that may demand the account password
 * (`authUploadDeviceSigningKeys`): the first attempt goes without auth; when the
 * server answers 401 with a password flow, the request is retried with the password
 * and the UIA session. `asked` records each stage the server asked for.
 */
export function passwordUia(userId, asked) {
  return async (makeRequest) => {
    try {
      return await makeRequest(null);
    } catch (e) {
      if (e?.httpStatus !== 401 || !e.data?.flows) throw e;
      const stages = e.data.flows.flatMap((flow) => flow.stages);
      asked.push(...stages);
      assert(stages.includes("m.login.password"), `no password flow: ${JSON.stringify(e.data)}`);
      return await makeRequest({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: userId },
        password: PASSWORD,
        session: e.data.session,
      });
    }
  };
}

/**
 * Start a syncing client with Rust crypto for credentials from register or login.
 * `secretStorageKey()` returns the secret-storage private key when the scenario
 * knows it (the SDK asks through `cryptoCallbacks.getSecretStorageKey`).
 */
export async function startCryptoClient(baseUrl, creds, secretStorageKey = () => null) {
  const client = sdk.createClient({
    baseUrl, accessToken: creds.access_token, userId: creds.user_id,
    deviceId: creds.device_id, logger: quietLogger,
    cryptoCallbacks: {
      getSecretStorageKey: async ({ keys }) => {
        const privateKey = secretStorageKey();
        return privateKey ? [Object.keys(keys)[0], privateKey] : null;
      },
    },
  });
  await client.initRustCrypto({ useIndexedDB: false });
  const prepared = new Promise((resolve, reject) => {
    client.on(sdk.ClientEvent.Sync, (state, _prev, data) => {
      if (state === "PREPARED") resolve();
      if (state === "ERROR") reject(data?.error ?? new Error("sync error"));
    });
  });
  await client.startClient({ initialSyncLimit: 30 });
  await within(prepared, `the first sync of ${creds.user_id}/${creds.device_id}`);
  return client;
}

export async function register(baseUrl, localpart) {
  const anonymous = sdk.createClient({ baseUrl, logger: quietLogger });
  return anonymous.registerRequest({
    username: localpart, password: PASSWORD, auth: { type: "m.login.dummy" },
  });
}

/** A new device of an existing account (password login). */
export async function login(baseUrl, userId, deviceName) {
  const anonymous = sdk.createClient({ baseUrl, logger: quietLogger });
  return anonymous.loginRequest({
    type: "m.login.password", identifier: { type: "m.id.user", user: userId },
    password: PASSWORD, initial_device_display_name: deviceName,
  });
}

/** The event as `client` sees it once decrypted (fails on a decryption failure
 * that does not heal within the wait). */
export async function decrypted(client, roomId, eventId, timeoutMs = WAIT_MS) {
  return waitFor(`${client.getUserId()}/${client.getDeviceId()} to decrypt ${eventId}`, () => {
    const event = client.getRoom(roomId)?.findEventById(eventId);
    if (!event || event.isBeingDecrypted() || event.isDecryptionFailure()) return null;
    return event.getType() === "m.room.message" ? event : null;
  }, timeoutMs);
}
