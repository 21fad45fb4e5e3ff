/**
 * {@link SettingsStore} written once over the stored values and a write a
 * storage supplies: the SQLite and the memory settings differ only in where
 * the values are kept.
 *
 * @module
 */
import type { SettingsStore, SettingValues } from "./ports.ts";

/** Writes one setting's value (JSON text) through to the storage. */
export type WriteSetting = (key: keyof SettingValues, value: string) => void;

/**
 * The settings in effect: stored values over `defaults`. A stored value of
 * the wrong type, or a model `validModel` rejects (the config no longer
 * lists it), falls back to the default.
 */
export function settingsOver(
  stored: ReadonlyMap<string, unknown>,
  defaults: SettingValues,
  validModel: (model: string) => boolean,
): SettingValues {
  const pick = <K extends keyof SettingValues>(key: K, ok: (v: unknown) => boolean) =>
    stored.has(key) && ok(stored.get(key)) ? stored.get(key) as SettingValues[K] : defaults[key];
  return {
    model: pick("model", (v) => typeof v === "string" && validModel(v)),
    tools: pick("tools", (v) => typeof v === "boolean"),
    verbose: pick("verbose", (v) => typeof v === "boolean"),
    thinking: pick("thinking", (v) => typeof v === "boolean"),
  };
}

/** A {@link SettingsStore} that read its values once and writes each change through. */
export class StoredSettings implements SettingsStore {
  readonly #write: WriteSetting;
  readonly #values: SettingValues;

  /**
   * Loads `stored` (name and JSON text) over `defaults`. `validModel`
   * rejects a stored model that the config no longer lists (it falls back
   * to the default).
   */
  constructor(
    stored: Iterable<readonly [string, string]>,
    defaults: SettingValues,
    validModel: (model: string) => boolean,
    write: WriteSetting,
  ) {
    const parsed = new Map([...stored].map(([key, value]) => [key, JSON.parse(value)]));
    this.#values = settingsOver(parsed, defaults, validModel);
    this.#write = write;
  }

  get values(): SettingValues {
    return { ...this.#values };
  }

  get<K extends keyof SettingValues>(key: K): SettingValues[K] {
    return this.#values[key];
  }

  set<K extends keyof SettingValues>(key: K, value: SettingValues[K]): void {
    this.#write(key, JSON.stringify(value));
    this.#values[key] = value;
  }
}
