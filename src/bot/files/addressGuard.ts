import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { unbracket } from '../http/serviceUrlPolicy.js';

/** A resolved address of a host. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Host name → its addresses (tests inject one to point a public-looking name at loopback). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/**
 * True for an address on the public internet. Loopback, private (RFC 1918, unique-local),
 * link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast, reserved,
 * unspecified… are not. An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/**
 * The addresses to connect to for `url`'s host: an IP literal as it is, a name resolved once.
 * The caller connects to exactly these (pinned), so a second DNS answer (rebinding) is never used.
 */
export async function resolveHost(url: URL, resolve: Resolver): Promise<ResolvedAddress[]> {
  const host = unbracket(url.hostname);
  const family = isIP(host);
  if (family) return [{ address: host, family: family === 6 ? 6 : 4 }];
  const addresses = await resolve(host);
  if (addresses.length === 0) throw new Error(`${host} has no address`);
  return addresses;
}
