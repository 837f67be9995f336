import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from './config/config.js';
import { createLogger, type Logger } from './logger.js';
import { openDatabase, type Database } from './db/database.js';
import { createBotServer } from './bot/createBotServer.js';
import { InflightTracker } from './bot/http/inflight.js';
import type { BotRecognizer } from './bot/bots/recognizer.js';
import { TraceWriter } from './tracing/traceWriter.js';
import { Tracer } from './tracing/tracer.js';
import { recentTraces, traceSummary } from './tracing/traceQueries.js';
import { loadNlu } from './nlu/NluPipeline.js';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createModelPool, registerPoolMetrics, type InferencePool } from './inference/pool/index.js';
import type { MasterData } from './nlu/entities/masterData.js';
import { JobSystem } from './jobs/JobSystem.js';
import type { Connector } from './jobs/connectors/types.js';
import { createSkillRegistry, MasterDataStore, RoleDirectory, seedDemoData, toNluMasterData, type SkillEnv } from './skills/index.js';
import { LlmFallback } from './skills/llmFallback.js';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import type { WebchatOptions } from './bot/webchat/channel.js';

export interface RunningApp {
  url: string;
  port: number;
  db: Database;
  traceWriter: TraceWriter;
  /** Durable automations (pg-boss on the app's pool). */
  jobs: JobSystem;
  /** Graceful: stop accepting, finish in-flight turns, flush traces, close the database. */
  close(): Promise<void>;
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
  const db = await openDatabase(config.database, { logger });
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
  const loaded: LoadedRecognizer =
    options.recognizer === undefined ? await loadRecognizer(config, logger, metricsRegistry) : { recognizer: options.recognizer ?? undefined };
  const recognizer: ClosableRecognizer | undefined = loaded.recognizer;
  const pool = loaded.pool;
  const inflight = new InflightTracker();

  // Skills work on the system of record; the NLU matches names against the same master data.
  const masterData = new MasterDataStore(db.dataSource, {
    onLoad: (records) => recognizer?.setMasterData?.(toNluMasterData(records)),
  });
  await masterData.get();
  const roles = new RoleDirectory(config.roles);
  const settings = { approvalThreshold: config.procurement.approvalThreshold, currency: 'USD' };
  const registry = createSkillRegistry({ settings, roles });
  let baseUrl = config.automation.publicBaseUrl ?? '';
  const jobs = new JobSystem({
    dataSource: db.dataSource,
    logger,
    config: config.automation,
    handlers: registry.jobHandlers,
    baseUrl: () => baseUrl,
    connector: options.connector,
  });
  const env: SkillEnv = { db: db.dataSource, jobs, masterData, roles, settings, now: () => new Date() };
  const fallback = options.chatModel ? new LlmFallback(options.chatModel, registry) : undefined;

  const server = createBotServer({
    config,
    logger,
    dataSource: db.dataSource,
    tracer,
    inflight,
    recognizer,
    webchat: options.webchat,
    skills: { registry, env, roles, fallback },
    jobs,
    traces: {
      recent: (limit) => recentTraces(db.dataSource, limit),
      summary: (windowMs) => traceSummary(db.dataSource, windowMs),
    },
    readiness: async () => {
      const database = await db.ping();
      const model = recognizer ? 'loaded' : config.nlu.enabled && options.recognizer !== null ? 'missing' : 'disabled';
      // Not ready until the inference pool is warmed up, nor while none of its sessions is alive.
      const inference = pool ? inferenceCheck(pool) : undefined;
      return {
        ready: database && model !== 'missing' && (inference?.ready ?? true),
        checks: {
          database,
          model,
          databaseMode: db.mode,
          traces: traceWriter.stats(),
          automations: jobs.connector.name,
          ...(inference ? { inference } : {}),
        },
      };
    },
    metrics: { contentType: metricsRegistry.contentType, text: () => metricsRegistry.metrics() },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  if (!baseUrl) baseUrl = url;
  try {
    await jobs.start();
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await jobs.stop().catch(() => {});
    await traceWriter.close(config.shutdownTimeoutMs).catch(() => {});
    throw err;
  }
  logger.info({ url, database: db.mode, model: recognizer ? config.nlu.modelDir : null }, 'rpa-assistant listening');
  if (config.webchat.enabled) logger.info({ webchat: `${url}/`, dashboard: `${url}/dashboard` }, 'web chat and dashboard');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.server.closeIdleConnections();
      const drained = await inflight.drain(config.shutdownTimeoutMs);
      if (!drained) logger.warn({ inflight: inflight.size }, 'shutdown timeout: turns still in flight');
      server.server.closeAllConnections();
      await stopped;
      await jobs.stop(config.shutdownTimeoutMs).catch((err: unknown) => logger.warn({ err }, 'automations did not stop cleanly'));
      await traceWriter.close(config.shutdownTimeoutMs);
      await recognizer?.close?.();
      await db.close();
      logger.info({ traces: traceWriter.stats() }, 'rpa-assistant stopped');
    })());
  return { url, port, db, traceWriter, jobs, close };
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
  const pool = await createModelPool(config.nlu.modelDir, { ...config.inference, logger });
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
