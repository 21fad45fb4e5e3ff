/**
 * Addressing: whether and how the message speaks to the bot (a command
 * word, `Name: text`, a mention pill), giving the command word and its raw
 * arguments; failing those, whether it is `.ai` without a prefix (a mention
 * anywhere, a direct chat, a reply to the bot, a thread the bot answers in:
 * {@link unprefixed}). A message not addressed to the bot ends here. An
 * earlier step may have addressed the turn already (a new way of being
 * addressed is a step before this one, or a form in `forms`).
 *
 * @module
 */
import { ADDRESS_FORMS, type AddressForm, route } from "../handlers/mod.ts";
import type { Step } from "./compose.ts";
import type { Turn } from "./turn.ts";
import { ANSWER_ALL, type AnswerSwitches, unprefixed } from "./unprefixed.ts";

/** Options for {@link addressStep}. */
export interface AddressOptions {
  /** The bot's display name now (it can change while the bot runs). */
  botName(): string;
  /** The bot's user ID. */
  botUserId: string;
  /** The command words. */
  commands: ReadonlySet<string>;
  /** The ways of being addressed, in order of precedence (default {@link ADDRESS_FORMS}). */
  forms?: readonly AddressForm[];
  /** `matrix.answer`: the ways of talking without a prefix that are on (default all). */
  answer?: AnswerSwitches;
  /** True when the bot has a conversation in this thread (it answered in it). */
  knownThread?(room: string, root: string): boolean;
}

/** The addressing step. */
export function addressStep(options: AddressOptions): Step<Turn> {
  const { botUserId, commands, forms = ADDRESS_FORMS, answer = ANSWER_ALL } = options;
  return (turn, next) => {
    const { body, mentions, room, threadId } = turn.msg;
    const botName = options.botName();
    turn.address ??= route({ body, botName, botUserId, mentions }, commands, forms) ??
      unprefixed({
        body,
        botName,
        botUserId,
        mentions,
        direct: turn.msg.direct,
        replyToSender: turn.msg.replyToSender,
        knownThread: threadId !== undefined && (options.knownThread?.(room, threadId) ?? false),
        switches: answer,
      }) ??
      undefined;
    if (!turn.address) return;
    return next();
  };
}
