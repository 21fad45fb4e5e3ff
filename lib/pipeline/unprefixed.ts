/**
 * Talking without a prefix (decision 37): the ways a message is `.ai`
 * although it starts with neither a command word nor `<bot name>:` — a
 * mention anywhere (removed from the text), a direct chat, a reply to the
 * bot, a follow-up in a thread the bot answers in. Each can be switched off
 * (`matrix.answer.*`). Pure; the address step asks it after the prefix forms.
 *
 * @module
 */
import type { Routed } from "../handlers/router.ts";

/** `matrix.answer`: which ways of talking without a prefix are answered. */
export interface AnswerSwitches {
  /** Every text message in a direct chat. */
  dm: boolean;
  /** A reply to one of the bot's messages. */
  replies: boolean;
  /** A message that mentions the bot anywhere. */
  mentions: boolean;
  /** Any message in a thread the bot has answered in. */
  threads: boolean;
}

/** Every way on (the default). */
export const ANSWER_ALL: AnswerSwitches = {
  dm: true,
  replies: true,
  mentions: true,
  threads: true,
};

/** The facts of a message that {@link unprefixed} decides on. */
export interface UnprefixedInput {
  /** The plain-text body (reply fallback already removed). */
  body: string;
  /** The bot's display name now. */
  botName: string;
  /** The bot's user ID. */
  botUserId: string;
  /** User IDs the message mentions (`m.mentions.user_ids`). */
  mentions?: readonly string[];
  /** The room is a direct chat of the bot and the sender. */
  direct?: boolean;
  /** The sender of the message this one replies to (not a thread's fallback). */
  replyToSender?: string;
  /** The message is in a thread the bot has a conversation in. */
  knownThread?: boolean;
  /** Which ways are on. */
  switches: AnswerSwitches;
}

/**
 * A first word that looks like a command (`.AI`, `.rest`) but is none stays
 * ignored everywhere, a direct chat included: a mistyped command must not
 * go to the model.
 */
const COMMANDLIKE = /^\.[\p{L}\p{N}_-]*$/u;

const WORD = /[\p{L}\p{N}_]/u;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The body with every whole-word occurrence of `names` (case-insensitive,
 * an optional `@` before it, a `:` or `,` right after it) removed, and
 * whether there was one. The space before a removed name goes too when
 * punctuation or the end follows, so `thoughts, Bot?` reads `thoughts?`.
 */
export function stripMention(
  body: string,
  names: readonly string[],
): { found: boolean; text: string } {
  let text = body;
  let found = false;
  for (const name of [...names].filter(Boolean).sort((a, b) => b.length - a.length)) {
    const pattern = new RegExp(`@?${escapeRegExp(name.replace(/^@/, ""))}[:,]?`, "giu");
    text = text.replace(pattern, (match: string, offset: number, whole: string) => {
      const before = whole[offset - 1];
      const after = whole[offset + match.length];
      // A whole word: no letter or digit glued to either side.
      if ((before && WORD.test(before)) || (after && WORD.test(after))) return match;
      found = true;
      return "\uE000";
    });
  }
  if (!found) return { found, text: body };
  text = text
    .replace(/[ \t]*\uE000(?=[ \t]*(?:[?!.,;:)]|$))/gmu, "")
    .replace(/\uE000/g, "")
    .replace(/[ \t]{2,}/g, " ")
    .replace(/^[ \t]*[,:][ \t]*/u, "")
    .trim();
  return { found, text };
}

/**
 * Whether a message that no prefix form addressed is `.ai` anyway, and its
 * text: a mention anywhere (pill or name as a whole word; removed from the
 * text), a direct chat, a reply to the bot, a thread the bot answers in.
 * `null`: not for the bot.
 */
export function unprefixed(input: UnprefixedInput): Routed | null {
  const body = input.body.trim();
  if (!body || COMMANDLIKE.test(body.split(/\s/, 1)[0])) return null;
  const { switches } = input;
  if (switches.mentions) {
    const { found, text } = stripMention(body, [input.botName, input.botUserId]);
    if (found || input.mentions?.includes(input.botUserId)) return { command: ".ai", args: text };
  }
  const addressed = (switches.dm && input.direct) ||
    (switches.replies && input.replyToSender === input.botUserId) ||
    (switches.threads && input.knownThread);
  return addressed ? { command: ".ai", args: body } : null;
}
