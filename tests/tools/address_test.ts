import { strictEqual } from "node:assert/strict";
import {
  addressRange,
  isBlockedHostname,
  isIpLiteral,
  isPublicAddress,
  normaliseHost,
} from "../../lib/tools/address.ts";

/** Each address, its range, and what it is. Only `unicast` is public. */
const ranges: Array<[address: string, range: string, what: string]> = [
  // IPv4
  ["93.184.216.34", "unicast", "a public IPv4 address"],
  ["8.8.8.8", "unicast", "a public resolver"],
  ["127.0.0.1", "loopback", "loopback"],
  ["127.255.255.254", "loopback", "the end of 127/8"],
  ["0.0.0.0", "unspecified", "the unspecified address"],
  ["0.1.2.3", "unspecified", "0/8"],
  ["10.1.2.3", "private", "10/8"],
  ["172.16.0.1", "private", "the start of 172.16/12"],
  ["172.31.255.255", "private", "the end of 172.16/12"],
  ["172.15.255.255", "unicast", "just below 172.16/12"],
  ["172.32.0.1", "unicast", "just above 172.16/12"],
  ["192.168.1.1", "private", "192.168/16"],
  ["169.254.169.254", "linkLocal", "the cloud metadata service"],
  ["100.64.0.1", "carrierGradeNat", "shared address space 100.64/10"],
  ["100.127.255.255", "carrierGradeNat", "the end of 100.64/10"],
  ["100.128.0.1", "unicast", "just above 100.64/10"],
  ["224.0.0.1", "multicast", "multicast"],
  ["255.255.255.255", "broadcast", "broadcast"],
  ["240.0.0.1", "reserved", "240/4"],
  ["192.0.0.8", "reserved", "IETF protocol assignments"],
  ["192.0.2.10", "reserved", "documentation"],
  ["198.18.0.1", "reserved", "benchmarking"],
  // IPv4 as URL parsers and inet_aton read it
  ["127.1", "loopback", "a two-part IPv4 address"],
  ["0x7f.1", "loopback", "a hexadecimal IPv4 address"],
  ["2130706433", "loopback", "IPv4 as one number"],
  ["0177.0.0.1", "loopback", "an octal IPv4 address"],
  // IPv6
  ["::1", "loopback", "IPv6 loopback"],
  ["[::1]", "loopback", "bracketed IPv6 loopback"],
  ["0:0:0:0:0:0:0:1", "loopback", "IPv6 loopback written out"],
  ["::", "unspecified", "the unspecified IPv6 address"],
  ["fc00::1", "uniqueLocal", "unique local fc00::/7"],
  ["fd12:3456:789a::1", "uniqueLocal", "unique local fd00::/8"],
  ["fe80::1", "linkLocal", "link-local"],
  ["fe80::1%eth0", "linkLocal", "link-local with a zone id"],
  ["fec0::1", "deprecatedSiteLocal", "site-local"],
  ["ff02::1", "multicast", "IPv6 multicast"],
  ["100::1", "discard", "the discard prefix"],
  ["2001:db8::1", "reserved", "documentation 2001:db8::/32"],
  ["3fff::1", "reserved", "documentation 3fff::/20"],
  ["3fff:fff:ffff::1", "reserved", "the end of 3fff::/20"],
  ["2001::1", "teredo", "Teredo 2001::/32"],
  ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo", "a Teredo address"],
  ["2001:2::1", "benchmarking", "benchmarking 2001:2::/48"],
  ["64:ff9b::7f00:1", "rfc6052", "NAT64 64:ff9b::/96 to loopback"],
  ["64:ff9b::93.184.216.34", "rfc6052", "NAT64 64:ff9b::/96 to a public address"],
  ["64:ff9b:1::a00:1", "rfc6052", "local-use NAT64 64:ff9b:1::/48"],
  ["::ffff:0:a00:1", "rfc6145", "IPv4-translated ::ffff:0:0:0/96"],
  ["2002:7f00:1::", "6to4", "6to4 2002::/16"],
  ["::127.0.0.1", "loopback", "dotted IPv4-compatible, read by ipaddr.js as IPv4-mapped"],
  ["::7f00:1", "ipv4Compatible", "IPv4-compatible ::/96 in hex (added on top of ipaddr.js)"],
  ["::a00:1", "ipv4Compatible", "IPv4-compatible ::/96, 10.0.0.1"],
  ["::5db8:d822", "ipv4Compatible", "IPv4-compatible ::/96, even of a public address"],
  ["2606:2800:220:1:248:1893:25c8:1946", "unicast", "a public IPv6 address"],
  ["2a00:1450:4001:81b::200e", "unicast", "another public IPv6 address"],
  // IPv4-mapped ::ffff:0:0/96: the IPv4 address decides
  ["::ffff:127.0.0.1", "loopback", "IPv4-mapped loopback"],
  ["::ffff:7f00:1", "loopback", "IPv4-mapped loopback in hex"],
  ["::ffff:10.0.0.1", "private", "IPv4-mapped private"],
  ["::ffff:169.254.169.254", "linkLocal", "IPv4-mapped metadata service"],
  ["::ffff:0.0.0.0", "unspecified", "IPv4-mapped unspecified"],
  ["::ffff:93.184.216.34", "unicast", "IPv4-mapped public"],
  ["[::ffff:127.0.0.1]", "loopback", "bracketed IPv4-mapped loopback"],
  // Not addresses
  ["example.com", "invalid", "a host name"],
  ["256.1.1.1", "invalid", "an octet over 255"],
  ["1.2.3.4.5", "invalid", "five parts"],
  ["01.2.3.-4", "invalid", "a negative part"],
  ["1::2::3", "invalid", "two ::"],
  ["12345::1", "invalid", "a group over 16 bits"],
  ["1:2:3:4:5:6:7:8:9", "invalid", "nine groups"],
  ["1:2:3:4:5:6:7", "invalid", "seven groups"],
  ["::ffff:300.1.1.1", "invalid", "a mapped address with an octet over 255"],
  ["", "invalid", "nothing"],
];

for (const [address, range, what] of ranges) {
  Deno.test(
    `${address || "(empty)"} (${what}) is in range ${range}${
      range === "unicast" ? ", public" : ", not public"
    }`,
    () => {
      strictEqual(addressRange(address), range);
      strictEqual(isPublicAddress(address), range === "unicast");
    },
  );
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
  strictEqual(isIpLiteral("[64:ff9b:1::a00:1]"), true);
  strictEqual(isIpLiteral("example.com"), false);
});
