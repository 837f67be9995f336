import { isIP } from 'node:net';
import type { Activity, Attachment } from 'botbuilder';
import { OriginAllowList } from '../http/serviceUrlPolicy.js';
import type { Resolver } from './addressGuard.js';
import { DownloadFailedError, DownloadRefusedError, guardedDownload, type HopDecision } from './guardedDownload.js';

/**
 * Files users send, whatever the channel, as bytes:
 * - native Slack: the channel already downloaded them (with the bot token, from Slack's file hosts
 *   only: slack/files.ts) into `content: Buffer`;
 * - Teams personal chat: `application/vnd.microsoft.teams.file.download.info` with a short-lived,
 *   pre-authenticated `content.downloadUrl` (SharePoint/OneDrive) — fetched at once, only for an
 *   activity of the Teams channel and only from the Teams file hosts (TEAMS_FILE_HOSTS);
 * - the local Web Chat (its Direct Line upload) and the terminal chat: `contentUrl` on the channel's
 *   own server, i.e. the same origin as the activity's serviceUrl;
 * - `data:` URLs (base64), from any client.
 * Anything else is refused: the bot never fetches an arbitrary URL a message names. Downloads go
 * through guardedDownload: each redirect re-checked, public addresses only unless the origin was
 * named explicitly (DNS resolved and pinned, so rebinding does not help).
 */

export const TEAMS_FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Where Teams puts the files users attach (SharePoint / OneDrive for Business, incl. government and China clouds). */
export const DEFAULT_TEAMS_FILE_HOSTS: readonly string[] = [
  'https://*.sharepoint.com',
  'https://*.sharepoint.us',
  'https://*.sharepoint-mil.us',
  'https://*.sharepoint.cn',
  'https://onedrive.live.com',
  'https://*.1drv.com',
];

export interface InboundFile {
  name: string;
  contentType: string;
  bytes: Buffer;
}

export interface FetchPolicy {
  maxBytes: number;
  /**
   * Where Teams download links may point. A host pattern (`https://*.sharepoint.com`) needs a
   * public address; an exact origin (`https://files.corp.example:8443`) or an IP/localhost entry
   * may be private. Default: DEFAULT_TEAMS_FILE_HOSTS (public addresses only).
   */
  teamsFileHosts?: OriginAllowList;
  /** Channels whose activities may carry Teams download links (default: msteams). */
  teamsChannels?: readonly string[];
  /**
   * Whether an activity's serviceUrl origin is a file store the bot trusts even on a loopback or
   * private address (the serviceUrl allow-list of a server without auth, this server's own web
   * chat). Other same-origin downloads need https and a public address.
   */
  isTrustedOrigin?: (origin: string) => boolean;
  timeoutMs?: number;
  /** DNS (tests point public-looking names at loopback with it). */
  resolve?: Resolver;
  /** Trusted CA certificates (tests' local https servers). */
  ca?: string | Buffer;
}

/** A FetchPolicy from configuration: bare hosts in `teamsFileHosts` mean https on the default port. */
export function createFetchPolicy(options: Omit<FetchPolicy, 'teamsFileHosts'> & { teamsFileHosts?: readonly string[] }): FetchPolicy {
  const hosts = options.teamsFileHosts?.map((h) => (h.includes('://') ? h : `https://${h}`));
  return { ...options, teamsFileHosts: hosts ? new OriginAllowList(hosts) : undefined };
}

const defaultTeamsHosts = new OriginAllowList(DEFAULT_TEAMS_FILE_HOSTS);

export class InboundFileError extends Error {
  constructor(
    readonly fileName: string,
    readonly userText: string,
  ) {
    super(userText);
    this.name = 'InboundFileError';
  }
}

/** The attachments that are files (not cards, not the HTML copy of the text Teams adds). */
export function fileAttachments(activity: Pick<Activity, 'attachments'>): Attachment[] {
  return (activity.attachments ?? []).filter((a): a is Attachment => {
    if (!a || typeof a !== 'object' || typeof a.contentType !== 'string') return false;
    const type = a.contentType.toLowerCase();
    if (type.startsWith('application/vnd.microsoft.card.') || type === 'application/vnd.microsoft.teams.card.file.consent') return false;
    if (type.startsWith('text/') && typeof a.content === 'string' && !a.contentUrl) return false;
    return true;
  });
}

/** What a file attachment says it is, before anything is downloaded. */
export function describeAttachment(a: Attachment): { name: string; contentType: string } {
  if (a.contentType === TEAMS_FILE_DOWNLOAD_INFO) {
    const info = (a.content ?? {}) as { fileType?: unknown };
    const fileType = typeof info.fileType === 'string' ? info.fileType.toLowerCase() : '';
    const name = cleanName(a.name ?? (fileType ? `file.${fileType}` : 'file'));
    return { name, contentType: fileType === 'xlsx' ? XLSX : 'application/octet-stream' };
  }
  return { name: cleanName(a.name ?? 'file'), contentType: a.contentType };
}

export async function readAttachment(
  a: Attachment,
  activity: Pick<Activity, 'serviceUrl'> & Partial<Pick<Activity, 'channelId'>>,
  policy: FetchPolicy,
): Promise<InboundFile> {
  const { name, contentType } = describeAttachment(a);
  const tooLarge = (size: string) =>
    new InboundFileError(name, `"${name}" is too large for me (${size}; the limit is ${mb(policy.maxBytes)}).`);
  if (Buffer.isBuffer(a.content)) {
    if (a.content.length > policy.maxBytes) throw tooLarge(mb(a.content.length));
    return { name, contentType, bytes: a.content };
  }
  if (a.contentType === TEAMS_FILE_DOWNLOAD_INFO) {
    // Only Teams sends these: from any other channel the link is just a URL someone typed.
    if (!(policy.teamsChannels ?? ['msteams']).includes(String(activity.channelId ?? ''))) {
      throw new InboundFileError(name, `I can't download "${name}": that kind of file link only comes from Teams. Please send it as a file attachment in this chat.`);
    }
    const url = (a.content as { downloadUrl?: unknown } | undefined)?.downloadUrl;
    if (typeof url !== 'string') throw new InboundFileError(name, `Teams sent "${name}" without a download link, so I couldn't read it. Please send it again.`);
    const hosts = policy.teamsFileHosts ?? defaultTeamsHosts;
    return { name, contentType, bytes: await download(name, url, policy, (hop) => teamsHop(hosts, hosts !== defaultTeamsHosts, hop)) };
  }
  const contentUrl = typeof a.contentUrl === 'string' ? a.contentUrl : '';
  if (contentUrl.startsWith('data:')) return { name, contentType, bytes: decodeDataUrl(name, contentUrl, policy.maxBytes) };
  const store = originOf(activity.serviceUrl);
  if (contentUrl && store && originOf(contentUrl) === store) {
    const trusted = policy.isTrustedOrigin?.(store) ?? false;
    // The channel's own file store: that origin only, redirects included.
    const check = (hop: URL): HopDecision => (hop.origin !== store ? false : trusted ? 'any' : hop.protocol === 'https:' ? 'public' : false);
    return { name, contentType, bytes: await download(name, contentUrl, policy, check) };
  }
  throw new InboundFileError(name, `I can't download "${name}" from where it is stored. Please send it as a file attachment in this chat.`);
}

/**
 * A Teams link (and each redirect) must match the Teams file hosts. The built-in host patterns
 * need public addresses; a configured entry that names one origin exactly, or an IP address or
 * localhost, was chosen by the operator and may be private (an on-premises file server, a test).
 */
function teamsHop(hosts: OriginAllowList, configured: boolean, url: URL): HopDecision {
  const rule = hosts.match(url);
  if (!rule) return false;
  return configured && (rule.exact || isIP(rule.host) !== 0 || rule.host === 'localhost') ? 'any' : 'public';
}

function decodeDataUrl(name: string, url: string, maxBytes: number): Buffer {
  const match = /^data:[^,]*?(;base64)?,/i.exec(url);
  if (!match) throw new InboundFileError(name, `"${name}" came in a form I can't read.`);
  const payload = url.slice(match[0].length);
  // Base64 is 4 characters per 3 bytes: refuse before decoding anything that is too large.
  if (payload.length * (match[1] ? 0.75 : 1) > maxBytes + 4) {
    throw new InboundFileError(name, `"${name}" is too large for me (the limit is ${mb(maxBytes)}).`);
  }
  return match[1] ? Buffer.from(payload, 'base64') : Buffer.from(decodeURIComponent(payload), 'utf8');
}

function originOf(url: string | undefined): string | undefined {
  try {
    const origin = url ? new URL(url).origin : undefined;
    return origin && origin !== 'null' ? origin : undefined;
  } catch {
    return undefined;
  }
}

async function download(name: string, raw: string, policy: FetchPolicy, check: (url: URL) => HopDecision): Promise<Buffer> {
  const failed = (why: string) => new InboundFileError(name, `I couldn't download "${name}" (${why}). Please send it again.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw failed('bad link');
  }
  try {
    return await guardedDownload(url, { maxBytes: policy.maxBytes, check, timeoutMs: policy.timeoutMs, resolve: policy.resolve, ca: policy.ca });
  } catch (err) {
    if (err instanceof DownloadRefusedError) {
      throw new InboundFileError(name, `I can't download "${name}" from ${err.url.protocol}//${err.url.host}. Please send it as a file attachment in this chat.`);
    }
    if (!(err instanceof DownloadFailedError)) throw failed('the link did not answer');
    switch (err.reason) {
      case 'too_large':
        throw new InboundFileError(
          name,
          err.detail !== undefined
            ? `"${name}" is too large for me (${mb(err.detail)}; the limit is ${mb(policy.maxBytes)}).`
            : `"${name}" is too large for me (over ${mb(policy.maxBytes)}).`,
        );
      case 'status':
        throw failed(err.detail === 401 || err.detail === 403 || err.detail === 404 ? 'the link has expired or is not allowed' : `HTTP ${err.detail}`);
      case 'timeout':
        throw failed('it took too long');
      case 'redirects':
        throw failed('too many redirects');
      case 'bad_link':
        throw failed('bad link');
      case 'broke_off':
        throw failed('the download broke off');
      default:
        throw failed('the link did not answer');
    }
  }
}

function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 128);
  return base || 'file';
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
