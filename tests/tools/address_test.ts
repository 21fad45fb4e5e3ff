import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  type AddressKind,
  classifyAddress,
  isBlockedHostname,
  isIpLiteral,
  isPublicAddress,
  normaliseHost,
  parseIPv4,
  parseIPv6,
} from "../../lib/tools/address.ts";

const kinds: Array<[address: string, kind: AddressKind]> = [
  ["93.184.216.34", "public"],
  ["8.8.8.8", "public"],
  ["1.1.1.1", "public"],
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["0.0.0.0", "unspecified"],
  ["0.1.2.3", "unspecified"],
  ["10.1.2.3", "private"],
  ["172.16.0.1", "private"],
  ["172.20.0.1", "private"],
  ["172.31.255.255", "private"],
  ["172.15.255.255", "public"],
  ["172.32.0.1", "public"],
  ["192.168.1.1", "private"],
  ["192.169.0.1", "public"],
  ["169.254.169.254", "link-local"],
  ["169.254.0.1", "link-local"],
  ["100.64.0.1", "shared"],
  ["100.127.255.255", "shared"],
  ["100.63.255.255", "public"],
  ["100.128.0.1", "public"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "reserved"],
  ["192.0.2.10", "reserved"],
  ["198.18.0.1", "reserved"],
  ["::1", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["[::1]", "loopback"],
  ["::", "unspecified"],
  ["fc00::1", "private"],
  ["fd12:3456:789a::1", "private"],
  ["fe80::1", "link-local"],
  ["fe80::1%eth0", "link-local"],
  ["febf::1", "link-local"],
  ["fec0::1", "private"],
  ["ff02::1", "multicast"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:169.254.169.254", "link-local"],
  ["::ffff:93.184.216.34", "public"],
  ["::127.0.0.1", "loopback"],
  ["::7f00:1", "loopback"],
  ["::10.0.0.1", "private"],
  ["64:ff9b::127.0.0.1", "loopback"],
  ["64:ff9b::93.184.216.34", "public"],
  ["2002:7f00:1::", "loopback"],
  ["2002:5db8:d822::1", "public"],
  ["2001:db8::1", "reserved"],
  ["2606:2800:220:1:248:1893:25c8:1946", "public"],
  ["2a00:1450:4001:81b::200e", "public"],
  ["example.com", "invalid"],
  ["256.1.1.1", "invalid"],
  ["1.2.3", "invalid"],
  ["1.2.3.4.5", "invalid"],
  ["01.2.3.-4", "invalid"],
  ["1::2::3", "invalid"],
  ["12345::1", "invalid"],
  ["1:2:3:4:5:6:7:8:9", "invalid"],
  ["1:2:3:4:5:6:7", "invalid"],
  ["::ffff:300.1.1.1", "invalid"],
  ["", "invalid"],
];

for (const [address, kind] of kinds) {
  Deno.test(`classifies ${address || "(empty)"} as ${kind}`, () => {
    strictEqual(classifyAddress(address), kind);
    strictEqual(isPublicAddress(address), kind === "public");
  });
}

Deno.test("parses IPv4 dotted quads into bytes", () => {
  deepStrictEqual(parseIPv4("192.168.0.255"), [192, 168, 0, 255]);
  strictEqual(parseIPv4("192.168.0"), null);
  strictEqual(parseIPv4("192.168.0.x"), null);
});

const v6: Array<[text: string, bytes: number[] | null]> = [
  ["::", new Array(16).fill(0)],
  ["::1", [...new Array(15).fill(0), 1]],
  ["1::", [0, 1, ...new Array(14).fill(0)]],
  ["1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]],
  ["1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]],
  ["ffff::abcd", [255, 255, ...new Array(12).fill(0), 0xab, 0xcd]],
  ["::ffff:1.2.3.4", [...new Array(10).fill(0), 255, 255, 1, 2, 3, 4]],
  ["1:2:3:4:5:6:1.2.3.4", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]],
  ["[::1]", [...new Array(15).fill(0), 1]],
  ["1.2.3.4", null],
  [":1::", null],
  ["1:2:3:4:5:6:7:8::", null],
  ["::g", null],
];

for (const [text, bytes] of v6) {
  Deno.test(`parses the IPv6 address ${text} ${bytes ? "into its bytes" : "as invalid"}`, () => {
    deepStrictEqual(parseIPv6(text), bytes);
  });
}

const names: Array<[host: string, blocked: boolean]> = [
  ["localhost", true],
  ["LOCALHOST", true],
  ["localhost.", true],
  ["app.localhost", true],
  ["a.b.localhost", true],
  ["metadata.google.internal", true],
  ["metadata.google.internal.", true],
  ["metadata", true],
  ["example.com", false],
  ["localhost.example.com", false],
  ["notlocalhost", false],
  ["mylocalhost.com", false],
];

for (const [host, blocked] of names) {
  Deno.test(`${blocked ? "blocks" : "does not block"} the host name ${host}`, () => {
    strictEqual(isBlockedHostname(host), blocked);
  });
}

Deno.test("normalises host names: lower case, no brackets, no trailing dot", () => {
  strictEqual(normaliseHost("[FE80::1]"), "fe80::1");
  strictEqual(normaliseHost("Example.COM."), "example.com");
});

Deno.test("recognises IP literals, bracketed or not, and not names", () => {
  strictEqual(isIpLiteral("[::1]"), true);
  strictEqual(isIpLiteral("10.0.0.1"), true);
  strictEqual(isIpLiteral("example.com"), false);
});
