/**
 * Files to and from Slack.
 *
 * In: a `file_share` message carries file objects whose `url_private_download` needs the bot
 * token as `Authorization: Bearer …` (scope `files:read`). Without it Slack does not refuse: it
 * answers an HTML sign-in page (or redirects to one), so a download that comes back as HTML for a
 * file that is not HTML is reported as such, never passed on as the file.
 * Out: `files.uploadV2` (files.getUploadURLExternal → upload → files.completeUploadExternal),
 * scope `files:write`; see SlackAdapter.uploadFile.
 */

/** The part of a Slack file object (events, `files.info`) used here. */
export interface SlackFile {
  id?: string;
  name?: string;
  title?: string;
  mimetype?: string;
  size?: number;
  mode?: string;
  url_private?: string;
  url_private_download?: string;
}

export interface DownloadedFile {
  id?: string;
  name: string;
  contentType: string;
  bytes: Buffer;
}

export type SlackFileProblem = 'login_page' | 'too_large' | 'unavailable' | 'http_error' | 'not_allowed';

export class SlackFileError extends Error {
  constructor(
    readonly problem: SlackFileProblem,
    readonly fileName: string,
    message: string,
  ) {
    super(message);
    this.name = 'SlackFileError';
  }

  /** What the user is told. */
  userText(): string {
    switch (this.problem) {
      case 'login_page':
        return `I couldn't read "${this.fileName}": Slack sent me its sign-in page instead of the file, so this app is not allowed to read files. An admin needs to add the files:read scope to the Slack app and reinstall it.`;
      case 'too_large':
        return `"${this.fileName}" is too large for me (${this.message}).`;
      case 'unavailable':
        return `I can't read "${this.fileName}": Slack doesn't make its contents available (${this.message}).`;
      default:
        return `I couldn't download "${this.fileName}" from Slack (${this.message}). Please try again.`;
    }
  }
}

export interface DownloadOptions {
  token: string;
  maxBytes: number;
  /** May the bot token be sent to this URL? (Slack's file hosts; the fake API in tests.) */
  isAllowedUrl: (url: URL) => boolean;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Slack's own hosts, over https. */
export function isSlackFileUrl(url: URL): boolean {
  return url.protocol === 'https:' && (url.hostname === 'slack.com' || url.hostname.endsWith('.slack.com'));
}

export async function downloadSlackFile(file: SlackFile, options: DownloadOptions): Promise<DownloadedFile> {
  const name = file.name || file.title || file.id || 'file';
  if (file.mode === 'tombstone' || file.mode === 'hidden_by_limit' || file.mode === 'external') {
    throw new SlackFileError('unavailable', name, file.mode === 'external' ? 'it is stored outside Slack' : `the file is ${file.mode.replace(/_/g, ' ')}`);
  }
  const raw = file.url_private_download ?? file.url_private;
  if (!raw) throw new SlackFileError('unavailable', name, 'no download URL');
  if (typeof file.size === 'number' && file.size > options.maxBytes) throw new SlackFileError('too_large', name, `${file.size} bytes; the limit is ${options.maxBytes}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SlackFileError('not_allowed', name, 'bad download URL');
  }
  // The bot token goes to Slack only, whatever a payload says.
  if (!options.isAllowedUrl(url)) throw new SlackFileError('not_allowed', name, `refusing to send the bot token to ${url.origin}`);
  const response = await (options.fetch ?? fetch)(url, {
    headers: { authorization: `Bearer ${options.token}` },
    // Slack answers a missing or refused token with a redirect to its sign-in page: never follow
    // it (and never carry the token to wherever it points).
    redirect: 'manual',
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const contentType = (response.headers.get('content-type') ?? '').toLowerCase();
  const expectsHtml = (file.mimetype ?? '').toLowerCase().startsWith('text/html');
  if ((response.status >= 300 && response.status < 400) || (contentType.startsWith('text/html') && !expectsHtml)) {
    await response.body?.cancel().catch(() => undefined);
    throw new SlackFileError('login_page', name, `Slack answered ${response.status} ${contentType || 'without a content type'}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new SlackFileError('http_error', name, `HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new SlackFileError('too_large', name, `${declared} bytes; the limit is ${options.maxBytes}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      size += (chunk as Uint8Array).byteLength;
      if (size > options.maxBytes) {
        await response.body.cancel().catch(() => undefined);
        throw new SlackFileError('too_large', name, `over ${options.maxBytes} bytes`);
      }
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
  }
  return {
    ...(file.id ? { id: file.id } : {}),
    name,
    contentType: file.mimetype || contentType.split(';')[0] || 'application/octet-stream',
    bytes: Buffer.concat(chunks),
  };
}
