/**
 * SAS (emoji) verification, the bot as responder (decision 23): accept a
 * request from whoever `matrix.verification.accept_from` allows, log the
 * emojis, confirm, and say "successful" only when the flow really is done.
 * Works for to-device and in-room requests, and for SAS started the classic
 * way with a to-device `m.key.verification.start` and no request (decision
 * 31, matrix-nio and other older clients; see lib/matrix_classic_sas.ts).
 *
 * Gotchas from E2EE-NOTES §5, all handled here: the SDK holds requests and
 * verifiers only weakly (we keep strong references until the end), in-room
 * requests are replayed from history after a restart (guarded by age and by
 * a persisted list), and nothing may throw out of an SDK callback.
 *
 * @module
 */
import { ClientEvent, type MatrixClient, type ReceivedToDeviceMessage } from "matrix-js-sdk";
import {
  CryptoEvent,
  type ShowSasCallbacks,
  VerificationPhase,
  type VerificationRequest,
  VerificationRequestEvent,
  type Verifier,
  VerifierEvent,
} from "matrix-js-sdk/lib/crypto-api/index.js";
import { getLogger } from "./log.ts";
import {
  type ClassicSas,
  type ClassicSasAdapter,
  classicSasAdapter,
  type ClassicStart,
  classicStart,
} from "./matrix_classic_sas.ts";

const log = getLogger("verification");

/** Whose verification requests are accepted. */
export type AcceptFrom = "anyone" | "admins" | "nobody";

/** Options for {@link setupVerification}. */
export interface VerificationOptions {
  /** The bot's client, with Rust crypto. */
  client: MatrixClient;
  /** `matrix.verification.accept_from`. */
  acceptFrom: AcceptFrom;
  /** `matrix.admins`. */
  admins: readonly string[];
  /** When the process started (ms); older in-room requests are replays. */
  startedAt: number;
  /** Persisted guard against answering a request twice. */
  seen(txnId: string): boolean;
  /** Remembers that a request was answered. */
  markSeen(txnId: string): void;
  /** Reports finished verifications (tests, metrics). */
  onDone?(result: { userId: string; deviceId?: string; emoji: string[]; ok: boolean }): void;
}

/** What the other side is told when the policy declines it. */
const DECLINED: Record<Exclude<AcceptFrom, "anyone">, string> = {
  admins: "This bot accepts verification only from its admins",
  nobody: "This bot does not accept verification",
};

/** The reason sent with the cancel when `policy` declines a verification. Pure. */
export function declineReason(policy: AcceptFrom): string {
  return policy === "anyone" ? "Not accepted by this bot" : DECLINED[policy];
}

/** Decides whether a request from `userId` is accepted. Pure. */
export function acceptsFrom(
  policy: AcceptFrom,
  admins: readonly string[],
  userId: string,
): boolean {
  if (policy === "anyone") return true;
  if (policy === "admins") return admins.includes(userId);
  return false;
}

function phaseOf(request: VerificationRequest): VerificationPhase | undefined {
  try {
    return request.phase;
  } catch {
    // Requests rebuilt from history can throw here (E2EE-NOTES §5).
    return undefined;
  }
}

/**
 * Listens for verification requests. Returns a function that stops
 * listening and cancels nothing (flows in progress finish on their own).
 */
export function setupVerification(options: VerificationOptions): () => void {
  return new SasResponder(options).listen();
}

/** A verification request's flow, as far as the log and `onDone` need it. */
interface Flow {
  request: VerificationRequest;
  userId: string;
  emoji: string[];
  started: boolean;
  /** The SDK forgets the other device once the flow is done: noted while known. */
  deviceId?: string;
  expiry?: ReturnType<typeof setTimeout>;
  onChange(): void;
}

/** How long a flow may take before it is dropped (the SDK's own timeout is 10 minutes). */
const FLOW_TIMEOUT_MS = 11 * 60_000;

/** Answers verification requests and classic SAS starts as the policy allows. */
class SasResponder {
  readonly #options: VerificationOptions;
  readonly #client: MatrixClient;
  // Strong references: without them the SDK's weak references let the
  // request be collected and SAS silently stalls.
  readonly #active = new Set<VerificationRequest>();
  readonly #verifiers = new Set<Verifier>();
  /** Requests this process accepted (the persisted list also has earlier runs'). */
  readonly #acceptedHere = new Set<string>();
  #adapter?: ClassicSasAdapter | string;

  constructor(options: VerificationOptions) {
    this.#options = options;
    this.#client = options.client;
  }

  /** Starts listening; returns the function that stops. */
  listen(): () => void {
    const client = this.#client;
    const onRequest = (request: VerificationRequest) => {
      try {
        this.#handle(request);
      } catch (error) {
        log.warn(`Verification request could not be handled: ${(error as Error).message}`);
      }
    };
    const onToDevice = (received: ReceivedToDeviceMessage) => this.#onToDevice(received);
    client.on(CryptoEvent.VerificationRequestReceived, onRequest);
    client.on(ClientEvent.ReceivedToDeviceMessage, onToDevice);
    return () => {
      client.off(CryptoEvent.VerificationRequestReceived, onRequest);
      client.off(ClientEvent.ReceivedToDeviceMessage, onToDevice);
    };
  }

  // A request rebuilt from history after a restart stays "ongoing" in the Rust
  // crypto until it times out (10 minutes), and while it does, Rust cancels
  // the user's next genuinely new request together with it ("another request
  // with the same user is ongoing"): the first verification after a restart
  // failed. Cancelling the stale request avoids that; a flow the other side
  // already finished stays done there.
  #dropStale(request: VerificationRequest, txnId: string, userId: string): void {
    if (this.#acceptedHere.has(txnId) || phaseOf(request) !== VerificationPhase.Requested) return;
    log.debug(`Cancelling the stale verification request ${txnId} from ${userId}`);
    request.cancel({ reason: "Stale request from before a restart", code: "m.user" })
      .catch((error) =>
        log.debug(`Could not cancel the stale request ${txnId}: ${(error as Error).message}`)
      );
  }

  /**
   * Logs the emojis and confirms them as soon as the verifier shows them, and
   * runs it; resolves when the SAS is done, rejects when it is cancelled.
   */
  #runVerifier(
    verifier: Verifier,
    userId: string,
    onEmoji: (emoji: string[]) => void,
  ): Promise<void> {
    this.#verifiers.add(verifier);
    const onSas = (sas: ShowSasCallbacks) => {
      const emoji = (sas.sas.emoji ?? []).map(([symbol, name]) => `${symbol} ${name}`);
      onEmoji(emoji);
      log.info(`Emoji verification requested by ${userId}: ${emoji.join(", ")}`);
      sas.confirm().catch((error) =>
        log.warn(`Could not confirm the emojis: ${(error as Error).message}`)
      );
    };
    verifier.on(VerifierEvent.ShowSas, onSas);
    verifier.on(VerifierEvent.Cancel, (e) => {
      log.debug(`Verifier cancelled: ${e instanceof Error ? e.message : e.getType()}`);
    });
    const already = verifier.getShowSasCallbacks();
    if (already) onSas(already);
    return verifier.verify().finally(() => {
      this.#verifiers.delete(verifier);
      verifier.off(VerifierEvent.ShowSas, onSas);
    });
  }

  #handle(request: VerificationRequest): void {
    if (request.initiatedByMe) return;
    const userId = request.otherUserId;
    const txnId = request.transactionId ?? "";
    const where = request.roomId ? `in room ${request.roomId}` : "to-device";
    const options = this.#options;
    if (request.roomId) {
      const ts = this.#client.getRoom(request.roomId)?.findEventById(txnId)?.getTs();
      if (ts !== undefined && ts < options.startedAt - 30_000) {
        log.debug(`Ignoring a replayed verification request ${txnId} from ${userId}`);
        this.#dropStale(request, txnId, userId);
        return;
      }
    }
    if (txnId && options.seen(txnId)) {
      log.debug(`Ignoring verification request ${txnId} from ${userId}: already answered`);
      this.#dropStale(request, txnId, userId);
      return;
    }
    if (phaseOf(request) !== VerificationPhase.Requested) return;
    if (!acceptsFrom(options.acceptFrom, options.admins, userId)) {
      log.info(
        `Verification request from ${userId} (${where}) declined: matrix.verification.accept_from is ${options.acceptFrom}`,
      );
      request.cancel({ reason: declineReason(options.acceptFrom), code: "m.user" })
        .catch(() => {});
      return;
    }
    if (txnId) {
      options.markSeen(txnId);
      this.#acceptedHere.add(txnId);
    }
    log.info(`Verification request from ${userId} (${where}); accepting`);
    this.#accept(request, userId);
  }

  /** Accepts a request and follows it to its end. */
  #accept(request: VerificationRequest, userId: string): void {
    this.#active.add(request);
    const flow: Flow = {
      request,
      userId,
      emoji: [],
      started: false,
      onChange: () => this.#onChange(flow),
    };
    noteDevice(flow);
    // A request that never gets anywhere is dropped after its timeout.
    flow.expiry = setTimeout(() => {
      if (this.#active.has(request)) this.#finish(flow, false, "timed out");
    }, FLOW_TIMEOUT_MS);
    request.on(VerificationRequestEvent.Change, flow.onChange);
    request.accept().catch((error) => {
      log.warn(
        `Could not accept the verification request from ${userId}: ${(error as Error).message}`,
      );
      this.#finish(flow, false, "accept failed");
    });
  }

  #onChange(flow: Flow): void {
    const { request, userId } = flow;
    try {
      noteDevice(flow);
      const phase = phaseOf(request);
      if (phase === VerificationPhase.Started && request.verifier && !flow.started) {
        flow.started = true;
        const verifier = request.verifier;
        if (this.#verifiers.has(verifier)) return;
        // The request's phase says when it is done; verify() only drives it.
        this.#runVerifier(verifier, userId, (shown) => {
          noteDevice(flow);
          flow.emoji = shown;
        }).catch((error) => log.debug(`verify() ended: ${(error as Error).message}`));
      } else if (phase === VerificationPhase.Done) this.#finish(flow, true);
      else if (phase === VerificationPhase.Cancelled) {
        this.#finish(flow, false, request.cancellationCode ?? undefined);
      }
    } catch (error) {
      log.warn(`Verification with ${userId} failed: ${(error as Error).message}`);
      this.#finish(flow, false, (error as Error).message);
    }
  }

  #finish(flow: Flow, ok: boolean, why?: string): void {
    const { request, userId, deviceId, emoji } = flow;
    if (!this.#active.delete(request)) return;
    clearTimeout(flow.expiry);
    request.off(VerificationRequestEvent.Change, flow.onChange);
    if (ok) {
      log.info(`Emoji verification was successful. (${userId}, device ${deviceId ?? "?"})`);
    } else log.info(`Verification cancelled (${why ?? "unknown reason"}) with ${userId}`);
    this.#options.onDone?.({ userId, deviceId, emoji, ok });
  }

  // SAS started without a request (decision 31): only the to-device start
  // shows it; lib/matrix_classic_sas.ts finds the flow the crypto made for it.
  #classicSas(): ClassicSasAdapter | undefined {
    if (this.#adapter === undefined) {
      this.#adapter = classicSasAdapter(this.#client);
      if (typeof this.#adapter === "string") {
        log.warn(
          `Emoji verification started without a request (matrix-nio and other older clients) cannot be answered: ${this.#adapter}`,
        );
      }
    }
    return typeof this.#adapter === "string" ? undefined : this.#adapter;
  }

  #onToDevice(received: ReceivedToDeviceMessage): void {
    try {
      const start = classicStart(received.message, {
        userId: this.#client.getUserId() ?? "",
        deviceId: this.#client.getDeviceId() ?? "",
      });
      if (!start) return;
      this.#handleClassic(start, received.message).catch((error) =>
        log.warn(
          `Emoji verification from ${start.userId} could not be handled: ${
            (error as Error).message
          }`,
        )
      );
    } catch (error) {
      log.warn(`A to-device verification start could not be handled: ${(error as Error).message}`);
    }
  }

  async #handleClassic(
    start: ClassicStart,
    message: ReceivedToDeviceMessage["message"],
  ): Promise<void> {
    const { userId, deviceId, txnId } = start;
    const options = this.#options;
    // The start of a request this bot accepted (marked then), or a start
    // delivered twice: either way it is already handled. (To-device
    // messages are not replayed after a restart.)
    if (options.seen(txnId)) {
      log.debug(`Verification start ${txnId} from ${userId}: already handled`);
      return;
    }
    const adapter = this.#classicSas();
    if (!adapter) return;
    const opened = await adapter.open(message, txnId, deviceId);
    if (opened.kind === "request") return;
    const where = `device ${deviceId}, started without a request`;
    if (opened.kind === "none") {
      log.warn(`Emoji verification from ${userId} (${where}) could not be started: ${opened.why}`);
      return;
    }
    const { sas } = opened;
    if (opened.fetched) log.debug(`Fetched the keys of ${userId}'s device ${deviceId} first`);
    options.markSeen(txnId);
    if (!acceptsFrom(options.acceptFrom, options.admins, userId)) {
      log.info(
        `Verification from ${userId} (${where}) declined: matrix.verification.accept_from is ${options.acceptFrom}`,
      );
      await sas.cancel("m.user", declineReason(options.acceptFrom));
      return;
    }
    if (sas.verifier.hasBeenCancelled) {
      log.info(`Verification cancelled (before it was accepted) with ${userId}`);
      return;
    }
    log.info(`Verification from ${userId} (${where}); accepting`);
    await this.#runClassic(sas, userId, deviceId);
  }

  /** Runs a classic flow: it has no phase to watch; verify() resolves when the SAS is done. */
  async #runClassic(sas: ClassicSas, userId: string, deviceId: string): Promise<void> {
    let emoji: string[] = [];
    const expiry = setTimeout(() => {
      sas.cancel("m.timeout", "The verification timed out").catch(() => {});
    }, FLOW_TIMEOUT_MS);
    try {
      await this.#runVerifier(sas.verifier, userId, (shown) => emoji = shown);
      log.info(`Emoji verification was successful. (${userId}, device ${deviceId})`);
      this.#options.onDone?.({ userId, deviceId, emoji, ok: true });
    } catch (error) {
      log.info(`Verification cancelled (${(error as Error).message}) with ${userId}`);
      this.#options.onDone?.({ userId, deviceId, emoji, ok: false });
    } finally {
      clearTimeout(expiry);
    }
  }
}

/** Notes the other device while the SDK still knows it. */
function noteDevice(flow: Flow): void {
  try {
    flow.deviceId ??= flow.request.otherDeviceId;
  } catch {
    // Only for the log line.
  }
}
