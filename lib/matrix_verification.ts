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
import { type ClassicSasAdapter, classicSasAdapter } from "./matrix_classic_sas.ts";

const log = getLogger("verification");

/** Whose verification requests are accepted. */
export type AcceptFrom = "anyone" | "admins" | "nobody";

/** Options for {@link setupVerification}. */
export interface VerificationOptions {
  client: MatrixClient;
  acceptFrom: AcceptFrom;
  admins: readonly string[];
  /** When the process started (ms); older in-room requests are replays. */
  startedAt: number;
  /** Persisted guard against answering a request twice. */
  seen(txnId: string): boolean;
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

/** A SAS flow started the classic way: its sender, their device and the flow id. */
export interface ClassicStart {
  userId: string;
  deviceId: string;
  txnId: string;
}

/**
 * Recognises a to-device `m.key.verification.start` for emoji (`m.sas.v1`)
 * that another device sent to us. Whether a request came before it is the
 * crypto's to tell (lib/matrix_classic_sas.ts). Pure.
 */
export function classicStart(
  message: { type?: unknown; sender?: unknown; content?: unknown },
  own: { userId: string; deviceId: string },
): ClassicStart | undefined {
  if (message.type !== "m.key.verification.start") return undefined;
  const content = message.content as Record<string, unknown> | undefined;
  const userId = message.sender;
  const deviceId = content?.from_device;
  const txnId = content?.transaction_id;
  if (typeof userId !== "string" || !userId) return undefined;
  if (typeof deviceId !== "string" || !deviceId) return undefined;
  if (typeof txnId !== "string" || !txnId) return undefined;
  if (content?.method !== "m.sas.v1") return undefined;
  if (userId === own.userId && deviceId === own.deviceId) return undefined;
  return { userId, deviceId, txnId };
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
  const { client } = options;
  // Strong references: without them the SDK's weak references let the
  // request be collected and SAS silently stalls.
  const active = new Set<VerificationRequest>();
  const verifiers = new Set<Verifier>();
  // Requests this process accepted (the persisted list also has earlier runs').
  const acceptedHere = new Set<string>();

  // A request rebuilt from history after a restart stays "ongoing" in the Rust
  // crypto until it times out (10 minutes), and while it does, Rust cancels
  // the user's next genuinely new request together with it ("another request
  // with the same user is ongoing"): the first verification after a restart
  // failed. Cancelling the stale request avoids that; a flow the other side
  // already finished stays done there.
  const dropStale = (request: VerificationRequest, txnId: string, userId: string) => {
    if (acceptedHere.has(txnId) || phaseOf(request) !== VerificationPhase.Requested) return;
    log.debug(`Cancelling the stale verification request ${txnId} from ${userId}`);
    request.cancel({ reason: "Stale request from before a restart", code: "m.user" })
      .catch((error) =>
        log.debug(`Could not cancel the stale request ${txnId}: ${(error as Error).message}`)
      );
  };

  /**
   * Logs the emojis and confirms them as soon as the verifier shows them, and
   * runs it; resolves when the SAS is done, rejects when it is cancelled.
   */
  const runVerifier = (
    verifier: Verifier,
    userId: string,
    onEmoji: (emoji: string[]) => void,
  ): Promise<void> => {
    verifiers.add(verifier);
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
      verifiers.delete(verifier);
      verifier.off(VerifierEvent.ShowSas, onSas);
    });
  };

  const onRequest = (request: VerificationRequest) => {
    try {
      handle(request);
    } catch (error) {
      log.warn(`Verification request could not be handled: ${(error as Error).message}`);
    }
  };

  const handle = (request: VerificationRequest) => {
    if (request.initiatedByMe) return;
    const userId = request.otherUserId;
    const txnId = request.transactionId ?? "";
    const where = request.roomId ? `in room ${request.roomId}` : "to-device";
    if (request.roomId) {
      const ts = client.getRoom(request.roomId)?.findEventById(txnId)?.getTs();
      if (ts !== undefined && ts < options.startedAt - 30_000) {
        log.debug(`Ignoring a replayed verification request ${txnId} from ${userId}`);
        dropStale(request, txnId, userId);
        return;
      }
    }
    if (txnId && options.seen(txnId)) {
      log.debug(`Ignoring verification request ${txnId} from ${userId}: already answered`);
      dropStale(request, txnId, userId);
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
      acceptedHere.add(txnId);
    }
    log.info(`Verification request from ${userId} (${where}); accepting`);
    active.add(request);
    let emoji: string[] = [];
    let started = false;
    // The SDK forgets the other device once the flow is done: note it while known.
    let deviceId: string | undefined;
    const noteDevice = () => {
      try {
        deviceId ??= request.otherDeviceId;
      } catch {
        // Only for the log line.
      }
    };
    noteDevice();
    const finish = (ok: boolean, why?: string) => {
      if (!active.delete(request)) return;
      clearTimeout(expiry);
      request.off(VerificationRequestEvent.Change, onChange);
      if (ok) {
        log.info(`Emoji verification was successful. (${userId}, device ${deviceId ?? "?"})`);
      } else log.info(`Verification cancelled (${why ?? "unknown reason"}) with ${userId}`);
      options.onDone?.({ userId, deviceId, emoji, ok });
    };
    const onChange = () => {
      try {
        noteDevice();
        const phase = phaseOf(request);
        if (phase === VerificationPhase.Started && request.verifier && !started) {
          started = true;
          const verifier = request.verifier;
          if (verifiers.has(verifier)) return;
          // The request's phase says when it is done; verify() only drives it.
          runVerifier(verifier, userId, (shown) => {
            noteDevice();
            emoji = shown;
          }).catch((error) => log.debug(`verify() ended: ${(error as Error).message}`));
        } else if (phase === VerificationPhase.Done) finish(true);
        else if (phase === VerificationPhase.Cancelled) {
          finish(false, request.cancellationCode ?? undefined);
        }
      } catch (error) {
        log.warn(`Verification with ${userId} failed: ${(error as Error).message}`);
        finish(false, (error as Error).message);
      }
    };
    // A request that never gets anywhere is dropped after its timeout.
    const expiry = setTimeout(() => {
      if (active.has(request)) finish(false, "timed out");
    }, 11 * 60_000);
    request.on(VerificationRequestEvent.Change, onChange);
    request.accept().catch((error) => {
      log.warn(
        `Could not accept the verification request from ${userId}: ${(error as Error).message}`,
      );
      finish(false, "accept failed");
    });
  };

  // SAS started without a request (decision 31): only the to-device start
  // shows it; lib/matrix_classic_sas.ts finds the flow the crypto made for it.
  let adapter: ClassicSasAdapter | string | undefined;
  const classicSas = (): ClassicSasAdapter | undefined => {
    if (adapter === undefined) {
      adapter = classicSasAdapter(client);
      if (typeof adapter === "string") {
        log.warn(
          `Emoji verification started without a request (matrix-nio and other older clients) cannot be answered: ${adapter}`,
        );
      }
    }
    return typeof adapter === "string" ? undefined : adapter;
  };

  const onToDevice = (received: ReceivedToDeviceMessage) => {
    try {
      const start = classicStart(received.message, {
        userId: client.getUserId() ?? "",
        deviceId: client.getDeviceId() ?? "",
      });
      if (!start) return;
      handleClassic(start, received.message).catch((error) =>
        log.warn(
          `Emoji verification from ${start.userId} could not be handled: ${
            (error as Error).message
          }`,
        )
      );
    } catch (error) {
      log.warn(`A to-device verification start could not be handled: ${(error as Error).message}`);
    }
  };

  const handleClassic = async (
    start: ClassicStart,
    message: ReceivedToDeviceMessage["message"],
  ) => {
    const { userId, deviceId, txnId } = start;
    // The start of a request this bot accepted (marked then), or a start
    // delivered twice: either way it is already handled. (To-device
    // messages are not replayed after a restart.)
    if (options.seen(txnId)) {
      log.debug(`Verification start ${txnId} from ${userId}: already handled`);
      return;
    }
    const adapter = classicSas();
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
    let emoji: string[] = [];
    // Unlike a request, a classic flow has no phase to watch: verify()
    // resolves only when the crypto says the SAS is done.
    const expiry = setTimeout(() => {
      sas.cancel("m.timeout", "The verification timed out").catch(() => {});
    }, 11 * 60_000);
    try {
      await runVerifier(sas.verifier, userId, (shown) => emoji = shown);
      log.info(`Emoji verification was successful. (${userId}, device ${deviceId})`);
      options.onDone?.({ userId, deviceId, emoji, ok: true });
    } catch (error) {
      log.info(`Verification cancelled (${(error as Error).message}) with ${userId}`);
      options.onDone?.({ userId, deviceId, emoji, ok: false });
    } finally {
      clearTimeout(expiry);
    }
  };

  client.on(CryptoEvent.VerificationRequestReceived, onRequest);
  client.on(ClientEvent.ReceivedToDeviceMessage, onToDevice);
  return () => {
    client.off(CryptoEvent.VerificationRequestReceived, onRequest);
    client.off(ClientEvent.ReceivedToDeviceMessage, onToDevice);
  };
}
