import type { Activity, Attachment } from 'botbuilder';

/**
 * Files users send, whatever the channel, as bytes:
 * - native Slack: the channel already downloaded them (with the bot token) into `content: Buffer`;
 * - Teams personal chat: `application/vnd.microsoft.teams.file.download.info` with a short-lived,
 *   pre-authenticated `content.downloadUrl` (SharePoint/OneDrive) — fetched at once;
 * - the local Web Chat (its Direct Line upload) and the terminal chat: `contentUrl` on the channel's
 *   own server, i.e. the same origin as the activity's serviceUrl;
 * - `data:` URLs (base64), from any client.
 * Anything else is refused: the bot never fetches an arbitrary URL a message names.
 */

export const TEAMS_FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export interface InboundFile {
  name: string;
  contentType: string;
  bytes: Buffer;
}

export interface FetchPolicy {
  maxBytes: number;
  /** Hosts that may be fetched over plain http (the loopback allow-list of a server without auth). */
  httpHosts: readonly string[];
  timeoutMs?: number;
  fetch?: typeof fetch;
}

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

export async function readAttachment(a: Attachment, activity: Pick<Activity, 'serviceUrl'>, policy: FetchPolicy): Promise<InboundFile> {
  const { name, contentType } = describeAttachment(a);
  const tooLarge = (size: string) =>
    new InboundFileError(name, `"${name}" is too large for me (${size}; the limit is ${mb(policy.maxBytes)}).`);
  if (Buffer.isBuffer(a.content)) {
    if (a.content.length > policy.maxBytes) throw tooLarge(mb(a.content.length));
    return { name, contentType, bytes: a.content };
  }
  if (a.contentType === TEAMS_FILE_DOWNLOAD_INFO) {
    const url = (a.content as { downloadUrl?: unknown } | undefined)?.downloadUrl;
    if (typeof url !== 'string') throw new InboundFileError(name, `Teams sent "${name}" without a download link, so I couldn't read it. Please send it again.`);
    return { name, contentType, bytes: await download(name, url, policy) };
  }
  const contentUrl = typeof a.contentUrl === 'string' ? a.contentUrl : '';
  if (contentUrl.startsWith('data:')) return { name, contentType, bytes: decodeDataUrl(name, contentUrl, policy.maxBytes) };
  if (contentUrl && sameOrigin(contentUrl, activity.serviceUrl)) return { name, contentType, bytes: await download(name, contentUrl, policy) };
  throw new InboundFileError(name, `I can't download "${name}" from where it is stored. Please send it as a file attachment in this chat.`);
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

function sameOrigin(url: string, serviceUrl: string | undefined): boolean {
  try {
    return !!serviceUrl && new URL(url).origin === new URL(serviceUrl).origin;
  } catch {
    return false;
  }
}

function allowed(url: URL, policy: FetchPolicy): boolean {
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  const host = url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return url.protocol === 'http:' && policy.httpHosts.some((h) => h.toLowerCase().replace(/^\[(.*)\]$/, '$1') === host);
}

/** GET with the size cap enforced while streaming, redirects followed by hand (each hop re-checked), and a timeout. */
async function download(name: string, raw: string, policy: FetchPolicy): Promise<Buffer> {
  const failed = (why: string) => new InboundFileError(name, `I couldn't download "${name}" (${why}). Please send it again.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw failed('bad link');
  }
  const signal = AbortSignal.timeout(policy.timeoutMs ?? 20_000);
  for (let hop = 0; hop < 4; hop++) {
    if (!allowed(url, policy)) throw new InboundFileError(name, `I can't download "${name}" from ${url.protocol}//${url.host}. Please send it as a file attachment in this chat.`);
    let response: Response;
    try {
      response = await (policy.fetch ?? fetch)(url, { redirect: 'manual', signal });
    } catch (err) {
      throw failed((err as Error).name === 'TimeoutError' ? 'it took too long' : 'the link did not answer');
    }
    if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      await response.body?.cancel().catch(() => undefined);
      url = new URL(response.headers.get('location')!, url);
      continue;
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw failed(response.status === 401 || response.status === 403 || response.status === 404 ? 'the link has expired or is not allowed' : `HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > policy.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new InboundFileError(name, `"${name}" is too large for me (${mb(declared)}; the limit is ${mb(policy.maxBytes)}).`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      if (response.body) {
        for await (const chunk of response.body) {
          size += (chunk as Uint8Array).byteLength;
          if (size > policy.maxBytes) {
            await response.body.cancel().catch(() => undefined);
            throw new InboundFileError(name, `"${name}" is too large for me (over ${mb(policy.maxBytes)}).`);
          }
          chunks.push(Buffer.from(chunk as Uint8Array));
        }
      }
    } catch (err) {
      if (err instanceof InboundFileError) throw err;
      throw failed('the download broke off');
    }
    return Buffer.concat(chunks);
  }
  throw failed('too many redirects');
}

function cleanName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 128);
  return base || 'file';
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
