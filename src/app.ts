import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from './config/config.js';
import { createLogger, type Logger } from './logger.js';
import { openDatabase, type Database } from './db/database.js';
import { createBotServer } from './bot/createBotServer.js';
import { InflightTracker } from './bot/http/inflight.js';
import { ShutdownDrain } from './bot/http/drain.js';
import { Admission, admissionGate, cachedReadiness, registerAdmissionMetrics } from './bot/http/admission.js';
import type { BotRecognizer } from './bot/bots/recognizer.js';
import { TraceWriter } from './tracing/traceWriter.js';
import { TraceMaintenance } from './tracing/partitions.js';
import { Tracer } from './tracing/tracer.js';
import { recentTraces, traceSummary } from './tracing/traceQueries.js';
import { loadNlu } from './nlu/NluPipeline.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createModelPool, registerPoolMetrics, type InferencePool } from './inference/pool/index.js';
import { createRemotePool } from './inference/remote/remotePool.js';
import type { MasterData } from './nlu/entities/masterData.js';
import { JobSystem } from './jobs/JobSystem.js';
import { CardNonceStore } from './bot/cards/cardNonces.js';
import type { Connector } from './jobs/connectors/types.js';
import { createSkillRegistry, MasterDataStore, RoleDirectory, seedDemoData, toNluMasterData, type SkillEnv } from './skills/index.js';
import { LlmFallback } from './skills/llmFallback.js';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { WebchatOptions } from './bot/webchat/channel.js';
import { jobQueuesExist, runsBackgroundWork, servesTurns, workerHttpOnly } from './roles.js';

export interface RunningApp {
  url: string;
  port: number;
  db: Database;
  traceWriter: TraceWriter;
  /** Durable automations (pg-boss on the app's pool). */
  jobs: JobSystem;
  /** Graceful: stop accepting, finish in-flight turns, flush traces, close the database. */
  close(): Promise<void>;
  /** Every HTTP route served (tests check each one, e.g. that operator routes are guarded). */
  routes(): { method: string; path: string }[];
}

export interface StartOptions {
  logger?: Logger;
  /** Injected recognizer (tests); `null` forces "no model". Default: load the configured model. */
  recognizer?: BotRecognizer | null;
  /** Local web channel overrides (tests): connector secret, limits. */
  webchat?: WebchatOptions;
  /** A tool-calling chat model for the optional LLM fallback on out-of-scope messages (off when absent). */
  chatModel?: BaseChatModel;
  /** Replace the configured automation connector (tests). */
  connector?: Connector;
}

interface ClosableRecognizer extends BotRecognizer {
  close?(): Promise<void>;
  setMasterData?(data: MasterData): void;
}

export async function startApp(config: AppConfig, options: StartOptions = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // Pool waits end before the reply budget: a saturated pool answers "busy", not a late apology.
  const db = await openDatabase(config.database, { logger, connectTimeoutMs: config.dbAcquireTimeoutMs });
  try {
    return await startOnDatabase(config, options, logger, db);
  } catch (err) {
    // Close the embedded database cleanly: a process that dies with it open can corrupt its WAL.
    await db.close().catch(() => undefined);
    throw err;
  }
}

async function startOnDatabase(config: AppConfig, options: StartOptions, logger: Logger, db: Database): Promise<RunningApp> {
  if (config.seedDemoData) {
    const seeded = await seedDemoData(db.dataSource);
    if (Object.values(seeded).some((n) => n > 0)) logger.info({ seeded }, 'demo data loaded');
  }
  const traceWriter = new TraceWriter(db.dataSource, { ...config.tracing, logger });
  const tracer = new Tracer(traceWriter);
  // Prometheus metrics (GET /metrics): process defaults plus the inference pool's.
  const metricsRegistry = new Registry();
  collectDefaultMetrics({ register: metricsRegistry });
  const admission = new Admission(config.admission);
  registerAdmissionMetrics(metricsRegistry, admission);
  const role = config.processRole;
  // A worker answers no turns: it loads no model.
  const loaded: LoadedRecognizer = !servesTurns(role)
    ? {}
    : options.recognizer === undefined
      ? await loadRecognizer(config, logger, metricsRegistry)
      : { recognizer: options.recognizer ?? undefined };
  const recognizer: ClosableRecognizer | undefined = loaded.recognizer;
  const pool = loaded.pool;
  const inflight = new InflightTracker();
  const drain = new ShutdownDrain();

  // Skills work on the system of record; the NLU matches names against the same master data.
  const masterData = new MasterDataStore(db.dataSource, {
    onLoad: (records) => recognizer?.setMasterData?.(toNluMasterData(records)),
  });
  await masterData.get();
  const roles = new RoleDirectory(config.roles);
  const settings = { approvalThreshold: config.procurement.approvalThreshold, currency: 'USD' };
  const registry = createSkillRegistry({ settings, roles });
  let baseUrl = config.automation.publicBaseUrl ?? '';
  let jobsStarted = false;
  const traceMaintenance = new TraceMaintenance(db.dataSource, { retentionDays: config.traceRetentionDays, logger });
  const jobs = new JobSystem({
    dataSource: db.dataSource,
    logger,
    config: config.automation,
    handlers: registry.jobHandlers,
    baseUrl: () => baseUrl,
    connector: options.connector,
    // Idle workers of other instances start a job at once (LISTEN/NOTIFY; PostgreSQL server only).
    crossProcessWakeups: db.mode === 'postgres',
    sessionUrl: db.mode === 'postgres' ? db.sessionUrl : undefined,
    // Expired card nonces are refused anyway; drop them hourly so the table stays small.
    maintenance: [{ name: 'card nonces', everyMs: 3_600_000, run: () => new CardNonceStore(db.dataSource).prune() }],
  });
  const env: SkillEnv = { db: db.dataSource, jobs, masterData, roles, settings, now: () => new Date() };
  const fallback = options.chatModel ? new LlmFallback(options.chatModel, registry) : undefined;

  const server = createBotServer({
    config,
    logger,
    dataSource: db.dataSource,
    tracer,
    inflight,
    drain,
    recognizer,
    webchat: options.webchat,
    skills: { registry, env, roles, fallback },
    jobs,
    traces: {
      recent: (limit) => recentTraces(db.dataSource, limit),
      summary: (windowMs) => traceSummary(db.dataSource, windowMs),
    },
    // One readiness check at a time, reused for a second: /readyz never queues behind turns.
    readiness: cachedReadiness(async () => {
      const database = await db.ping();
      const model = !servesTurns(role) ? 'not used' : recognizer ? 'loaded' : config.nlu.enabled && options.recognizer !== null ? 'missing' : 'disabled';
      // Web: the queues it sends jobs to exist (a worker created them). Worker/all: its workers run.
      const jobQueues = role === 'web' && database ? await jobQueuesExist(db.dataSource) : undefined;
      const jobWorkers = runsBackgroundWork(role) ? jobsStarted : undefined;
      // Not ready until the inference pool is warmed up, nor while none of its sessions is alive.
      const inference = pool ? inferenceCheck(pool) : undefined;
      return {
        ready: database && model !== 'missing' && (inference?.ready ?? true) && jobQueues !== false && jobWorkers !== false,
        checks: {
          role,
          database,
          ...(jobQueues !== undefined ? { jobQueues } : {}),
          ...(jobWorkers !== undefined ? { jobWorkers } : {}),
          model,
          databaseMode: db.mode,
          traces: traceWriter.stats(),
          automations: jobs.connector.name,
          ...(inference ? { inference } : {}),
        },
      };
    }),
    metrics: { contentType: metricsRegistry.contentType, text: () => metricsRegistry.metrics() },
    admission: () => admission.stats(),
  });
  // A worker serves health and metrics only (src/roles.ts).
  if (!servesTurns(role)) server.pre(workerHttpOnly());
  // Before routing and before any body is read: the excess of turns is shed with 503 + Retry-After.
  server.pre(admissionGate(admission));

  await new Promise<void>((resolve, reject) => {
    // On the restify server: it re-emits its HTTP server's errors (EADDRINUSE), unhandled there otherwise.
    server.once('error', reject);
    // A deep accept queue: a spike of connections is answered (503 at worst), not reset.
    server.listen(config.port, config.host, 4096, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  if (!baseUrl) baseUrl = url;
  try {
    // A web process only enqueues (pg-boss send works unstarted); workers execute.
    if (runsBackgroundWork(role)) await jobs.start();
    jobsStarted = true;
    // Daily trace partitions ahead of time and retention (src/tracing/partitions.ts).
    if (runsBackgroundWork(role)) await traceMaintenance.start();
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await jobs.stop().catch(() => {});
    await traceWriter.close(config.shutdownTimeoutMs).catch(() => {});
    throw err;
  }
  logger.info({ url, role, database: db.mode, model: recognizer ? config.nlu.modelDir : null }, 'rpa-assistant listening');
  if (config.webchat.enabled) logger.info({ webchat: `${url}/`, dashboard: `${url}/dashboard` }, 'web chat and dashboard');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // New turns get 503 + Retry-After and keep-alive connections close; in-flight turns finish (bot/http/drain.ts).
      const edge = await drain.close(server.server, () => inflight.size, config.shutdownTimeoutMs);
      if (edge.drained) logger.info(edge, 'HTTP drained');
      else logger.warn(edge, 'shutdown timeout: turns still in flight');
      await jobs.stop(config.shutdownTimeoutMs).catch((err: unknown) => logger.warn({ err }, 'automations did not stop cleanly'));
      await traceMaintenance.stop();
      await traceWriter.close(config.shutdownTimeoutMs);
      await recognizer?.close?.();
      await db.close();
      logger.info({ traces: traceWriter.stats() }, 'rpa-assistant stopped');
    })());
  const routes = () =>
    (server.getDebugInfo() as { routes: { method: string; path: string }[] }).routes.map((r) => ({ method: r.method.toUpperCase(), path: String(r.path) }));
  return { url, port, db, traceWriter, jobs, close, routes };
}

interface LoadedRecognizer {
  recognizer?: ClosableRecognizer;
  /** The batching inference pool serving the recognizer (closed with it). */
  pool?: InferencePool;
}

async function loadRecognizer(config: AppConfig, logger: Logger, registry: Registry): Promise<LoadedRecognizer> {
  if (!config.nlu.enabled) return {};
  if (!existsSync(config.nlu.modelDir)) {
    logger.warn({ modelDir: config.nlu.modelDir }, 'no model found: answering with help only');
    return {};
  }
  const { backend, remote, ...poolOptions } = config.inference;
  // remote: the same pool (batching, deadlines, queue bound) with HTTP clients of an inference server as sessions.
  const pool =
    backend === 'remote' && remote
      ? await createRemotePool(config.nlu.modelDir, { ...poolOptions, ...remote, logger })
      : await createModelPool(config.nlu.modelDir, { ...poolOptions, logger });
  registerPoolMetrics(registry, pool);
  try {
    const recognizer = await loadNlu(config.nlu.modelDir, {
      confidenceThreshold: config.nlu.confidenceThreshold,
      margin: config.nlu.margin,
      runner: pool,
    });
    return { recognizer, pool };
  } catch (err) {
    await pool.close();
    throw err;
  }
}

/** What /readyz says about inference: the provider actually in use (and why, if not the one asked for). */
function inferenceCheck(pool: InferencePool) {
  const s = pool.stats();
  return {
    ready: s.ready,
    provider: s.provider,
    requestedProvider: s.requestedProvider,
    ...(s.fallback ? { fallbackReason: s.fallback.reason } : {}),
    mode: s.mode,
    sessions: s.sessions,
    queueDepth: s.queueDepth,
    restarts: s.restarts,
  };
}
