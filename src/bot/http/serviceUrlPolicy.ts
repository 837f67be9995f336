import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { ConnectorClient } from 'botframework-connector';

/**
 * Where the server may send requests, by origin (scheme + host + port), not by host alone: a
 * host-only list let a serviceUrl reach any port of an allowed host (an admin interface on
 * loopback, say).
 *
 * Entries:
 * - `https://smba.trafficmanager.net` — exactly that origin (the scheme's default port);
 * - `http://127.0.0.1:3979` — that port;
 * - `http://127.0.0.1:32768-65535` — a port range (the dynamic ports clients listening on port 0 get);
 * - `http://localhost:*` — any port (an explicit choice);
 * - `https://*.sharepoint.com` — any subdomain (not the domain itself);
 * - `localhost` — a bare host, the older form: http or https on any port (kept so that existing
 *   configurations keep working; prefer origins).
 * Hosts are compared after WHATWG URL canonicalisation, so `127.1`, `0x7f.0.0.1` and `127.0.0.1`
 * are one host and `[::1]` / `::1` are one host.
 */
export interface OriginRule {
  readonly schemes: ReadonlySet<string>;
  /** Canonical hostname (IPv6 without brackets); for a wildcard, the suffix after `*.`. */
  readonly host: string;
  readonly wildcard: boolean;
  readonly minPort: number;
  readonly maxPort: number;
  /** The entry names one origin exactly (scheme, host and a single port). */
  readonly exact: boolean;
  readonly source: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

export class OriginRuleError extends Error {
  constructor(entry: string, why: string) {
    super(`invalid origin "${entry}": ${why}`);
    this.name = 'OriginRuleError';
  }
}

export function parseOriginRule(entry: string): OriginRule {
  const source = entry.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(source);
  let rest = scheme ? source.slice(scheme[0].length) : source;
  const schemes = scheme ? new Set([`${scheme[1]!.toLowerCase()}:`]) : new Set(['http:', 'https:']);
  for (const s of schemes) if (!(s in DEFAULT_PORTS)) throw new OriginRuleError(source, 'only http and https');
  rest = rest.replace(/\/+$/, '');
  if (rest.includes('/') || rest.includes('@') || rest.includes('?') || rest.includes('#')) throw new OriginRuleError(source, 'an origin has no path, user or query');
  let hostPart: string;
  let portPart: string | undefined;
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw new OriginRuleError(source, 'unclosed [');
    hostPart = rest.slice(0, end + 1);
    const after = rest.slice(end + 1);
    if (after && !after.startsWith(':')) throw new OriginRuleError(source, 'bad port');
    portPart = after ? after.slice(1) : undefined;
  } else if ((rest.match(/:/g) ?? []).length > 1) {
    hostPart = `[${rest}]`; // a bare IPv6 address (`::1`)
  } else {
    const colon = rest.indexOf(':');
    hostPart = colon < 0 ? rest : rest.slice(0, colon);
    portPart = colon < 0 ? undefined : rest.slice(colon + 1);
  }
  const wildcard = hostPart.startsWith('*.');
  const host = canonicalHost(wildcard ? hostPart.slice(2) : hostPart);
  if (!host) throw new OriginRuleError(source, 'bad host');
  let minPort: number;
  let maxPort: number;
  if (portPart === undefined || portPart === '') {
    if (!scheme) [minPort, maxPort] = [1, 65535]; // the older bare-host form: any port
    else minPort = maxPort = DEFAULT_PORTS[[...schemes][0]!]!;
  } else if (portPart === '*') {
    [minPort, maxPort] = [1, 65535];
  } else {
    const range = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(portPart);
    if (!range) throw new OriginRuleError(source, 'bad port');
    minPort = Number(range[1]);
    maxPort = Number(range[2] ?? range[1]);
    if (minPort < 1 || maxPort > 65535 || minPort > maxPort) throw new OriginRuleError(source, 'bad port range');
  }
  return { schemes, host, wildcard, minPort, maxPort, exact: !!scheme && !wildcard && minPort === maxPort, source };
}

/** The hostname as WHATWG URL canonicalises it, without IPv6 brackets; '' when it is not a valid host. */
export function canonicalHost(host: string): string {
  try {
    return unbracket(new URL(`http://${host}/`).hostname);
  } catch {
    return '';
  }
}

export function unbracket(hostname: string): string {
  return hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

export function portOf(url: URL): number {
  return url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol] ?? 0;
}

export function ruleMatches(rule: OriginRule, url: URL): boolean {
  if (!rule.schemes.has(url.protocol)) return false;
  const host = unbracket(url.hostname);
  if (rule.wildcard ? !host.endsWith(`.${rule.host}`) : host !== rule.host) return false;
  const port = portOf(url);
  return port >= rule.minPort && port <= rule.maxPort;
}

/** A list of origin rules (see OriginRule); invalid entries throw at construction, so a typo fails at start-up. */
export class OriginAllowList {
  readonly rules: readonly OriginRule[];

  constructor(entries: readonly string[]) {
    this.rules = entries.filter((e) => e.trim() !== '').map(parseOriginRule);
  }

  /** The first rule `url` matches (credentials in the URL never match). */
  match(url: URL): OriginRule | undefined {
    if (url.username || url.password) return undefined;
    return this.rules.find((r) => ruleMatches(r, url));
  }
}

/**
 * Without Bot Framework credentials the adapter would POST replies to any serviceUrl an
 * activity names (an open relay). Unauthenticated servers reply only to allow-listed origins.
 */
export class ServiceUrlPolicy {
  private readonly list: OriginAllowList;

  constructor(allowed: readonly string[]) {
    this.list = new OriginAllowList(allowed);
  }

  isAllowed(serviceUrl: string): boolean {
    let url: URL;
    try {
      url = new URL(serviceUrl);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return this.list.match(url) !== undefined;
  }
}

/**
 * The connector's HTTP client (@azure/core-rest-pipeline) passes `URL.hostname` to Node's
 * http.request, and for an IPv6 literal that is `[::1]` with its brackets: getaddrinfo fails with
 * ENOTFOUND after the retries (~10 s, the reply lost). An agent whose lookup takes the literal
 * without brackets fixes that; other hosts resolve as usual.
 */
const ipv6LiteralLookup: LookupFunction = (hostname, options, callback) => {
  const literal = /^\[([0-9a-f:.]+)\]$/i.exec(hostname);
  if (!literal) return dnsLookup(hostname, options, callback);
  const address = literal[1]!;
  if (options.all) (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, [{ address, family: 6 }]);
  else callback(null, address, 6);
};
const ipv6HttpAgent = new HttpAgent({ keepAlive: true, lookup: ipv6LiteralLookup });
const ipv6HttpsAgent = new HttpsAgent({ keepAlive: true, lookup: ipv6LiteralLookup });

/** The agent for a connector request to an IPv6 literal (`http://[::1]:3979/…`); undefined for any other URL. */
export function ipv6LiteralAgent(url: string): HttpAgent | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!parsed.hostname.startsWith('[')) return undefined;
  return parsed.protocol === 'https:' ? ipv6HttpsAgent : ipv6HttpAgent;
}

const IPV6_LITERAL_POLICY = 'rpaIpv6LiteralPolicy';

interface RequestLike {
  url: string;
  agent?: unknown;
}
interface PipelineLike {
  addPolicy(policy: { name: string; sendRequest(request: RequestLike, next: (r: RequestLike) => Promise<unknown>): Promise<unknown> }): void;
  getOrderedPolicies(): { name: string }[];
}

/** Gives a ConnectorClient's requests to IPv6 literals the agent above (the pipeline is not public API: false if absent). */
export function installIpv6LiteralPolicy(client: ConnectorClient): boolean {
  const pipeline = (client as unknown as { client?: { pipeline?: PipelineLike } }).client?.pipeline;
  if (!pipeline || typeof pipeline.addPolicy !== 'function' || typeof pipeline.getOrderedPolicies !== 'function') return false;
  if (pipeline.getOrderedPolicies().some((p) => p.name === IPV6_LITERAL_POLICY)) return true;
  pipeline.addPolicy({
    name: IPV6_LITERAL_POLICY,
    sendRequest(request, next) {
      const agent = ipv6LiteralAgent(request.url);
      if (agent && !request.agent) request.agent = agent;
      return next(request);
    },
  });
  return true;
}
