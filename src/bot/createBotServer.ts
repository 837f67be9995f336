import type { IncomingMessage } from 'node:http';
import { ConversationState, UserState } from 'botbuilder';
import type { DataSource } from 'typeorm';
import type restify from 'restify';
import { isLoopbackHost, type AppConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { createAdapter } from './adapter.js';
import { AssistantBot } from './bots/AssistantBot.js';
import type { BotRecognizer } from './bots/recognizer.js';
import type { InflightTracker } from './http/inflight.js';
import { ServiceUrlPolicy } from './http/serviceUrlPolicy.js';
import { createMessagesHandler, type TurnTracer } from './messagesRoute.js';
import { createHttpServer, type ReadinessReport, type TraceApi } from './server.js';
import { PostgresStorage } from './state/PostgresStorage.js';
import { timingSafeEqual } from 'node:crypto';

export interface BotServerDeps {
  config: AppConfig;
  logger: Logger;
  dataSource: DataSource;
  tracer: TurnTracer;
  traces: TraceApi;
  readiness: () => Promise<ReadinessReport>;
  recognizer?: BotRecognizer;
  /** Turns in progress, awaited by graceful shutdown. */
  inflight: InflightTracker;
}

/** Wires Bot Framework pieces (adapter, state, bot) behind the HTTP server; the only place they meet. */
export function createBotServer(deps: BotServerDeps): restify.Server {
  const { config, logger } = deps;
  const storage = new PostgresStorage(deps.dataSource);
  const bot = new AssistantBot({
    conversationState: new ConversationState(storage),
    userState: new UserState(storage),
    logger,
    recognizer: deps.recognizer,
  });
  const messages = createMessagesHandler({
    adapter: createAdapter(config, logger),
    bot,
    tracer: deps.tracer,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    serviceUrlPolicy: config.bot.authEnabled ? undefined : new ServiceUrlPolicy(config.serviceUrlAllowlist),
  });
  return createHttpServer({
    logger,
    messages: (req, res) => deps.inflight.track(() => messages(req, res)),
    readiness: deps.readiness,
    traces: deps.traces,
    isOperator: operatorCheck(config),
  });
}

/** Operator endpoints: bearer ADMIN_TOKEN when set, otherwise only on a loopback-bound server. */
function operatorCheck(config: AppConfig): (req: IncomingMessage) => boolean {
  const expected = config.adminToken ? Buffer.from(`Bearer ${config.adminToken}`) : undefined;
  return (req) => {
    if (!expected) return isLoopbackHost(config.host);
    const given = Buffer.from(String(req.headers.authorization ?? ''));
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
}
