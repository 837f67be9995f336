/**
 * A local fake of the parts of Slack the native Slack channel talks to, on loopback, reached
 * through `@slack/web-api`'s `slackApiUrl` option (SLACK_API_URL). It speaks Slack's request and
 * response shapes: form-encoded (or JSON) Web API calls with `Authorization: Bearer xoxb-…`,
 * JSON-encoded `blocks`/`files` fields, `{ok: true, …}` / `{ok: false, error}` answers with HTTP
 * 200, the files.uploadV2 three-step dance, and private file URLs that answer an HTML sign-in page
 * to a request without a valid bearer token (as Slack does).
 *
 * Also here: the other direction — Slack's signed requests to our endpoints (events and
 * interactivity payloads), signed in the test with the signing secret exactly as Slack signs them.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: Block[];
  thread_ts?: string;
  user: string;
  bot_id: string;
  edited?: boolean;
}

export type Block = Record<string, unknown> & { type: string };

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
}

export interface FakeSlackOptions {
  token?: string;
  botUserId?: string;
  botId?: string;
  teamId?: string;
  /** Tokens that are valid but lack `files:read`: file downloads get the sign-in page. */
  tokensWithoutFilesRead?: string[];
}

const LOGIN_PAGE = `<!DOCTYPE html><html lang="en-US"><head><title>Slack</title></head><body><form action="/signin" method="post"><h1>Sign in to Slack</h1></form></body></html>`;
/** Fields Slack's client sends JSON-encoded inside a form body. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'files', 'metadata']);

export class FakeSlackApi {
  readonly token: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly teamId: string;
  readonly calls: ApiCall[] = [];
  /** Messages by `${channel}/${ts}` (as chat.update leaves them). */
  readonly messages = new Map<string, SlackMessage>();
  /** Uploaded files by id: bytes and what completeUploadExternal said about them. */
  readonly uploads = new Map<string, { filename: string; length: number; bytes?: Buffer; channel?: string; thread_ts?: string; title?: string }>();
  /** Files users "shared", served at their url_private_download. */
  private readonly files = new Map<string, { name: string; mimetype: string; bytes: Buffer }>();
  private readonly failures = new Map<string, { error: string; times: number }>();
  private readonly waiters = new Set<() => void>();
  private readonly noFilesRead: Set<string>;
  private server?: http.Server;
  private seq = 0;
  private fileSeq = 0;
  url = '';

  constructor(options: FakeSlackOptions = {}) {
    this.token = options.token ?? 'xoxb-1111-2222-fake';
    this.botUserId = options.botUserId ?? 'U0BOT';
    this.botId = options.botId ?? 'B0BOT';
    this.teamId = options.teamId ?? 'T0TEAM';
    this.noFilesRead = new Set(options.tokensWithoutFilesRead ?? []);
  }

  /** The Web API base URL (SLACK_API_URL). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The next `times` calls of `method` answer `{ok: false, error}`. */
  failNext(method: string, error: string, times = 1): void {
    this.failures.set(method, { error, times });
  }

  /** A file as a user shares it: the file object Slack puts in the event (with its private URL). */
  addFile(name: string, mimetype: string, bytes: Buffer): Record<string, unknown> {
    const id = `F${String(++this.fileSeq).padStart(8, '0')}`;
    this.files.set(id, { name, mimetype, bytes });
    const base = `${this.url}/files-pri/${this.teamId}-${id}`;
    return {
      id,
      created: Math.floor(Date.now() / 1000),
      name,
      title: name,
      mimetype,
      filetype: name.split('.').pop() ?? 'binary',
      user: 'U0USER',
      mode: 'hosted',
      size: bytes.length,
      url_private: `${base}/${encodeURIComponent(name)}`,
      url_private_download: `${base}/download/${encodeURIComponent(name)}`,
    };
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Messages posted (chat.postMessage) to a channel, oldest first, as they are now. */
  posted(channel: string): SlackMessage[] {
    return [...this.messages.values()].filter((m) => m.channel === channel).sort((a, b) => Number(a.ts) - Number(b.ts));
  }

  /** Waits until `predicate` holds (checked after every request). */
  async waitFor<T>(predicate: () => T | undefined | false, timeoutMs = 15_000, what = 'a Slack call'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate();
      if (value) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; calls: ${this.calls.map((c) => c.method).join(', ')}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 100));
        this.waiters.add(wake);
      });
    }
  }

  // ----------------------------------------------------------------------------- HTTP

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const raw = await readAll(req);
    try {
      if (req.method === 'GET' && url.pathname.startsWith('/files-pri/')) return this.download(req, res, url);
      if (req.method === 'POST' && url.pathname.startsWith('/upload/')) return await this.receiveUpload(req, res, url, raw);
      if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
        const method = url.pathname.slice('/api/'.length);
        const { args, token } = parseCall(req, raw);
        this.calls.push({ method, args });
        return json(res, this.call(method, args, token));
      }
      res.writeHead(404).end();
    } finally {
      for (const wake of [...this.waiters]) wake();
    }
  }

  private call(method: string, args: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
    if (!token) return { ok: false, error: 'not_authed' };
    if (token !== this.token && !this.noFilesRead.has(token)) return { ok: false, error: 'invalid_auth' };
    const failure = this.failures.get(method);
    if (failure && failure.times > 0) {
      failure.times -= 1;
      return { ok: false, error: failure.error };
    }
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://fake-workspace.slack.com/',
          team: 'Fake Workspace',
          user: 'rpa-assistant',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return this.postMessage(args);
      case 'chat.update':
        return this.update(args);
      case 'chat.delete': {
        const key = `${String(args.channel)}/${String(args.ts)}`;
        if (!this.messages.delete(key)) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: args.channel, ts: args.ts };
      }
      case 'conversations.open': {
        const users = typeof args.users === 'string' ? args.users.split(',') : [];
        if (users.length !== 1 || !/^[UW][A-Z0-9]+$/.test(users[0]!)) return { ok: false, error: 'user_not_found' };
        return { ok: true, no_op: true, already_open: true, channel: { id: `D${users[0]!.slice(1)}` } };
      }
      case 'files.getUploadURLExternal': {
        const length = Number(args.length);
        if (typeof args.filename !== 'string' || !Number.isInteger(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
        const id = `F${String(++this.fileSeq).padStart(8, '0')}`;
        this.uploads.set(id, { filename: args.filename, length });
        return { ok: true, upload_url: `${this.url}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = Array.isArray(args.files) ? (args.files as { id: string; title?: string }[]) : [];
        if (files.length === 0) return { ok: false, error: 'invalid_arguments' };
        const out = [];
        for (const f of files) {
          const upload = this.uploads.get(f.id);
          if (!upload?.bytes) return { ok: false, error: 'file_not_found' };
          if (upload.bytes.length !== upload.length) return { ok: false, error: 'file_upload_size_mismatch' };
          Object.assign(upload, { channel: args.channel_id, thread_ts: args.thread_ts, title: f.title });
          out.push({ id: f.id, name: upload.filename, title: f.title ?? upload.filename, size: upload.length });
        }
        return { ok: true, files: out };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  private postMessage(args: Record<string, unknown>): Record<string, unknown> {
    const channel = args.channel;
    if (typeof channel !== 'string' || !/^[CDG][A-Z0-9]+$/.test(channel)) return { ok: false, error: 'channel_not_found' };
    const text = typeof args.text === 'string' ? args.text : '';
    const blocks = args.blocks as Block[] | undefined;
    if (!text.trim() && !blocks) return { ok: false, error: 'no_text' };
    if (blocks !== undefined && !validBlocks(blocks)) return { ok: false, error: 'invalid_blocks' };
    const ts = this.nextTs();
    const message: SlackMessage = {
      channel,
      ts,
      text,
      user: this.botUserId,
      bot_id: this.botId,
      ...(blocks ? { blocks } : {}),
      ...(typeof args.thread_ts === 'string' ? { thread_ts: args.thread_ts } : {}),
    };
    this.messages.set(`${channel}/${ts}`, message);
    const { channel: _c, ...wire } = message;
    return { ok: true, channel, ts, message: { type: 'message', app_id: 'A0APP', team: this.teamId, ...wire } };
  }

  private update(args: Record<string, unknown>): Record<string, unknown> {
    const message = this.messages.get(`${String(args.channel)}/${String(args.ts)}`);
    if (!message) return { ok: false, error: 'message_not_found' };
    if (message.user !== this.botUserId) return { ok: false, error: 'cant_update_message' };
    const blocks = args.blocks as Block[] | undefined;
    if (blocks !== undefined && !validBlocks(blocks)) return { ok: false, error: 'invalid_blocks' };
    if (typeof args.text === 'string') message.text = args.text;
    // An empty array removes the blocks; no `blocks` at all keeps them.
    if (blocks !== undefined) {
      if (blocks.length === 0) delete message.blocks;
      else message.blocks = blocks;
    }
    message.edited = true;
    return { ok: true, channel: message.channel, ts: message.ts, text: message.text, message: { type: 'message', ...message } };
  }

  private download(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    const match = /^\/files-pri\/[A-Z0-9]+-(F[0-9]+)\//.exec(url.pathname);
    const file = match ? this.files.get(match[1]!) : undefined;
    const auth = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    // Slack's behaviour: no valid token (or no files:read) → not an error, but its sign-in page.
    if (auth !== this.token || !file) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(LOGIN_PAGE);
      return;
    }
    res.writeHead(200, { 'content-type': file.mimetype, 'content-length': file.bytes.length });
    res.end(file.bytes);
  }

  private async receiveUpload(req: http.IncomingMessage, res: http.ServerResponse, url: URL, raw: Buffer): Promise<void> {
    const id = url.pathname.slice('/upload/'.length);
    const upload = this.uploads.get(id);
    if (!upload) {
      res.writeHead(404).end();
      return;
    }
    const type = String(req.headers['content-type'] ?? '');
    if (type.startsWith('multipart/form-data')) {
      // Slack takes the bytes as the (only) file part of a multipart body, or as the raw body.
      const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': type } }).formData();
      const part = [...form.values()].find((v) => typeof v !== 'string') as Blob | undefined;
      upload.bytes = part ? Buffer.from(await part.arrayBuffer()) : Buffer.alloc(0);
    } else {
      upload.bytes = raw;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${upload.bytes.length}`);
  }

  private nextTs(): string {
    this.seq += 1;
    return `${Math.floor(Date.now() / 1000)}.${String(this.seq).padStart(6, '0')}`;
  }
}

function parseCall(req: http.IncomingMessage, raw: Buffer): { args: Record<string, unknown>; token?: string } {
  const type = String(req.headers['content-type'] ?? '');
  let args: Record<string, unknown> = {};
  if (type.startsWith('application/json')) {
    args = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
  } else {
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) {
      args[k] = JSON_FIELDS.has(k) ? JSON.parse(v) : v;
    }
  }
  const bearer = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
  const token = bearer ?? (typeof args.token === 'string' ? args.token : undefined);
  delete args.token;
  return { args, token };
}

/** Block Kit limits Slack enforces with `invalid_blocks` (the ones our renderer must respect). */
function validBlocks(blocks: unknown): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return false;
  const actionIds = new Set<string>();
  for (const block of blocks as Block[]) {
    if (!block || typeof block.type !== 'string') return false;
    if (block.type === 'section') {
      const text = block.text as { type?: string; text?: string } | undefined;
      const fields = block.fields as { text?: string }[] | undefined;
      if (!text && !fields) return false;
      if (text && (typeof text.text !== 'string' || text.text.length > 3000 || text.text.length === 0)) return false;
      if (fields && (fields.length > 10 || fields.some((f) => typeof f.text !== 'string' || f.text.length > 2000))) return false;
    }
    if (block.type === 'actions') {
      const elements = block.elements as Record<string, unknown>[];
      if (!Array.isArray(elements) || elements.length === 0 || elements.length > 25) return false;
      for (const e of elements) {
        const text = (e.text as { text?: string } | undefined)?.text;
        if (e.type !== 'button' || typeof text !== 'string' || text.length > 75) return false;
        if (typeof e.value === 'string' && e.value.length > 2000) return false;
        if (typeof e.action_id !== 'string' || actionIds.has(e.action_id)) return false;
        actionIds.add(e.action_id);
      }
    }
  }
  return true;
}

function json(res: http.ServerResponse, body: Record<string, unknown>): void {
  const payload = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

async function readAll(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ------------------------------------------------------------------------------------------
// Slack → us: signed requests

/** `v0=` + hex HMAC-SHA256(secret, `v0:{timestamp}:{body}`), computed here independently of the server's verifier. */
export function slackSignature(secret: string, timestamp: string | number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedPostOptions {
  /** Seconds since the epoch (default: now). */
  timestamp?: number;
  /** Replaces the computed signature. */
  signature?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Sign this body but send `body` (tampering). */
  signedBody?: string;
}

export async function signedPost(
  url: string,
  secret: string,
  body: string,
  options: SignedPostOptions = {},
): Promise<{ status: number; text: string; json: unknown; ms: number }> {
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = options.signature ?? slackSignature(secret, timestamp, options.signedBody ?? body);
  const started = Date.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/json',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...options.headers,
    },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json, ms: Date.now() - started };
}

let eventSeq = 0;

/** An Events API envelope around `event`, as Slack sends it. */
export function eventEnvelope<E extends Record<string, unknown>>(event: E, fake: FakeSlackApi, eventId = `Ev${Date.now().toString(36).toUpperCase()}${++eventSeq}`) {
  return {
    token: 'legacy-verification-token',
    team_id: fake.teamId,
    context_team_id: fake.teamId,
    api_app_id: 'A0APP',
    event: { event_ts: event.ts, ...event },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: fake.teamId, user_id: fake.botUserId, is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(eventId).toString('base64url')}`,
  };
}

let tsSeq = 0;

/** A fresh message ts (seconds.micro), as Slack stamps user messages. */
export function userTs(): string {
  tsSeq += 1;
  return `${Math.floor(Date.now() / 1000) - 1}.${String(500_000 + tsSeq).padStart(6, '0')}`;
}

/** A `block_actions` payload for a click on `buttonTitle` of a message the bot posted. */
export function blockActionsPayload(fake: FakeSlackApi, message: SlackMessage, buttonTitle: string, userId: string): Record<string, unknown> {
  const buttons = (message.blocks ?? [])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b.elements as Record<string, unknown>[]) ?? []);
  const button = buttons.find((b) => (b.text as { text?: string }).text === buttonTitle);
  if (!button) throw new Error(`no button "${buttonTitle}" in message ${message.ts} (have: ${buttons.map((b) => (b.text as { text?: string }).text).join(', ')})`);
  const actionTs = `${Math.floor(Date.now() / 1000)}.${String(++tsSeq).padStart(6, '0')}`;
  return {
    type: 'block_actions',
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: fake.teamId },
    api_app_id: 'A0APP',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: message.channel,
      is_ephemeral: false,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
    },
    trigger_id: `${tsSeq}.${Date.now()}.abcdef`,
    team: { id: fake.teamId, domain: 'fake-workspace' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: message.channel, name: message.channel.startsWith('D') ? 'directmessage' : 'procurement' },
    message: {
      type: 'message',
      user: message.user,
      bot_id: message.bot_id,
      app_id: 'A0APP',
      text: message.text,
      ts: message.ts,
      team: fake.teamId,
      ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
      blocks: message.blocks,
    },
    state: { values: {} },
    response_url: `https://hooks.slack.com/actions/${fake.teamId}/1/fake`,
    actions: [
      {
        action_id: button.action_id,
        block_id: 'b1',
        text: button.text,
        ...(button.value !== undefined ? { value: button.value } : {}),
        ...(button.style !== undefined ? { style: button.style } : {}),
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

/** The form body Slack sends to the interactivity URL. */
export const interactivityBody = (payload: Record<string, unknown>): string => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
