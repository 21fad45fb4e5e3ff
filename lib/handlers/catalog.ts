/**
 * The configured models as the commands see them: which ids exist, the
 * default, and which run on a local server (one model at a time). Built from
 * the `llm.models` / `llm.default_model` slice of the config.
 *
 * @module
 */

/** Local servers that run one model at a time, in the order they are checked. */
export const LOCAL_SERVERS: readonly LocalServer[] = ["ollama", "lmstudio"];

/** A local server family. */
export type LocalServer = "ollama" | "lmstudio";

/** The configured models. */
export interface ModelCatalog {
  /** Every model id in config order (provider order, then list order; repeats kept). */
  readonly models: readonly string[];
  /** `llm.default_model`. */
  readonly defaultModel: string;
  /** Whether `model` is configured. */
  has(model: string): boolean;
  /** The local server `model` is listed under, if any (the first in {@link LOCAL_SERVERS}). */
  localServer(model: string): LocalServer | undefined;
}

/** Options for {@link modelCatalog}: the `llm.models` and `llm.default_model` config keys. */
export interface ModelCatalogOptions {
  /** Model ids per provider (`llm.models`). */
  models: Readonly<Record<string, readonly string[]>>;
  /** `llm.default_model`. */
  defaultModel: string;
}

/** A catalog of the configured models. */
export function modelCatalog(options: ModelCatalogOptions): ModelCatalog {
  const models = Object.values(options.models).flat();
  const known = new Set(models);
  return {
    models,
    defaultModel: options.defaultModel,
    has: (model) => known.has(model),
    localServer: (model) =>
      LOCAL_SERVERS.find((server) => options.models[server]?.includes(model) ?? false),
  };
}
