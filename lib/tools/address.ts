/**
 * Address classification for `fetch_url`'s guard against reaching the bot's
 * own network (decision 19): which IP addresses and host names are public.
 * The ranges come from ipaddr.js (IANA special-purpose registries); only
 * its `unicast` range (nothing special) is public.
 *
 * @module
 */
import ipaddr from "ipaddr.js";

/**
 * An address's range: an ipaddr.js range name (`unicast`, `loopback`,
 * `private`, `linkLocal`, `uniqueLocal`, `rfc6052`, `teredo`, …), one of
 * ours below, or `invalid` for anything that is not an IP address.
 */
export type AddressRange = string;

/**
 * Ranges ipaddr.js 2.5.0 does not name, added on top. `::/96` holds the
 * deprecated IPv4-compatible addresses (`::127.0.0.1`, RFC 4291 §2.5.5.1),
 * which some stacks still route to the embedded IPv4 address; ipaddr.js
 * calls them `unicast`. (NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`,
 * `::ffff:0:0:0/96`, Teredo `2001::/32`, `2001:2::/48` and `3fff::/20` are
 * all in ipaddr.js 2.5.0.)
 */
const EXTRA_V6: Array<[range: AddressRange, cidr: [ipaddr.IPv6, number]]> = [
  ["ipv4Compatible", ipaddr.IPv6.parseCIDR("::/96")],
];

function parse(address: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  let text = address;
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  if (!ipaddr.isValid(text)) return null;
  try {
    // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged by their IPv4 address.
    return ipaddr.process(text);
  } catch {
    return null;
  }
}

/**
 * The range of an IPv4 or IPv6 address (brackets and a zone id allowed).
 * IPv4 text is read as URL parsers and `inet_aton` read it (`127.1`,
 * `0x7f.1` and `2130706433` are all 127.0.0.1).
 */
export function addressRange(address: string): AddressRange {
  const parsed = parse(address);
  if (!parsed) return "invalid";
  const range = parsed.range();
  if (range !== "unicast" || parsed.kind() !== "ipv6") return range;
  const v6 = parsed as ipaddr.IPv6;
  return EXTRA_V6.find(([, cidr]) => v6.match(cidr))?.[0] ?? range;
}

/** True when `address` is an IP address that may be fetched: its range is `unicast`. */
export function isPublicAddress(address: string): boolean {
  return addressRange(address) === "unicast";
}

/** Host names that are local or cloud metadata services whatever DNS says. */
const BLOCKED_NAMES = new Set([
  "localhost",
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
]);

/** Lower-cases a URL host name and drops brackets and a trailing dot. */
export function normaliseHost(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  while (host.endsWith(".")) host = host.slice(0, -1);
  return host;
}

/** True for `localhost`, `*.localhost` and cloud metadata host names. */
export function isBlockedHostname(hostname: string): boolean {
  const host = normaliseHost(hostname);
  return BLOCKED_NAMES.has(host) || host.endsWith(".localhost");
}

/** True when `hostname` is an IP literal (IPv6 with or without brackets). */
export function isIpLiteral(hostname: string): boolean {
  return addressRange(normaliseHost(hostname)) !== "invalid";
}
