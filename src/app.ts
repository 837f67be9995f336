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

export interface RunningApp {
  url: string;
  port: number;
  db: Database;
  traceWriter: TraceWriter;
  /** Graceful: stop accepting, finish in-flight turns, flush traces, close the database. */
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Injected recognizer (tests); `null` forces "no model". Default: load the configured model. */
  recognizer?: BotRecognizer | null;
}

interface ClosableRecognizer extends BotRecognizer {
  close?(): Promise<void>;
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
  const traceWriter = new TraceWriter(db.dataSource, { ...config.tracing, logger });
  const tracer = new Tracer(traceWriter);
  const recognizer = options.recognizer === undefined ? await loadRecognizer(config, logger) : options.recognizer ?? undefined;
  const inflight = new InflightTracker();

  const server = createBotServer({
    config,
    logger,
    dataSource: db.dataSource,
    tracer,
    inflight,
    recognizer,
    traces: {
      recent: (limit) => recentTraces(db.dataSource, limit),
      summary: (windowMs) => traceSummary(db.dataSource, windowMs),
    },
    readiness: async () => {
      const database = await db.ping();
      const model = recognizer ? 'loaded' : config.nlu.enabled && options.recognizer !== null ? 'missing' : 'disabled';
      return {
        ready: database && model !== 'missing',
        checks: { database, model, databaseMode: db.mode, traces: traceWriter.stats() },
      };
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, database: db.mode, model: recognizer ? config.nlu.modelDir : null }, 'rpa-assistant listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.server.closeIdleConnections();
      const drained = await inflight.drain(config.shutdownTimeoutMs);
      if (!drained) logger.warn({ inflight: inflight.size }, 'shutdown timeout: turns still in flight');
      server.server.closeAllConnections();
      await stopped;
      await traceWriter.close(config.shutdownTimeoutMs);
      await (recognizer as ClosableRecognizer | undefined)?.close?.();
      await db.close();
      logger.info({ traces: traceWriter.stats() }, 'rpa-assistant stopped');
    })());
  return { url, port, db, traceWriter, close };
}

async function loadRecognizer(config: AppConfig, logger: Logger): Promise<BotRecognizer | undefined> {
  if (!config.nlu.enabled) return undefined;
  if (!existsSync(config.nlu.modelDir)) {
    logger.warn({ modelDir: config.nlu.modelDir }, 'no model found: answering with help only');
    return undefined;
  }
  return loadNlu(config.nlu.modelDir, {
    confidenceThreshold: config.nlu.confidenceThreshold,
    margin: config.nlu.margin,
  });
}
