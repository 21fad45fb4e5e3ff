/**
 * Who may verify the bot (`matrix.verification.accept_from`, decision 23).
 * The SAS flow itself runs against a real homeserver in
 * tests/e2e/verification_test.ts.
 */
import { strictEqual } from "node:assert/strict";
import { type AcceptFrom, acceptsFrom } from "../lib/verification.ts";

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
