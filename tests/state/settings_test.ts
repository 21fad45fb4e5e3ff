/**
 * The SettingsStore contract, run against the SQLite and the memory
 * implementation alike (tests/state/backends.ts).
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { SettingValues } from "../../lib/state/ports.ts";
import { contract } from "./backends.ts";

const DEFAULTS: SettingValues = {
  model: "gpt-4.1-nano",
  tools: true,
  verbose: false,
  thinking: true,
};

contract("SettingsStore", "without stored values the defaults apply", (t) => {
  const settings = t.settings(DEFAULTS);
  deepStrictEqual(settings.values, DEFAULTS);
  strictEqual(settings.get("model"), "gpt-4.1-nano");
});

contract("SettingsStore", "stored values win over the defaults after reopening the store", (t) => {
  const settings = t.settings(DEFAULTS);
  settings.set("model", "gpt-5-mini");
  settings.set("tools", false);
  settings.set("verbose", true);
  settings.set("thinking", false);
  strictEqual(settings.get("verbose"), true);
  const reopened = t.reopen().settings(DEFAULTS);
  deepStrictEqual(reopened.values, {
    model: "gpt-5-mini",
    tools: false,
    verbose: true,
    thinking: false,
  });
});

contract(
  "SettingsStore",
  "a stored model that is no longer valid falls back to the default",
  (t) => {
    t.settings(DEFAULTS).set("model", "retired-model");
    t.settings(DEFAULTS).set("verbose", true);
    const reopened = t.reopen().settings(DEFAULTS, (m) => m !== "retired-model");
    strictEqual(reopened.get("model"), "gpt-4.1-nano");
    strictEqual(reopened.get("verbose"), true);
  },
);

contract("SettingsStore", "a stored value of the wrong type falls back to the default", (t) => {
  t.storeSetting("tools", '"yes"');
  t.storeSetting("model", "42");
  const settings = t.settings(DEFAULTS);
  strictEqual(settings.get("tools"), true);
  strictEqual(settings.get("model"), "gpt-4.1-nano");
});

contract("SettingsStore", "values returns a copy", (t) => {
  const settings = t.settings(DEFAULTS);
  const values = settings.values;
  values.model = "changed";
  strictEqual(settings.get("model"), "gpt-4.1-nano");
});
