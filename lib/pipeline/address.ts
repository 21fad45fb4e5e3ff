/**
 * Addressing: whether and how the message speaks to the bot (a command
 * word, `Name: text`, a mention pill), giving the command word and its raw
 * arguments. A message not addressed to the bot ends here. An earlier step
 * may have addressed the turn already (a new way of being addressed is a
 * step before this one, or a form in `forms`).
 *
 * @module
 */
import { ADDRESS_FORMS, type AddressForm, route } from "../handlers/mod.ts";
import type { Step } from "./compose.ts";
import type { Turn } from "./turn.ts";

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
}

/** The addressing step. */
export function addressStep(options: AddressOptions): Step<Turn> {
  const { botUserId, commands, forms = ADDRESS_FORMS } = options;
  return (turn, next) => {
    const { body, mentions } = turn.msg;
    turn.address ??=
      route({ body, botName: options.botName(), botUserId, mentions }, commands, forms) ??
        undefined;
    if (!turn.address) return;
    return next();
  };
}
