import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import { isLoopbackHost, type AppConfig } from '../../config/config.js';
import { sessionClientConfig } from '../../db/session.js';
import type { Logger } from '../../logger.js';
import { HttpError } from '../http/httpErrors.js';
import { hostHeaderIsLoopback } from '../http/operatorGuard.js';
import { isJsonContentType, OriginPolicy, requireJsonContentType } from '../http/edgeChecks.js';
import { readJsonBody, readRawBody } from '../http/readJsonBody.js';
import { sendJson } from '../http/respond.js';
import type { TurnResult } from '../messagesRoute.js';
import type { ProactiveChannel } from '../proactive/notifier.js';
import type { RouteInstaller } from '../server.js';
import { ActivityFeed } from './activityFeed.js';
import { CONTENT_TYPES, PAGE_CSP, STATIC_DIR, packageRoot, securityHeaders, sendStaticFile } from './assets.js';
import { WEBCHAT_CHANNEL_ID, storeBotActivity } from './botActivities.js';
import {
  DEFAULT_WEBCHAT_LIMITS,
  type DirectLineStore,
  type WebchatConversation,
  type WebchatLimits,
  type WireActivity,
} from './conversations.js';
import { DatabaseDirectLineStore } from './databaseStore.js';
import { loadWebchatKeys, type WebchatKeys } from './keys.js';
import { createWebchatProactive } from './proactive.js';
import { DirectLineStreams } from './stream.js';

/**
 * The local web channel: the part of Direct Line 3.0 that Microsoft's Web Chat and
 * botframework-directlinejs use (REST, polling and the WebSocket stream — see stream.ts), served
 * by this server, plus the connector endpoints the bot replies to.
 *
 *   browser (Web Chat) ── /v3/directline/… ──► this channel ── turn runner ──► bot (same path as /api/messages)
 *   bot replies ── POST/PUT {serviceUrl}/v3/conversations/… ──► this channel's connector ──► activity log ──► stream / poll
 *
 * Secret and token modes, as the service has them: `DIRECTLINE_SECRET` (server-side clients)
 * starts conversations and acts on any of them; a conversation token acts on its own conversation.
 *
 * Who may use it:
 * - Starting a conversation (`tokens/generate`, or `POST conversations` without a conversation
 *   token) needs `Authorization: Bearer <WEBCHAT_TOKEN>` when that is set; without it only a
 *   loopback-bound server allows it, and only for requests whose Host is a loopback name
 *   (a page on another site cannot reach it through DNS rebinding).
 * - Every call about a conversation needs that conversation's own token (256 random bits, issued
 *   by the start call; only its hash is kept): missing → 401, unknown conversation → 404, wrong → 403.
 * - The connector (our serviceUrl for this channel) sits under a random path segment that only the
 *   bot knows (it is in the activities' serviceUrl, which clients never see), so nobody else can
 *   post messages "from the bot". It needs no Bot Framework JWT: replies to it are sent by a
 *   dedicated auth-less adapter, whichever mode the server runs in. The segment is derived from key
 *   material in the database (keys.ts): the same on every replica and after a restart.
 * - User ids are namespaced (`webchat:<id>`) and bound to the conversation when it starts: a web
 *   chat user cannot speak as a Teams user or as another web chat conversation's user.
 *
 * State (conversations, tokens, the activity log, files, used stream tickets) is in the database
 * (databaseStore.ts), so any replica answers any call; proactive messages are written there
 * directly, from any process (proactive.ts).
 */

export { WEBCHAT_CHANNEL_ID };
const USER_ID_PATTERN = /^[A-Za-z0-9._@-]{1,64}$/;

export interface WebchatOptions {
  /** The connector's secret path segment (tests); derived from the database's key material otherwise. */
  connectorSecret?: string;
  limits?: Partial<WebchatLimits>;
}

export interface WebchatChannelDeps {
  config: Pick<AppConfig, 'host' | 'maxBodyBytes' | 'webchat' | 'bot' | 'database' | 'processRole'>;
  logger: Logger;
  /** Where the conversations live (PostgreSQL or the embedded PGlite). */
  dataSource: DataSource;
  /** Runs one activity through validation, tracing, the adapter and the bot. */
  runTurn: (readBody: () => Promise<unknown>, authHeader: string) => Promise<TurnResult>;
  /** The server's listening address (known after listen). */
  address: () => AddressInfo | string | null;
  /** Wraps work that graceful shutdown must wait for (turns). */
  track?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Browser origins accepted on the Direct Line routes besides the page's own (http/edgeChecks.ts). */
  origins?: OriginPolicy;
  options?: WebchatOptions;
}

export interface WebchatChannel {
  install: RouteInstaller;
  store: DirectLineStore;
  streams: DirectLineStreams;
  /** Proactive messages into web chat conversations, written to the store from any process. */
  proactive: ProactiveChannel;
  /** Base URL the bot replies to (`…/webchat/connector/<secret>`), on the server's own address. */
  connectorUrl(): string;
}

const clientAccount = z.object({ id: z.string().max(512).optional(), name: z.string().max(512).optional() }).passthrough();

/** What a client may say in an activity; everything else is set by the channel. */
const clientActivitySchema = z
  .object({
    type: z.enum(['message', 'event', 'typing']),
    text: z.string().max(16_000).optional(),
    textFormat: z.enum(['plain', 'markdown', 'xml']).optional(),
    locale: z.string().max(64).optional(),
    localTimestamp: z.string().max(64).optional(),
    localTimezone: z.string().max(128).optional(),
    name: z.string().max(256).optional(),
    value: z.unknown().optional(),
    entities: z.array(z.record(z.string(), z.unknown())).max(16).optional(),
    attachments: z.array(z.unknown()).max(0, 'attachments must be uploaded').optional(),
    from: clientAccount.optional(),
    channelData: z
      .object({ clientActivityID: z.string().max(128).optional(), clientTimestamp: z.string().max(64).optional() })
      .passthrough()
      .optional(),
  })
  .passthrough();

type ClientActivity = z.infer<typeof clientActivitySchema>;

const startBodySchema = z
  .object({
    user: z.object({ id: z.string().optional(), name: z.string().max(64).optional() }).passthrough().optional(),
    locale: z.string().max(64).optional(),
  })
  .passthrough();

export function createWebchatChannel(deps: WebchatChannelDeps): WebchatChannel {
  const { config, logger } = deps;
  const limits: WebchatLimits = { ...DEFAULT_WEBCHAT_LIMITS, ...deps.options?.limits };
  // Other replicas' appends reach this one's streams through LISTEN/NOTIFY (PostgreSQL server only),
  // on a session connection (DATABASE_SESSION_URL when a transaction-mode pooler is in front).
  const pool = (deps.dataSource.driver as unknown as { master: pg.Pool }).master;
  const listen = config.database.mode === 'postgres' ? sessionClientConfig(pool.options as pg.ClientConfig, config.database.sessionUrl) : undefined;
  const store = new DatabaseDirectLineStore(deps.dataSource, limits, new ActivityFeed({ listen, logger }), logger);

  // The keys every replica shares (keys.ts), read once; loading starts now, requests wait for it.
  let keys: (WebchatKeys & { connectorSecretHash: Buffer }) | undefined;
  let loadingKeys: Promise<WebchatKeys & { connectorSecretHash: Buffer }> | undefined;
  const sharedKeys = async () => {
    if (keys) return keys;
    loadingKeys ??= loadWebchatKeys(deps.dataSource).then(
      (loaded) => {
        const connectorSecret = deps.options?.connectorSecret ?? loaded.connectorSecret;
        keys = { ...loaded, connectorSecret, connectorSecretHash: sha256(connectorSecret) };
        return keys;
      },
      (err: unknown) => {
        loadingKeys = undefined;
        throw err;
      },
    );
    return loadingKeys;
  };
  void sharedKeys().catch((err: unknown) => logger.warn({ err }, 'web chat: keys not loaded yet; retried on the first request'));
  const track = deps.track ?? (<T>(fn: () => Promise<T>) => fn());
  const bot = { id: config.bot.appId ?? 'rpa-assistant', name: 'RPA Assistant', role: 'bot' };
  const startSecretHash = config.webchat.token ? sha256(config.webchat.token) : undefined;
  const directLineSecretHash = config.webchat.secret ? sha256(config.webchat.secret) : undefined;
  const openOnLoopback = !startSecretHash && !directLineSecretHash && isLoopbackHost(config.host);
  const replyLimit = Math.max(config.maxBodyBytes, limits.maxUploadBytes);
  const streams = new DirectLineStreams({
    store,
    ticketKey: async () => (await sharedKeys()).ticketKey,
    logger,
    checkOrigin: (req) => origins.check(req, { sameOrigin: true }),
  });

  const origin = (): string => {
    const address = deps.address();
    if (!address || typeof address === 'string') throw new Error('web chat: the server is not listening on TCP');
    let host = address.address;
    if (host === '0.0.0.0') host = '127.0.0.1';
    else if (host === '::' || host === '::ffff:0.0.0.0') host = '::1';
    return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  };
  /** Called during turns, which start from baseActivity(), which waits for the keys. */
  const connectorUrl = () => {
    if (!keys) throw new Error('web chat: keys not loaded');
    return `${origin()}/webchat/connector/${keys.connectorSecret}`;
  };
  const fileUrl = (id: string) => `/webchat/files/${id}`;

  // ------------------------------------------------------------------------------- helpers

  const bearer = (req: IncomingMessage): string | undefined => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(String(req.headers.authorization ?? ''));
    return match?.[1];
  };

  /** Is this the Direct Line secret (secret mode: any conversation, like the service's secret)? */
  const isSecret = (token: string | undefined): boolean =>
    token !== undefined && directLineSecretHash !== undefined && timingSafeEqual(sha256(token), directLineSecretHash);

  /** May this request start a conversation without a conversation token? */
  const mayStart = (req: IncomingMessage): boolean => {
    const token = bearer(req);
    if (isSecret(token)) return true;
    if (startSecretHash) return token !== undefined && timingSafeEqual(sha256(token), startSecretHash);
    return openOnLoopback && hostHeaderIsLoopback(req);
  };
  const refuseStart = (req: IncomingMessage): never => {
    if (bearer(req) === undefined) throw new HttpError(401, 'unauthorized', 'A web chat token is required.');
    throw new HttpError(403, 'forbidden', 'Invalid web chat token.');
  };

  const conversationFor = async (req: IncomingMessage, id: string | undefined): Promise<WebchatConversation> => {
    const token = bearer(req);
    if (token === undefined) throw new HttpError(401, 'unauthorized', 'A conversation token is required.');
    const conversation = id ? await store.get(id) : undefined;
    if (!conversation) throw new HttpError(404, 'not_found', 'Conversation not found.');
    if (!isSecret(token) && !store.tokenMatches(conversation, token)) throw new HttpError(403, 'forbidden', 'Invalid token for this conversation.');
    return conversation;
  };

  const readStartBody = async (req: IncomingMessage) => {
    const raw = await readRawBody(req, 16 * 1024);
    if (raw.length === 0) return {};
    if (!isJsonContentType(req.headers['content-type'])) throw new HttpError(415, 'unsupported_media_type', 'The request body must be application/json.');
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_json', 'Request body is not valid JSON.');
    }
    const parsed = startBodySchema.safeParse(json ?? {});
    if (!parsed.success) throw new HttpError(400, 'bad_argument', 'Invalid start-conversation body.');
    return parsed.data;
  };

  const newConversation = (body: z.infer<typeof startBodySchema>) => {
    // directlinejs and Web Chat may send back the namespaced id they were shown.
    const requested = body.user?.id?.replace(/^webchat:/, '');
    if (requested !== undefined && !USER_ID_PATTERN.test(requested)) {
      throw new HttpError(400, 'bad_argument', 'user.id must be 1-64 letters, digits or . _ @ -');
    }
    const id = `webchat:${requested ?? randomBytes(8).toString('hex')}`;
    return store.create({ id, name: body.user?.name?.trim() || undefined });
  };

  /** The Direct Line conversation object; never echoes the secret as a token. */
  const conversationBody = async (req: IncomingMessage, conversation: WebchatConversation, token?: string, watermark?: string | null) => ({
    conversationId: conversation.id,
    ...(token && !isSecret(token) ? { token } : {}),
    expires_in: Math.floor(limits.idleTtlMs / 1000),
    streamUrl: await streams.streamUrl(req, conversation.id, watermark),
  });

  const gone = () => new HttpError(404, 'not_found', 'Conversation not found.');

  const baseActivity = async (conversation: WebchatConversation, type: string) => {
    await sharedKeys(); // connectorUrl() below, and the turn runner's serviceUrl check
    const next = await store.nextActivityId(conversation.id);
    if (!next) throw gone();
    const { id, sequence } = next;
    return {
      sequence,
      activity: {
        type,
        id,
        timestamp: new Date().toISOString(),
        channelId: WEBCHAT_CHANNEL_ID,
        serviceUrl: connectorUrl(),
        conversation: { id: conversation.id },
        from: { id: conversation.user.id, name: conversation.user.name, role: 'user' },
        recipient: bot,
      } as WireActivity,
    };
  };

  /** Hands an activity to the bot exactly as /api/messages would (validation, tracing, adapter). */
  const deliver = async (activity: WireActivity): Promise<TurnResult> =>
    track(() => deps.runTurn(async () => activity, ''));

  /** Sends the conversationUpdate once, whichever replica is asked first; true for the call that did. */
  const start = async (conversation: WebchatConversation): Promise<boolean> => {
    if (conversation.started || !(await store.claimStart(conversation.id))) return false;
    const { activity } = await baseActivity(conversation, 'conversationUpdate');
    activity.membersAdded = [bot, { id: conversation.user.id, name: conversation.user.name }];
    const result = await deliver(activity);
    if (result.status >= 400) logger.warn({ status: result.status }, 'web chat: conversationUpdate not accepted');
    return true;
  };

  /** Builds the bot's view of a client activity, echoes it to the client and runs the turn. */
  const receive = async (
    conversation: WebchatConversation,
    client: ClientActivity,
    files: { id: string; name: string; contentType: string }[] = [],
  ): Promise<string> => {
    await start(conversation);
    const { activity, sequence } = await baseActivity(conversation, client.type);
    const from = activity.from as { name?: string };
    if (!from.name && client.from?.name) from.name = client.from.name.slice(0, 64);
    for (const key of ['text', 'textFormat', 'locale', 'localTimestamp', 'localTimezone', 'entities', 'value'] as const) {
      if (client[key] !== undefined) activity[key] = client[key];
    }
    if (client.type === 'event' && client.name) activity.name = client.name;
    const channelData = {
      ...(client.channelData?.clientActivityID ? { clientActivityID: client.channelData.clientActivityID } : {}),
      ...(client.channelData?.clientTimestamp ? { clientTimestamp: client.channelData.clientTimestamp } : {}),
    };
    if (Object.keys(channelData).length > 0) activity.channelData = channelData;
    if (files.length > 0) {
      activity.attachments = files.map((f) => ({ contentType: f.contentType, name: f.name, contentUrl: `${origin()}${fileUrl(f.id)}` }));
    }

    if (client.type !== 'typing') {
      // The echo Web Chat waits for (matched on clientActivityID); the serviceUrl stays private.
      const { serviceUrl: _hidden, ...echo } = activity;
      echo.channelData = { ...channelData, 'webchat:sequence-id': sequence };
      if (files.length > 0) echo.attachments = files.map((f) => ({ contentType: f.contentType, name: f.name, contentUrl: fileUrl(f.id) }));
      if ((await store.append(conversation.id, echo)) === undefined) throw gone();
    }
    const result = await deliver(activity);
    if (result.status === 400) {
      const body = result.body as { error?: { message?: string } } | undefined;
      throw new HttpError(400, 'bad_argument', body?.error?.message ?? 'Invalid activity.');
    }
    if (result.status >= 400) throw new HttpError(502, 'bot_error', 'The bot could not process the activity.');
    return activity.id as string;
  };

  /** Stores what the bot sent or updated (botActivities.ts); 404 when the conversation is gone. */
  const storeFromBot = async (conversation: WebchatConversation, body: WireActivity, replyToId?: string, updateOf?: WireActivity) => {
    const id = await storeBotActivity(store, conversation.id, bot, body, replyToId, updateOf);
    if (id === undefined) throw new HttpError(404, 'ConversationNotFound', 'Conversation not found.');
    return id;
  };

  const connectorConversation = async (req: IncomingMessage & { params?: Record<string, string> }): Promise<WebchatConversation> => {
    const secret = req.params?.secret ?? '';
    if (!timingSafeEqual(sha256(secret), (await sharedKeys()).connectorSecretHash)) throw new HttpError(404, 'not_found', 'Not found.');
    const conversation = await store.get(req.params?.conversationId ?? '');
    if (!conversation) throw new HttpError(404, 'ConversationNotFound', 'Conversation not found.');
    return conversation;
  };

  const readBotActivity = async (req: IncomingMessage): Promise<WireActivity> => {
    const body = await readJsonBody(req, replyLimit);
    if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as WireActivity).type !== 'string') {
      throw new HttpError(400, 'BadArgument', 'An activity with a type is required.');
    }
    return body as WireActivity;
  };

  const parseClientActivity = (json: unknown): ClientActivity => {
    const parsed = clientActivitySchema.safeParse(json);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].slice(0, 5);
      throw new HttpError(400, 'bad_argument', `Invalid or unsupported activity fields: ${fields.join(', ')}.`);
    }
    return parsed.data;
  };

  // -------------------------------------------------------------------------------- routes

  type Req = IncomingMessage & { params?: Record<string, string> };
  const dl = '/v3/directline';

  // Direct Line answers its own page (same origin) and configured origins only; a page elsewhere
  // in the same browser gets 403 before anything runs (issue 13, item 1).
  const origins = deps.origins ?? new OriginPolicy();
  const sameSite =
    (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      origins.check(req, { sameOrigin: true });
      await handler(req, res);
    };

  const install: RouteInstaller = (server, { safe }) => {
    const direct = (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>) => safe(sameSite(handler));
    // A worker serves no web chat (src/roles.ts): no stream upgrades there either.
    if (config.processRole !== 'worker') streams.attach(server.server);
    // Shutdown (http/drain.ts ends with closeAllConnections): the LISTEN connection goes too.
    const closeAll = server.server.closeAllConnections.bind(server.server);
    server.server.closeAllConnections = () => {
      closeAll();
      void store.close().catch(() => undefined);
    };
    server.server.once('close', () => void store.close().catch(() => undefined));
    // The page and its scripts.
    const page = { path: join(STATIC_DIR, 'webchat', 'index.html'), contentType: CONTENT_TYPES.html, csp: PAGE_CSP };
    server.get('/', safe(async (_req, res) => sendStaticFile(res, page)));
    server.get('/webchat', safe(async (_req, res) => sendStaticFile(res, page)));
    server.get('/webchat/app.js', safe(async (_req, res) => sendStaticFile(res, { path: join(STATIC_DIR, 'webchat', 'app.js'), contentType: CONTENT_TYPES.js })));
    server.get('/webchat/app.css', safe(async (_req, res) => sendStaticFile(res, { path: join(STATIC_DIR, 'webchat', 'app.css'), contentType: CONTENT_TYPES.css })));
    const webchatBundle = join(packageRoot('botframework-webchat'), 'dist', 'webchat.js');
    server.get('/webchat/vendor/webchat.js', safe(async (_req, res) => sendStaticFile(res, { path: webchatBundle, contentType: CONTENT_TYPES.js, immutable: true })));

    // Direct Line: tokens and conversations.
    server.post(
      `${dl}/tokens/generate`,
      direct(async (req, res) => {
        if (!mayStart(req)) refuseStart(req);
        const { conversation, token } = await newConversation(await readStartBody(req));
        sendJson(res, 200, await conversationBody(req, conversation, token));
      }),
    );
    server.post(
      `${dl}/tokens/refresh`,
      direct(async (req, res) => {
        const token = bearer(req);
        if (token === undefined) throw new HttpError(401, 'unauthorized', 'A conversation token is required.');
        const conversation = await store.byBearer(token);
        if (!conversation) throw new HttpError(403, 'forbidden', 'Unknown or expired token.');
        sendJson(res, 200, await conversationBody(req, conversation, token));
      }),
    );
    server.post(
      `${dl}/conversations`,
      direct(async (req, res) => {
        const token = bearer(req);
        const reserved = token === undefined ? undefined : await store.byBearer(token);
        const body = await readStartBody(req);
        if (reserved) {
          const fresh = await start(reserved);
          sendJson(res, fresh ? 201 : 200, await conversationBody(req, reserved, token));
          return;
        }
        if (!mayStart(req)) refuseStart(req);
        const { conversation, token: issued } = await newConversation(body);
        await start(conversation);
        sendJson(res, 201, await conversationBody(req, conversation, issued));
      }),
    );
    server.get(
      `${dl}/conversations/:conversationId`,
      direct(async (req, res) => {
        const conversation = await conversationFor(req, (req as Req).params?.conversationId);
        const watermark = new URL(req.url ?? '/', 'http://localhost').searchParams.get('watermark');
        sendJson(res, 200, await conversationBody(req, conversation, bearer(req), watermark));
      }),
    );
    // OAuth sign-in (directlinejs getSessionId): an opaque id of this client's session.
    server.get(
      `${dl}/session/getsessionid`,
      direct(async (req, res) => {
        const token = bearer(req);
        if (token === undefined) throw new HttpError(401, 'unauthorized', 'A conversation token is required.');
        const conversation = isSecret(token) ? undefined : await store.byBearer(token);
        if (!conversation && !isSecret(token)) throw new HttpError(403, 'forbidden', 'Unknown or expired token.');
        const sessionId = createHash('sha256').update((await sharedKeys()).connectorSecret).update(conversation?.id ?? randomBytes(16)).digest('base64url').slice(0, 32);
        res.setHeader('cache-control', 'no-store');
        sendJson(res, 200, { sessionId });
      }),
    );

    // Direct Line: activities.
    server.get(
      `${dl}/conversations/:conversationId/activities`,
      direct(async (req, res) => {
        const conversation = await conversationFor(req, (req as Req).params?.conversationId);
        const watermark = new URL(req.url ?? '/', 'http://localhost').searchParams.get('watermark');
        const set = await store.since(conversation.id, watermark);
        if (!set) throw gone();
        sendJson(res, 200, set);
      }),
    );
    server.post(
      `${dl}/conversations/:conversationId/activities`,
      direct(async (req, res) => {
        const conversation = await conversationFor(req, (req as Req).params?.conversationId);
        requireJsonContentType(req);
        const client = parseClientActivity(await readJsonBody(req, config.maxBodyBytes));
        sendJson(res, 200, { id: await receive(conversation, client) });
      }),
    );
    server.post(
      `${dl}/conversations/:conversationId/upload`,
      direct(async (req, res) => {
        const conversation = await conversationFor(req, (req as Req).params?.conversationId);
        const contentType = String(req.headers['content-type'] ?? '');
        if (!/^multipart\/form-data/i.test(contentType)) throw new HttpError(415, 'unsupported_media_type', 'Expected multipart/form-data.');
        const raw = await readRawBody(req, limits.maxUploadBytes);
        let form: FormData;
        try {
          form = await new Request('http://localhost/upload', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
        } catch {
          throw new HttpError(400, 'bad_argument', 'Malformed multipart body.');
        }
        const activityPart = form.get('activity');
        let json: unknown = { type: 'message' };
        if (activityPart !== null) {
          try {
            json = JSON.parse(typeof activityPart === 'string' ? activityPart : await activityPart.text());
          } catch {
            throw new HttpError(400, 'bad_argument', 'The activity part is not valid JSON.');
          }
        }
        const { attachments: _described, ...rest } = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
        const client = parseClientActivity(rest);
        if (client.type !== 'message') throw new HttpError(400, 'bad_argument', 'Only messages can carry files.');
        const files = [];
        for (const part of form.getAll('file')) {
          if (typeof part === 'string') continue;
          const stored = await store.addFile(conversation, {
            name: safeFileName(part.name),
            contentType: safeContentType(part.type),
            bytes: Buffer.from(await part.arrayBuffer()),
          });
          if (!stored) throw new HttpError(413, 'upload_budget_exceeded', 'The server holds too many uploads right now.');
          files.push(stored);
        }
        if (files.length === 0) throw new HttpError(400, 'bad_argument', 'No file part in the upload.');
        sendJson(res, 200, { id: await receive(conversation, client, files) });
      }),
    );
    server.get(
      '/webchat/files/:fileId',
      safe(async (req, res) => {
        const file = await store.getFile((req as Req).params?.fileId ?? '');
        if (!file) throw new HttpError(404, 'not_found', 'Not found.');
        sendFile(res, file);
      }),
    );

    // Connector side: where the bot's replies for this channel arrive.
    const connector = '/webchat/connector/:secret/v3/conversations/:conversationId/activities';
    const postFromBot = safe(async (req, res) => {
      const conversation = await connectorConversation(req as Req);
      const activity = await readBotActivity(req);
      const replyToId = (req as Req).params?.activityId ?? (typeof activity.replyToId === 'string' ? activity.replyToId : undefined);
      sendJson(res, 200, { id: await storeFromBot(conversation, activity, replyToId) });
    });
    server.post(connector, postFromBot);
    server.post(`${connector}/:activityId`, postFromBot);
    server.put(
      `${connector}/:activityId`,
      safe(async (req, res) => {
        const conversation = await connectorConversation(req as Req);
        const existing = await store.activity(conversation.id, (req as Req).params?.activityId ?? '');
        if (!existing) throw new HttpError(404, 'ActivityNotFound', 'Activity not found.');
        const activity = await readBotActivity(req);
        const replyToId = typeof existing.replyToId === 'string' ? existing.replyToId : undefined;
        sendJson(res, 200, { id: await storeFromBot(conversation, activity, replyToId, existing) });
      }),
    );
    logger.debug({ open: openOnLoopback }, 'web chat channel installed');
  };

  const proactive = createWebchatProactive({ store, bot, connectorSecret: async () => (await sharedKeys()).connectorSecret });
  return { install, store, streams, proactive, connectorUrl };
}

const INLINE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function sendFile(res: ServerResponse, file: { name: string; contentType: string; bytes: Buffer }): void {
  const inline = INLINE_TYPES.has(file.contentType);
  // Uploaded bytes never run as a page: sandboxed, not sniffed, downloaded unless a plain image.
  securityHeaders(res, "sandbox; default-src 'none'");
  res.writeHead(200, {
    'content-type': inline ? file.contentType : 'application/octet-stream',
    'content-length': file.bytes.length,
    'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    'cache-control': 'private, max-age=3600',
  });
  res.end(file.bytes);
}

function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 128);
  return clean || 'file';
}

function safeContentType(type: string): string {
  return /^[a-z0-9.+-]+\/[a-z0-9.+-]+$/i.test(type) && type.length <= 128 ? type.toLowerCase() : 'application/octet-stream';
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
