import { deepStrictEqual, match, ok, rejects, strictEqual, throws } from "node:assert/strict";
import { join } from "node:path";
import {
  formatRecoveryKey,
  loadRecoveryKey,
  parseRecoveryKey,
  RecoveryKeyError,
  type RecoveryPlan,
  recoveryPlan,
  type RecoveryState,
  writeRecoveryKeyFile,
} from "../lib/recovery_key.ts";

const BYTES = Uint8Array.from({ length: 32 }, (_, i) => i * 7 % 256);
const KEY = formatRecoveryKey(BYTES);

const PLANS: Array<[string, RecoveryState, RecoveryPlan]> = [
  ["no secret storage: create it", {
    hasSecretStorage: false,
    hasKey: false,
    keyOpens: false,
    reset: false,
  }, "create"],
  ["no secret storage, a key given: create it with that key", {
    hasSecretStorage: false,
    hasKey: true,
    keyOpens: false,
    reset: false,
  }, "create"],
  ["the key opens it: unlock", {
    hasSecretStorage: true,
    hasKey: true,
    keyOpens: true,
    reset: false,
  }, "unlock"],
  ["the key opens it, reset asked: unlock anyway (nothing to reset)", {
    hasSecretStorage: true,
    hasKey: true,
    keyOpens: true,
    reset: true,
  }, "unlock"],
  ["a wrong key: stop", {
    hasSecretStorage: true,
    hasKey: true,
    keyOpens: false,
    reset: false,
  }, "wrong-key"],
  ["a wrong key, reset asked: replace", {
    hasSecretStorage: true,
    hasKey: true,
    keyOpens: false,
    reset: true,
  }, "reset"],
  ["no key: run on the store", {
    hasSecretStorage: true,
    hasKey: false,
    keyOpens: false,
    reset: false,
  }, "no-key"],
  ["no key, reset asked: replace", {
    hasSecretStorage: true,
    hasKey: false,
    keyOpens: false,
    reset: true,
  }, "reset"],
];

for (const [name, state, plan] of PLANS) {
  Deno.test(`recoveryPlan: ${name}`, () => strictEqual(recoveryPlan(state), plan));
}

Deno.test("a recovery key is read as Element shows it, with or without spaces", () => {
  match(KEY, /^(\w{4} ){11}\w{4}$/);
  deepStrictEqual(parseRecoveryKey(KEY, "x"), BYTES);
  deepStrictEqual(parseRecoveryKey(` ${KEY.replaceAll(" ", "")}\n`, "x"), BYTES);
});

Deno.test("a damaged recovery key is refused naming its source, never the key", () => {
  const damaged = KEY.slice(0, -1) + (KEY.endsWith("a") ? "b" : "a");
  for (const text of [damaged, "EsTc not a key", KEY.slice(0, 20), "0OIl" + KEY.slice(4)]) {
    throws(() => parseRecoveryKey(text, "matrix.recovery_key"), RecoveryKeyError);
    try {
      parseRecoveryKey(text, "matrix.recovery_key");
    } catch (e) {
      ok(e instanceof RecoveryKeyError);
      strictEqual(e.exitCode, 2);
      match(e.message, /^The recovery key from matrix.recovery_key is not a Matrix recovery key/);
      ok(!e.message.includes(text.trim()), e.message);
    }
  }
});

Deno.test("the recovery key comes from the environment, the config, a file, then the store", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const storeFile = join(dir, "recovery-key.txt");
    const file = join(dir, "key");
    const other = formatRecoveryKey(new Uint8Array(32).fill(9));
    await Deno.writeTextFile(file, `# mine\n${other}\n`);
    strictEqual(await loadRecoveryKey({ storeFile }), undefined, "nothing anywhere");
    await writeRecoveryKeyFile(storeFile, BYTES, "@bot:hs");
    strictEqual((await Deno.stat(storeFile)).mode! & 0o777, 0o600);
    const fromStore = await loadRecoveryKey({ storeFile });
    deepStrictEqual(fromStore, { bytes: BYTES, source: storeFile, fromStore: true });
    const fromFile = await loadRecoveryKey({ file, storeFile });
    deepStrictEqual(fromFile?.bytes, new Uint8Array(32).fill(9));
    strictEqual(fromFile?.source, `matrix.recovery_key_file ${file}`);
    strictEqual(
      (await loadRecoveryKey({ config: KEY, file, storeFile }))?.source,
      "matrix.recovery_key",
    );
    strictEqual(
      (await loadRecoveryKey({ env: other, config: KEY, storeFile }))?.source,
      "INFINIGPT_RECOVERY_KEY",
    );
    await rejects(
      loadRecoveryKey({ file: join(dir, "missing"), storeFile }),
      /matrix.recovery_key_file .*missing does not exist/,
    );
    await rejects(writeRecoveryKeyFile(storeFile, BYTES, "@bot:hs"), "never over an existing key");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
