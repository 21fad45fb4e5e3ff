/**
 * Files shipped inside the program. They are imported as text, so they are
 * part of the module graph: `deno compile` embeds them and `deno publish`
 * ships them, and they are read the same way from source, from a binary and
 * from the published package.
 *
 * @module
 */
import help from "../help.md" with { type: "text" };
// Text, not JSON: `infinigpt init` writes the file as it is, layout and
// `_comment` keys included.
import exampleConfig from "../config.example.json" with { type: "text" };

/** `help.md`: the user part, then `~~~`, then the admin part. */
export const HELP: string = help;

/** `config.example.json`, the starter config `infinigpt init` writes. */
export const EXAMPLE_CONFIG: string = exampleConfig;
