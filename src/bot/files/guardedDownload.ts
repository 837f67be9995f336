import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { portOf, unbracket } from '../http/serviceUrlPolicy.js';
import { isPublicAddress, resolveHost, systemResolver, type ResolvedAddress, type Resolver } from './addressGuard.js';

/**
 * A GET that only goes where a policy says, for files users send (Teams download links, the
 * channel's own file store):
 * - every hop — the first URL and each redirect, followed by hand — is checked by `check`;
 * - a hop allowed as `public` must resolve to public addresses only (no loopback, private,
 *   link-local…); `any` is for origins the operator named explicitly;
 * - the connection goes to the address that was checked (pinned), so DNS rebinding between the
 *   check and the connection is not possible;
 * - the size cap is enforced while streaming; one deadline covers every hop.
 */

/** How a hop may be fetched: only from public addresses, from any address (an allow-listed origin), or not at all. */
export type HopDecision = 'public' | 'any' | false;

export interface GuardedDownloadOptions {
  maxBytes: number;
  check(url: URL): HopDecision;
  timeoutMs?: number;
  maxRedirects?: number;
  resolve?: Resolver;
  /** Trusted CA certificates instead of the system's (tests' local https servers). */
  ca?: string | Buffer | (string | Buffer)[];
}

/** The URL (first or after a redirect) is not somewhere files may come from. */
export class DownloadRefusedError extends Error {
  constructor(
    readonly url: URL,
    readonly reason: 'not_allowed' | 'private_address',
  ) {
    super(`download refused (${reason}): ${url.protocol}//${url.host}`);
    this.name = 'DownloadRefusedError';
  }
}

export class DownloadFailedError extends Error {
  constructor(
    readonly reason: 'bad_link' | 'timeout' | 'no_answer' | 'status' | 'too_large' | 'redirects' | 'broke_off',
    readonly detail?: number,
  ) {
    super(`download failed (${reason}${detail !== undefined ? `: ${detail}` : ''})`);
    this.name = 'DownloadFailedError';
  }
}

export async function guardedDownload(start: URL, options: GuardedDownloadOptions): Promise<Buffer> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 20_000);
  const resolver = options.resolve ?? systemResolver;
  let url = start;
  for (let hop = 0; hop <= (options.maxRedirects ?? 3); hop++) {
    if (url.username || url.password) throw new DownloadRefusedError(url, 'not_allowed');
    const decision = url.protocol === 'http:' || url.protocol === 'https:' ? options.check(url) : false;
    if (!decision) throw new DownloadRefusedError(url, 'not_allowed');
    let addresses: ResolvedAddress[];
    try {
      addresses = await untilAborted(resolveHost(url, resolver), signal);
    } catch {
      throw new DownloadFailedError(signal.aborted ? 'timeout' : 'no_answer');
    }
    if (decision === 'public' && !addresses.every((a) => isPublicAddress(a.address))) throw new DownloadRefusedError(url, 'private_address');
    let response: IncomingMessage;
    try {
      response = await get(url, addresses[0]!, options, signal);
    } catch {
      throw new DownloadFailedError(signal.aborted ? 'timeout' : 'no_answer');
    }
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (status >= 300 && status < 400 && location) {
      response.destroy();
      try {
        url = new URL(location, url);
      } catch {
        throw new DownloadFailedError('bad_link');
      }
      continue;
    }
    if (status !== 200) {
      response.destroy();
      throw new DownloadFailedError('status', status);
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      response.destroy();
      throw new DownloadFailedError('too_large', declared);
    }
    return readCapped(response, options.maxBytes, signal);
  }
  throw new DownloadFailedError('redirects');
}

function get(url: URL, address: ResolvedAddress, options: GuardedDownloadOptions, signal: AbortSignal): Promise<IncomingMessage> {
  const host = unbracket(url.hostname);
  // Node skips `lookup` for IP literals; for a name it connects to the address checked above.
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      {
        host,
        port: portOf(url),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { accept: '*/*' },
        lookup: pinned,
        agent: false,
        signal,
        ...(url.protocol === 'https:' ? { servername: isIP(host) ? undefined : host, ...(options.ca ? { ca: options.ca } : {}) } : {}),
      },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
}

async function readCapped(response: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) {
        response.destroy();
        throw new DownloadFailedError('too_large');
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    if (err instanceof DownloadFailedError) throw err;
    throw new DownloadFailedError(signal.aborted ? 'timeout' : 'broke_off');
  }
  if (!response.complete) throw new DownloadFailedError('broke_off');
  return Buffer.concat(chunks);
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
