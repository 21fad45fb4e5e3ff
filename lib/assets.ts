/**
 * Files shipped inside the program (`deno compile --include`), read through
 * literal `import.meta.url` paths so the compiler embeds them.
 *
 * @module
 */

const HELP = new URL("../help.md", import.meta.url);
const EXAMPLE_CONFIG = new URL("../config.example.json", import.meta.url);

/** `help.md`; a short fallback if it cannot be read. */
export async function readHelp(): Promise<string> {
  try {
    return await Deno.readTextFile(HELP);
  } catch {
    return "See README for usage.";
  }
}

/** `config.example.json`, the starter config. */
export function readExampleConfig(): Promise<string> {
  return Deno.readTextFile(EXAMPLE_CONFIG);
}
