/**
 * Who is who: the bot's own display name, the names of the people it talks
 * to (member name, profile name, Matrix ID; profiles cached), the bot's
 * cross-signing identity, and answering verification requests.
 *
 * @module
 */
import type * as sdk from "matrix-js-sdk";
import { getLogger } from "./log.ts";
import { localpart } from "./mxid.ts";
import { powerLevelOf } from "./power_levels.ts";
import { type AcceptFrom, setupVerification } from "./matrix_verification.ts";
import type { InboxStore } from "./state/ports.ts";

const log = getLogger("matrix");

/** How long a profile's display name is kept before it is asked again. */
const PROFILE_TTL_MS = 600_000;

/** Options for {@link MatrixIdentity.answerVerifications}. */
export interface VerificationWiring {
  /** `matrix.verification.accept_from`. */
  acceptFrom: AcceptFrom;
  /** `matrix.admins`. */
  admins: readonly string[];
  /** When the process started (ms); older in-room requests are replays. */
  startedAt: number;
  /** Remembers the requests answered, across restarts. */
  inbox: Pick<InboxStore, "verificationSeen" | "markVerification">;
}

/** The bot's identity and the names of others. */
export class MatrixIdentity {
  readonly #client: sdk.MatrixClient;
  readonly #userId: string;
  readonly #profiles = new Map<string, { name: string; at: number }>();
  #name: string;

  /** The identity of `userId`, whose client is `client`. */
  constructor(client: sdk.MatrixClient, userId: string) {
    this.#client = client;
    this.#userId = userId;
    this.#name = localpart(userId);
  }

  /** The bot's display name (its localpart until the profile is loaded). */
  name(): string {
    return this.#name;
  }

  /** Loads the bot's display name from its profile. */
  async loadOwnName(): Promise<void> {
    try {
      const profile = await this.#client.getProfileInfo(this.#userId);
      if (profile.displayname) this.#name = profile.displayname;
    } catch (error) {
      log.debug(`No display name for the bot: ${(error as Error).message}`);
    }
  }

  /**
   * Sets up cross-signing when it is not (or anew with `replace`): from
   * secret storage when it holds the keys (the device is signed then), else
   * new keys uploaded with `password` (user-interactive auth), so users can
   * verify the bot user and not only its device.
   */
  async bootstrapCrossSigning(
    password: string | undefined,
    options: { replace?: boolean } = {},
  ): Promise<void> {
    const crypto = this.#client.getCrypto();
    if (!crypto) return;
    try {
      if (!options.replace && await crypto.isCrossSigningReady()) return;
      const status = await crypto.getCrossSigningStatus();
      if (!password && (options.replace || !status.privateKeysInSecretStorage)) {
        log.warn(
          "Cross-signing is not set up and no matrix.password is configured to set it up; users can verify the device but not the bot user",
        );
        return;
      }
      await crypto.bootstrapCrossSigning({
        setupNewCrossSigning: options.replace,
        authUploadDeviceSigningKeys: async (makeRequest) => {
          await makeRequest({
            type: "m.login.password",
            identifier: { type: "m.id.user", user: this.#userId },
            password,
          } as never);
        },
      });
      log.info("Cross-signing set up; the bot's device is signed");
    } catch (error) {
      log.warn(`Could not set up cross-signing: ${(error as Error).message}`);
    }
  }

  /** Answers verification requests (decision 23); returns the stopper. */
  answerVerifications(options: VerificationWiring): () => void {
    const { inbox } = options;
    return setupVerification({
      client: this.#client,
      acceptFrom: options.acceptFrom,
      admins: options.admins,
      startedAt: options.startedAt,
      seen: (txn) => inbox.verificationSeen(txn),
      markSeen: (txn) => inbox.markVerification(txn),
    });
  }

  /** The member's display name in this room; the global profile name; the Matrix ID. */
  async displayName(room: string, userId: string): Promise<string> {
    const member = this.#client.getRoom(room)?.getMember(userId);
    const raw = member?.rawDisplayName;
    if (raw && raw !== userId) return raw;
    const cached = this.#profiles.get(userId);
    if (cached && Date.now() - cached.at < PROFILE_TTL_MS) return cached.name;
    let name = userId;
    try {
      const profile = await this.#client.getProfileInfo(userId, "displayname");
      if (profile.displayname) name = profile.displayname;
    } catch {
      // No profile: the Matrix ID it is (decision 15).
    }
    this.#profiles.set(userId, { name, at: Date.now() });
    return name;
  }

  /**
   * The user's power level in the room, from the room's state as synced
   * (asked of the homeserver when the room is not known yet).
   */
  async powerLevel(room: string, userId: string): Promise<number> {
    const state = this.#client.getRoom(room)?.currentState;
    if (state) {
      const create = state.getStateEvents("m.room.create", "");
      return powerLevelOf({
        powerLevels: state.getStateEvents("m.room.power_levels", "")?.getContent(),
        create: create?.getContent(),
        creator: create?.getSender(),
      }, userId);
    }
    const fetched = async (type: string) => {
      try {
        return await this.#client.getStateEvent(room, type, "") as Record<string, unknown>;
      } catch {
        return undefined;
      }
    };
    const [powerLevels, create] = await Promise.all([
      fetched("m.room.power_levels"),
      fetched("m.room.create"),
    ]);
    // Without the create event's sender (only its content came back) the creator is unknown.
    return powerLevelOf(
      { powerLevels, create, creator: create?.creator as string | undefined },
      userId,
    );
  }
}
