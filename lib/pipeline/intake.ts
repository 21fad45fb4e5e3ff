/**
 * Intake: the messages the bot does not look at. Its own, malformed ones,
 * those from rooms it does not serve, and those from users it does not
 * serve (`matrix.allowed_users`; admins are always served). Finds out
 * whether the sender is an admin.
 *
 * @module
 */
import type { Step } from "./compose.ts";
import type { Turn } from "./turn.ts";

/** Options for {@link intakeStep}. */
export interface IntakeOptions {
  /** The bot's own user ID: its own messages are ignored. */
  userId: string;
  /** Admins by Matrix ID (`matrix.admins`; decision 16: never by display name). */
  admins: readonly string[];
  /** The only users answered besides admins (`matrix.allowed_users`); everyone when absent. */
  allowedUsers?: readonly string[];
  /** Rooms to answer in (room IDs); all rooms when absent. */
  allowedRooms?: ReadonlySet<string>;
}

/** The intake step. */
export function intakeStep(options: IntakeOptions): Step<Turn> {
  const { userId, admins, allowedUsers, allowedRooms } = options;
  return (turn, next) => {
    const { msg } = turn;
    if (msg.sender === userId) return;
    // A transport's bug must not take the bot down: such a message is dropped.
    if (typeof msg.body !== "string" || typeof msg.room !== "string") return;
    if (allowedRooms && !allowedRooms.has(msg.room)) return;
    turn.isAdmin = admins.includes(msg.sender);
    if (allowedUsers && !turn.isAdmin && !allowedUsers.includes(msg.sender)) return;
    return next();
  };
}
