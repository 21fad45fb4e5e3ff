/**
 * Who may verify the bot (`matrix.verification.accept_from`, decision 23),
 * what it tells those it declines, and which to-device events are classic
 * SAS starts (decision 31). The SAS flows themselves run against a real
 * homeserver in tests/e2e/verification_test.ts and
 * tests/e2e/journeys/verification_classic_test.ts.
 */
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { type ClassicStart, classicStart } from "../lib/matrix_classic_sas.ts";
import { type AcceptFrom, acceptsFrom, declineReason } from "../lib/matrix_verification.ts";

const ADMIN = "@admin:example.org";
const OTHER_ADMIN = "@boss:example.org";
const STRANGER = "@stranger:example.org";
const admins = [ADMIN, OTHER_ADMIN];

const cases: Array<{
  name: string;
  policy: AcceptFrom;
  admins: readonly string[];
  user: string;
  accepted: boolean;
}> = [
  { name: "anyone: accepts a stranger", policy: "anyone", admins, user: STRANGER, accepted: true },
  { name: "anyone: accepts an admin", policy: "anyone", admins, user: ADMIN, accepted: true },
  {
    name: "anyone: accepts a user even with no admins configured",
    policy: "anyone",
    admins: [],
    user: STRANGER,
    accepted: true,
  },
  {
    name: "admins: accepts the first admin",
    policy: "admins",
    admins,
    user: ADMIN,
    accepted: true,
  },
  {
    name: "admins: accepts any listed admin, not only the first",
    policy: "admins",
    admins,
    user: OTHER_ADMIN,
    accepted: true,
  },
  {
    name: "admins: declines a non-admin",
    policy: "admins",
    admins,
    user: STRANGER,
    accepted: false,
  },
  {
    name: "admins: declines everyone when no admins are configured",
    policy: "admins",
    admins: [],
    user: ADMIN,
    accepted: false,
  },
  {
    name: "admins: compares Matrix IDs exactly (no case folding)",
    policy: "admins",
    admins,
    user: "@Admin:example.org",
    accepted: false,
  },
  {
    name: "admins: a user on another server with the same localpart is not the admin",
    policy: "admins",
    admins,
    user: "@admin:evil.example",
    accepted: false,
  },
  { name: "nobody: declines an admin", policy: "nobody", admins, user: ADMIN, accepted: false },
  {
    name: "nobody: declines a stranger",
    policy: "nobody",
    admins,
    user: STRANGER,
    accepted: false,
  },
];

for (const c of cases) {
  Deno.test(`acceptsFrom ${c.name}`, () => {
    strictEqual(acceptsFrom(c.policy, c.admins, c.user), c.accepted);
  });
}

Deno.test("declineReason tells the other side who may verify, per policy", () => {
  strictEqual(declineReason("admins"), "This bot accepts verification only from its admins");
  strictEqual(declineReason("nobody"), "This bot does not accept verification");
  strictEqual(declineReason("anyone"), "Not accepted by this bot");
});

const OWN = { userId: "@bot:example.org", deviceId: "BOTDEVICE" };
const NIO_START = {
  type: "m.key.verification.start",
  sender: "@nio:example.org",
  content: {
    from_device: "NIODEVICE",
    method: "m.sas.v1",
    transaction_id: "txn1",
    key_agreement_protocols: ["curve25519-hkdf-sha256"],
    hashes: ["sha256"],
    message_authentication_codes: ["hkdf-hmac-sha256"],
    short_authentication_string: ["emoji", "decimal"],
  },
};
const withContent = (content: Record<string, unknown>) => ({
  ...NIO_START,
  content: { ...NIO_START.content, ...content },
});

const startCases: Array<{
  name: string;
  message: { type?: unknown; sender?: unknown; content?: unknown };
  expected: ClassicStart | undefined;
}> = [
  {
    name: "a matrix-nio SAS start is one",
    message: NIO_START,
    expected: { userId: "@nio:example.org", deviceId: "NIODEVICE", txnId: "txn1" },
  },
  {
    name: "a start from another device of the bot's own user is one",
    message: { ...NIO_START, sender: OWN.userId },
    expected: { userId: OWN.userId, deviceId: "NIODEVICE", txnId: "txn1" },
  },
  {
    name: "a start from the bot's own device is not",
    message: { ...withContent({ from_device: OWN.deviceId }), sender: OWN.userId },
    expected: undefined,
  },
  {
    name: "a request is not a start",
    message: { ...NIO_START, type: "m.key.verification.request" },
    expected: undefined,
  },
  {
    name: "other verification events are not",
    message: { ...NIO_START, type: "m.key.verification.key" },
    expected: undefined,
  },
  {
    name: "a QR reciprocation start is not an emoji one",
    message: withContent({ method: "m.reciprocate.v1" }),
    expected: undefined,
  },
  {
    name: "a start without a transaction id is not",
    message: withContent({ transaction_id: undefined }),
    expected: undefined,
  },
  {
    name: "a start with an empty transaction id is not",
    message: withContent({ transaction_id: "" }),
    expected: undefined,
  },
  {
    name: "a start with a non-string transaction id is not",
    message: withContent({ transaction_id: 42 }),
    expected: undefined,
  },
  {
    name: "a start without from_device is not",
    message: withContent({ from_device: undefined }),
    expected: undefined,
  },
  {
    name: "a start without a sender is not",
    message: { ...NIO_START, sender: undefined },
    expected: undefined,
  },
  {
    name: "a start without content is not",
    message: { ...NIO_START, content: undefined },
    expected: undefined,
  },
  { name: "an empty event is not", message: {}, expected: undefined },
];

for (const c of startCases) {
  Deno.test(`classicStart: ${c.name}`, () => {
    deepStrictEqual(classicStart(c.message, OWN), c.expected);
  });
}
