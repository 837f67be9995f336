import { UserState } from 'botbuilder';
import { LeanConversationState } from './state/leanConversationState.js';
import type { DataSource } from 'typeorm';
import type restify from 'restify';
import type { AppConfig } from '../config/config.js';
import type { Logger } from '../logger.js';
import { createAdapter } from './adapter.js';
import { AssistantBot } from './bots/AssistantBot.js';
import type { BotRecognizer } from './bots/recognizer.js';
import type { Admission } from './http/admission.js';
import type { ShutdownDrain } from './http/drain.js';
import { OriginPolicy } from './http/edgeChecks.js';
import type { InflightTracker } from './http/inflight.js';
import { createOperatorGuard } from './http/operatorGuard.js';
import { ServiceUrlPolicy } from './http/serviceUrlPolicy.js';
import { createMessagesHandler, createTurnRunner, type TurnTracer } from './messagesRoute.js';
import { createHttpServer, type MetricsSource, type ReadinessReport, type RouteInstaller, type TraceApi } from './server.js';
import { createDashboardRoutes } from './dashboard/routes.js';
import { DashboardSessions } from './dashboard/session.js';
import { createWebchatChannel, type WebchatOptions } from './webchat/channel.js';
import { PostgresStorage } from './state/PostgresStorage.js';
import { createConversationLock } from './state/conversationLock.js';
import { afterConversationTurn } from './proactive/afterTurn.js';
import { CardNonceStore } from './cards/cardNonces.js';
import type { BotSkills } from './bots/AssistantBot.js';
import { ConversationReferenceStore } from './proactive/conversationReferences.js';
import { createProactiveNotifier, type ProactiveChannel } from './proactive/notifier.js';
import { createCallbackHandler } from '../jobs/callbackRoute.js';
import type { JobSystem } from '../jobs/JobSystem.js';
import { createSlackChannel } from './slack/channel.js';
import { SlackEventStore } from './slack/eventStore.js';
import { FileLinks, serverOrigin } from './files/links.js';
import { createFetchPolicy } from './files/inbound.js';
import { EXCEL_LIMITS } from '../skills/excel/index.js';

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
  /** Local web channel overrides (tests). */
  webchat?: WebchatOptions;
  /** Skills; without them intents get "not available yet" replies. */
  skills?: Omit<BotSkills, 'references'>;
  /** Durable automations: notifications go out through this server's adapter; results come in on the callback route. */
  jobs?: JobSystem;
  /** Prometheus metrics served on GET /metrics. */
  metrics?: MetricsSource;
  /** Graceful shutdown at the HTTP edge (http/drain.ts). */
  drain?: ShutdownDrain;
  /** Turn admission figures for the dashboard (http/admission.ts). */
  admission?: () => ReturnType<Admission['stats']>;
}

/** Wires Bot Framework pieces (adapter, state, bot) behind the HTTP server; the only place they meet. */
export function createBotServer(deps: BotServerDeps): restify.Server {
  const { config, logger } = deps;
  const storage = new PostgresStorage(deps.dataSource);
  // Exports are served by link from this server (src/bot/files/links.ts): PUBLIC_BASE_URL when set.
  const serviceUrlPolicy = config.bot.authEnabled ? undefined : new ServiceUrlPolicy(config.serviceUrlAllowlist);
  const fileLinks = new FileLinks(deps.dataSource, { baseUrl: () => config.automation.publicBaseUrl ?? serverOrigin(server.address() ?? null) });
  const references = new ConversationReferenceStore(deps.dataSource);
  // Turns of one conversation one at a time, across every process on the same PostgreSQL; job
  // notifications to a conversation wait for its running turn (proactive/afterTurn.ts).
  const turnLock = createConversationLock({ timeoutMs: config.bot.turnLockTimeoutMs ?? 5_000, postgresUrl: config.database.mode === 'postgres' ? (config.database.sessionUrl ?? config.database.url) : undefined, logger });
  const bot = new AssistantBot({
    conversationState: new LeanConversationState(storage),
    userState: new UserState(storage),
    logger,
    recognizer: deps.recognizer,
    skills: deps.skills ? { ...deps.skills, references } : undefined,
    // Turns of one conversation one at a time, across every process on the same PostgreSQL.
    turnLock,
    // Inbound files (files/inbound.ts): Teams links from the Teams file hosts; a channel's own file store
    // (same origin as its serviceUrl) on loopback only when replies may go there too, or it is this server (web chat).
    files: {
      links: fileLinks,
      fetchPolicy: createFetchPolicy({
        maxBytes: EXCEL_LIMITS.maxFileBytes,
        teamsFileHosts: config.inboundFiles?.teamsFileHosts,
        isTrustedOrigin: (origin) => origin === serverOrigin(server.address() ?? null) || (serviceUrlPolicy?.isAllowed(origin) ?? false),
      }),
    },
  });
  const adapter = createAdapter(config, logger);
  // Native Slack (SLACK_*): its own endpoints and adapter, the same bot and turn runner (slack/channel.ts).
  const slack = config.slack
    ? createSlackChannel({
        config: config.slack,
        maxBodyBytes: config.maxBodyBytes,
        logger,
        dedupe: new SlackEventStore(deps.dataSource),
        bot,
        tracer: deps.tracer,
        track: (fn) => deps.inflight.track(fn),
      })
    : undefined;
  // Browser origins the turn routes accept (ALLOWED_ORIGINS; Direct Line also its own page).
  const origins = new OriginPolicy(config.allowedOrigins);
  const messages = createMessagesHandler({
    adapter,
    bot,
    tracer: deps.tracer,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    serviceUrlPolicy,
    origins,
  });
  const sessions = config.adminToken ? new DashboardSessions(config.adminToken) : undefined;
  // One guard for every operator route (traces, metrics, dashboard and its JSON): http/operatorGuard.ts.
  const isOperator = createOperatorGuard(config, sessions);
  const routes: RouteInstaller[] = [createDashboardRoutes({ config, dataSource: deps.dataSource, isOperator, sessions, admission: deps.admission }), fileLinks.install];
  const jobs = deps.jobs;
  // Channels that deliver their own proactive messages (Slack; web chat, added below once created).
  const proactiveChannels: ProactiveChannel[] = slack ? [slack.proactive] : [];
  if (jobs) {
    // Job notifications reach users through the same adapter (continueConversationAsync), with
    // the same serviceUrl allow-list when auth is off.
    jobs.setNotifier(
      afterConversationTurn(
        turnLock,
        createProactiveNotifier({
          adapter,
          appId: config.bot.appId ?? '',
          references,
          serviceUrlPolicy,
          logger,
          channels: proactiveChannels,
          nonces: new CardNonceStore(deps.dataSource),
        }),
        logger,
      ),
    );
    const callback = createCallbackHandler({
      secret: config.automation.callbackSecret,
      maxBodyBytes: config.maxBodyBytes,
      logger,
      complete: (jobId, result, source) => jobs.complete(jobId, result, source),
    });
    routes.push((server, { safe }) => {
      server.post(
        '/api/automations/:id/callback',
        safe((req, res) => deps.inflight.track(() => callback(req, res))),
      );
    });
  }
  if (slack) routes.push(slack.install);
  if (config.webchat.enabled) {
    // The local web channel runs its turns through the same runner as /api/messages, on an
    // adapter without Bot Framework auth: the channel is this server (see webchat/channel.ts).
    const webchat = createWebchatChannel({
      config,
      logger,
      dataSource: deps.dataSource,
      runTurn: createTurnRunner({
        adapter: createAdapter({ ...config, bot: { appType: config.bot.appType, authEnabled: false } }, logger),
        bot,
        tracer: deps.tracer,
        logger,
        maxBodyBytes: config.maxBodyBytes,
        serviceUrlPolicy: { isAllowed: (url) => url === webchat.connectorUrl() },
      }),
      address: () => server.address() ?? null, // called on requests, after `server` exists
      track: (fn) => deps.inflight.track(fn),
      origins,
      options: deps.webchat,
    });
    routes.push(webchat.install);
    // Web chat conversations are in the database: a notification is written there from any process.
    proactiveChannels.push(webchat.proactive);
  }
  const server = createHttpServer({
    logger,
    messages: (req, res) => deps.inflight.track(() => messages(req, res)),
    readiness: deps.readiness,
    traces: deps.traces,
    isOperator,
    routes,
    metrics: deps.metrics,
    drain: deps.drain,
  });
  return server;
}
