/**
 * The program's version, from `deno.json` (a JSON import, so it is part of
 * the module graph in a binary and in the published package alike).
 *
 * @module
 */
import denoJson from "../deno.json" with { type: "json" };

/** The program version (`version` in `deno.json`). */
export const VERSION: string = denoJson.version;
