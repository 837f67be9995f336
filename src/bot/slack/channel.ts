import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ActivityHandler, ConversationReference } from 'botbuilder';
import type { SlackConfig } from '../../config/config.js';
import type { Logger } from '../../logger.js';
import { HttpError } from '../http/httpErrors.js';
import { readRawBody } from '../http/readJsonBody.js';
import { sendError, sendJson } from '../http/respond.js';
import { createTurnRunner, type TurnTracer } from '../messagesRoute.js';
import { instrumentAdapter } from '../adapter.js';
import type { ProactiveChannel } from '../proactive/notifier.js';
import type { RouteInstaller } from '../server.js';
import { decodeButton } from './blockKit.js';
import { createSlackClient } from './client.js';
import {
  isDirectChannel,
  isSlackUserId,
  parseSlackConversationId,
  SLACK_CHANNEL_ID,
  slackConversationId,
  slackTextToPlain,
} from './conversation.js';
import type { SlackEventDedupe } from './eventStore.js';
import { downloadSlackFile, isSlackFileUrl, SlackFileError, type SlackFile } from './files.js';
import { KeyedQueue } from './keyedQueue.js';
import { SlackAdapter, type OutgoingFile } from './SlackAdapter.js';
import { SlackSignatureVerifier } from './signature.js';

/**
 * Slack, natively: the Events API and interactivity endpoints on this server, no Azure Bot Service.
 *
 *   Slack ── POST /api/slack/events ─────────► signature ► dedupe (event_id) ► 200 at once
 *         ── POST /api/slack/interactivity ──► signature ► 200 at once          │
 *                                                          ┌─────────────────────┘ (background,
 *                                                          ▼  one at a time per conversation)
 *        message activity (channelId "slack") ► turn runner (validation, trace) ► SlackAdapter ► bot
 *   Slack ◄── chat.postMessage / chat.update / files.uploadV2 ◄── SlackAdapter ◄──────────────┘
 *
 * - Every request must carry a valid `x-slack-signature` over its raw body, dated within five
 *   minutes: otherwise 401 (signature.ts). Bodies over MAX_BODY_BYTES → 413.
 * - Slack wants an answer within 3 s, so the work happens after the 200. Slack re-sends an event
 *   it got no 2xx for (`x-slack-retry-num`): the event_id is claimed in Postgres first, and a
 *   re-delivery is processed only if the first processing failed (eventStore.ts).
 * - Handled: `app_mention` in channels (answered in the thread; the mention removed before the
 *   NLU) and `message` in DMs (`message.im`), with files (`file_share`). Ignored: anything from a
 *   bot (our own messages included), edits, deletions and other subtypes, other event types.
 * - Buttons (`block_actions`): the button's value is the Action.Submit data; it reaches the bot
 *   as the activity `value`, like a card click in Teams, and the clicked message is then updated
 *   with the outcome (SlackAdapter).
 */

export const SLACK_EVENTS_PATH = '/api/slack/events';
export const SLACK_INTERACTIVITY_PATH = '/api/slack/interactivity';
const DEFAULT_API_URL = 'https://slack.com/api/';
const BOT_NAME = 'RPA Assistant';

export interface SlackChannelOptions {
  /** Largest file downloaded from a `file_share` message (default 20 MiB). */
  maxFileBytes?: number;
  /** Clock for the signature check (tests). */
  now?: () => number;
}

export interface SlackChannelDeps {
  config: SlackConfig;
  /** Request body limit (MAX_BODY_BYTES). */
  maxBodyBytes: number;
  logger: Logger;
  /** Event de-duplication (SlackEventStore on the app's database). */
  dedupe: SlackEventDedupe;
  bot: ActivityHandler;
  tracer: TurnTracer;
  /** Wraps work that graceful shutdown must wait for. */
  track?: <T>(fn: () => Promise<T>) => Promise<T>;
  options?: SlackChannelOptions;
}

export interface SlackChannel {
  install: RouteInstaller;
  adapter: SlackAdapter;
  /** For the job notifier: delivers Slack references, opens DMs for user-addressed notifications. */
  proactive: ProactiveChannel;
  /** The serviceUrl of Slack activities and references (the Web API base URL). */
  serviceUrl: string;
  /** Uploads a file (an export) into a Slack conversation with files.uploadV2. */
  uploadFile(conversationId: string, file: OutgoingFile): Promise<string[]>;
  /** Resolves once the events and clicks received so far are processed. */
  idle(): Promise<void>;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** A Slack message we will answer. */
interface InboundMessage {
  eventId: string;
  eventType: string;
  teamId?: string;
  channel: string;
  channelType?: string;
  conversationId: string;
  ts: string;
  threadTs?: string;
  user: string;
  text: string;
  files: SlackFile[];
  retryNum?: string;
}

export function createSlackChannel(deps: SlackChannelDeps): SlackChannel {
  const { config, logger } = deps;
  const log = logger.child({ channel: SLACK_CHANNEL_ID });
  const serviceUrl = config.apiUrl ?? DEFAULT_API_URL;
  const verifier = new SlackSignatureVerifier(config.signingSecret, { now: deps.options?.now });
  const client = createSlackClient(config, log);
  const adapter = new SlackAdapter(client, log);
  instrumentAdapter(adapter, log);
  const runTurn = createTurnRunner({
    adapter,
    bot: deps.bot,
    tracer: deps.tracer,
    logger: log,
    maxBodyBytes: deps.maxBodyBytes,
    serviceUrlPolicy: { isAllowed: (url) => url === serviceUrl },
  });
  const maxFileBytes = deps.options?.maxFileBytes ?? 20 * 1024 * 1024;
  const apiOrigin = new URL(serviceUrl).origin;
  const track = deps.track ?? (<T>(fn: () => Promise<T>) => fn());
  const queue = new KeyedQueue();
  const pending = new Set<Promise<void>>();

  // ----------------------------------------------------------------------- who we are
  let botUserId = config.botUserId;
  let identity: Promise<string | undefined> | undefined;
  const resolveBotUser = (): Promise<string | undefined> => {
    if (botUserId) return Promise.resolve(botUserId);
    identity ??= client.auth.test().then(
      (r) => {
        botUserId = r.user_id;
        log.info({ botUserId, team: r.team }, 'slack: connected (auth.test)');
        return botUserId;
      },
      (err: unknown) => {
        identity = undefined; // asked again on the next event
        log.error({ err: errorText(err) }, 'slack: auth.test failed: check SLACK_BOT_TOKEN');
        return undefined;
      },
    );
    return identity;
  };
  void resolveBotUser();

  const recipient = () => ({ id: botUserId ?? 'slack-bot', name: BOT_NAME, role: 'bot' });

  // -------------------------------------------------------------------- background work
  const background = (conversationId: string, work: () => Promise<void>): void => {
    const done = track(() => queue.run(conversationId, work)).catch((err: unknown) => {
      log.error({ err }, 'slack: background processing failed');
    });
    pending.add(done);
    void done.finally(() => pending.delete(done));
  };

  // --------------------------------------------------------------------------- requests
  const verified = (req: IncomingMessage, raw: Buffer): boolean => {
    const check = verifier.verify(raw, {
      timestamp: req.headers['x-slack-request-timestamp'],
      signature: req.headers['x-slack-signature'],
    });
    if (!check.ok) log.info({ reason: check.reason, url: req.url }, 'slack: request refused (signature)');
    return check.ok;
  };

  const handleEvents = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readRawBody(req, deps.maxBodyBytes);
    if (!verified(req, raw)) return sendError(res, 401, 'unauthorized', 'Unauthorized.');
    const body = obj(parseJson(raw));
    if (!body) throw new HttpError(400, 'invalid_json', 'Request body is not a JSON object.');
    if (body.type === 'url_verification') {
      const challenge = str(body.challenge);
      if (!challenge || challenge.length > 1024) throw new HttpError(400, 'bad_request', 'Missing challenge.');
      return sendJson(res, 200, { challenge });
    }
    // app_rate_limited and anything new: acknowledged, nothing to do.
    if (body.type !== 'event_callback') return sendJson(res, 200);
    const eventId = str(body.event_id);
    if (!eventId || eventId.length > 256) throw new HttpError(400, 'bad_request', 'Missing event_id.');
    const retryNum = headerText(req.headers['x-slack-retry-num']);
    const self = botUserId ?? authorizedUser(body);
    if (!botUserId) void resolveBotUser();
    const inbound = classifyEvent(body, eventId, self);
    if ('ignore' in inbound) {
      log.debug({ eventId, reason: inbound.ignore }, 'slack: event ignored');
      return sendJson(res, 200);
    }
    if (retryNum) inbound.retryNum = retryNum;
    // Claimed before the 200: if the database is down the answer is 500 and Slack re-sends later.
    const claim = await deps.dedupe.claim(eventId, { teamId: inbound.teamId, eventType: inbound.eventType });
    if (!claim.claimed) {
      log.info({ eventId, retryNum, reason: headerText(req.headers['x-slack-retry-reason']) }, 'slack: duplicate event ignored');
      return sendJson(res, 200);
    }
    sendJson(res, 200);
    background(inbound.conversationId, () => processMessage(inbound, self));
  };

  const handleInteractivity = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readRawBody(req, deps.maxBodyBytes);
    if (!verified(req, raw)) return sendError(res, 401, 'unauthorized', 'Unauthorized.');
    const field = new URLSearchParams(raw.toString('utf8')).get('payload');
    const payload = field ? obj(parseJson(Buffer.from(field, 'utf8'))) : undefined;
    if (!payload) throw new HttpError(400, 'bad_request', 'Missing payload.');
    if (payload.type !== 'block_actions') return sendJson(res, 200); // shortcuts, modals: not used
    const actions = Array.isArray(payload.actions) ? payload.actions : [];
    const action = obj(actions[0]);
    const button = decodeButton(str(action?.action_id), str(action?.value));
    const container = obj(payload.container);
    const message = obj(payload.message);
    const channel = str(container?.channel_id) ?? str(obj(payload.channel)?.id);
    const messageTs = str(container?.message_ts) ?? str(message?.ts);
    const user = str(obj(payload.user)?.id);
    if (!button || button.kind === 'url' || !channel || !messageTs || !user) return sendJson(res, 200);
    // A card posted top-level has no thread (Slack sets thread_ts = ts on a root once it has replies).
    const rawThread = str(message?.thread_ts) ?? str(container?.thread_ts);
    const threadTs = rawThread && rawThread !== messageTs ? rawThread : undefined;
    const conversationId = slackConversationId(channel, threadTs);
    const title = str(obj(action?.text)?.text) ?? 'a button';
    const activity = {
      ...baseActivity(conversationId, str(obj(payload.team)?.id), !isDirectChannel(channel)),
      id: str(action?.action_ts) ?? `${messageTs}-${Date.now()}`,
      from: { id: user, role: 'user' },
      replyToId: messageTs,
      ...(button.kind === 'submit' ? { value: button.data } : { text: button.text }),
      channelData: { slack: { type: 'block_actions', channel, message_ts: messageTs, thread_ts: threadTs, action_id: str(action?.action_id) } },
    };
    sendJson(res, 200);
    background(conversationId, async () => {
      adapter.expectClick(activity, {
        channel,
        ts: messageTs,
        blocks: message?.blocks,
        text: str(message?.text) ?? '',
        title,
        userId: user,
        kind: button.kind,
      });
      const result = await runTurn(async () => activity, '');
      const failure = adapter.takeFailure(activity);
      if (result.status >= 400 || failure) log.warn({ status: result.status, err: failure ? errorText(failure) : undefined }, 'slack: click not processed');
    });
  };

  // -------------------------------------------------------------------------- processing
  const baseActivity = (conversationId: string, teamId: string | undefined, isGroup: boolean) => ({
    type: 'message',
    timestamp: new Date().toISOString(),
    channelId: SLACK_CHANNEL_ID,
    serviceUrl,
    conversation: {
      id: conversationId,
      isGroup,
      conversationType: isGroup ? 'channel' : 'personal',
      ...(teamId ? { tenantId: teamId } : {}),
    },
    recipient: recipient(),
  });

  const processMessage = async (inbound: InboundMessage, self: string | undefined): Promise<void> => {
    let failure: string | undefined;
    try {
      const attachments: { contentType: string; name: string; content: Buffer }[] = [];
      for (const file of inbound.files.slice(0, 10)) {
        try {
          const downloaded = await downloadSlackFile(file, {
            token: config.botToken,
            maxBytes: maxFileBytes,
            isAllowedUrl: (url) => isSlackFileUrl(url) || url.origin === apiOrigin,
          });
          attachments.push({ contentType: downloaded.contentType, name: downloaded.name, content: downloaded.bytes });
        } catch (err) {
          if (!(err instanceof SlackFileError)) throw err;
          log.warn({ eventId: inbound.eventId, problem: err.problem, reason: err.message }, 'slack: file not downloaded');
          await adapter.say(inbound.conversationId, err.userText());
          if (err.problem === 'http_error') failure = err.message; // may work on a re-delivery
          return;
        }
      }
      const text = inbound.text || (inbound.eventType === 'app_mention' && attachments.length === 0 ? 'help' : '');
      const activity = {
        ...baseActivity(inbound.conversationId, inbound.teamId, inbound.channelType !== 'im'),
        id: inbound.ts,
        timestamp: tsToIso(inbound.ts),
        from: { id: inbound.user, role: 'user' },
        recipient: { ...recipient(), id: self ?? recipient().id },
        ...(text ? { text, textFormat: 'plain' } : {}),
        ...(attachments.length > 0 ? { attachments } : {}),
        channelData: {
          slack: {
            event_id: inbound.eventId,
            event_type: inbound.eventType,
            team_id: inbound.teamId,
            channel: inbound.channel,
            channel_type: inbound.channelType,
            ts: inbound.ts,
            thread_ts: inbound.threadTs,
            retry_num: inbound.retryNum,
          },
        },
      };
      const result = await runTurn(async () => activity, '');
      const turnError = adapter.takeFailure(activity);
      if (result.status >= 500 || turnError) {
        failure = turnError ? errorText(turnError) : `turn answered ${result.status}`;
      } else if (result.status >= 400) {
        // Refused by validation (e.g. over 16,000 characters): say so rather than stay silent.
        log.info({ eventId: inbound.eventId, status: result.status }, 'slack: message refused');
        await adapter.say(inbound.conversationId, "Sorry, I couldn't read that message (it may be too long).");
      }
    } catch (err) {
      failure = errorText(err);
      log.error({ err, eventId: inbound.eventId }, 'slack: event processing failed');
    } finally {
      const settle = failure === undefined ? deps.dedupe.complete(inbound.eventId) : deps.dedupe.fail(inbound.eventId, failure);
      await settle.catch((err: unknown) => log.warn({ err, eventId: inbound.eventId }, 'slack: could not record the event outcome'));
    }
  };

  // --------------------------------------------------------------------------- proactive
  const owns = (reference: Partial<ConversationReference>): boolean =>
    reference.channelId === SLACK_CHANNEL_ID && reference.serviceUrl === serviceUrl;

  const proactive: ProactiveChannel = {
    owns,
    async userReference(userId, latest) {
      if (latest ? !owns(latest) : !isSlackUserId(userId)) return undefined;
      if (latest) {
        const place = parseSlackConversationId(latest.conversation?.id);
        if (isDirectChannel(place.channel) && !place.threadTs) return latest;
      }
      // Personal notifications (approval requests…) go to the user's DM with the bot, never into
      // a shared channel thread; conversations.open returns the DM, creating it if needed.
      const opened = await client.conversations.open({ users: userId });
      const channel = opened.channel?.id;
      if (!channel) return undefined;
      await resolveBotUser();
      return {
        channelId: SLACK_CHANNEL_ID,
        serviceUrl,
        conversation: { id: channel, isGroup: false, conversationType: 'personal', name: '' },
        user: { id: userId, name: latest?.user?.name ?? '', role: 'user' },
        bot: { ...recipient(), role: 'bot' },
      } as Partial<ConversationReference>;
    },
    continueConversation: (reference, logic) => adapter.continueConversation(reference, logic),
  };

  const install: RouteInstaller = (server, { safe }) => {
    server.post(SLACK_EVENTS_PATH, safe(handleEvents));
    server.post(SLACK_INTERACTIVITY_PATH, safe(handleInteractivity));
  };

  return {
    install,
    adapter,
    proactive,
    serviceUrl,
    uploadFile: (conversationId, file) => adapter.uploadFile(conversationId, file),
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

/** Which events are answered, and as what; everything else is acknowledged and ignored. */
function classifyEvent(body: Json, eventId: string, self: string | undefined): InboundMessage | { ignore: string } {
  const event = obj(body.event);
  if (!event) return { ignore: 'no event' };
  const type = str(event.type) ?? '';
  const subtype = str(event.subtype);
  // Never answer a bot (ourselves included): no loops.
  if (event.bot_id !== undefined || event.bot_profile !== undefined || subtype === 'bot_message') return { ignore: 'from a bot' };
  if (self && event.user === self) return { ignore: 'our own message' };
  // Edits, deletions, joins…: only new messages and file shares are requests.
  if (subtype && subtype !== 'file_share' && subtype !== 'thread_broadcast') return { ignore: `subtype ${subtype}` };
  const channel = str(event.channel);
  const ts = str(event.ts);
  const user = str(event.user);
  if (!channel || !ts || !user) return { ignore: 'incomplete event' };
  const channelType = str(event.channel_type);
  const threadTs = str(event.thread_ts);
  let conversationId: string;
  if (type === 'app_mention') {
    // Answered in a thread: the one it was written in, or a new one under the mention.
    conversationId = slackConversationId(channel, threadTs ?? ts);
  } else if (type === 'message' && (channelType === 'im' || (!channelType && isDirectChannel(channel)))) {
    conversationId = slackConversationId(channel, threadTs && threadTs !== ts ? threadTs : undefined);
  } else {
    // Channel messages arrive as app_mention when they mention us; the rest are not for us.
    return { ignore: `${type}${channelType ? ` in ${channelType}` : ''}` };
  }
  const files = (Array.isArray(event.files) ? event.files : []).map(obj).filter((f): f is Json => f !== undefined) as SlackFile[];
  return {
    eventId,
    eventType: type,
    teamId: str(body.team_id) ?? str(event.team),
    channel,
    channelType: channelType ?? (isDirectChannel(channel) ? 'im' : undefined),
    conversationId,
    ts,
    threadTs,
    user,
    text: slackTextToPlain(str(event.text) ?? '', self),
    files,
  };
}

/** The bot user of the installation the event was sent to (used until auth.test answers). */
function authorizedUser(body: Json): string | undefined {
  const first = obj(Array.isArray(body.authorizations) ? body.authorizations[0] : undefined);
  return first?.is_bot === true ? str(first.user_id) : undefined;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'Request body is not valid JSON.');
  }
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function tsToIso(ts: string): string {
  const ms = Number(ts) * 1000;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : new Date().toISOString();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
