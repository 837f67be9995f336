import { z } from 'zod';

/**
 * The only module that reads process.env. Every setting is parsed and validated here so a bad
 * value fails at start-up with a message naming the variable, not later inside a request.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0),
);

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3978),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().url().optional(),
  /** Session-bound connections (turn locks, LISTEN, migration lock) when DATABASE_URL is a transaction pooler. */
  DATABASE_SESSION_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  MicrosoftAppId: z.string().optional(),
  MicrosoftAppPassword: z.string().optional(),
  MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  MicrosoftAppTenantId: z.string().optional(),
  BOT_OPENID_METADATA_URL: z.string().url().optional(),
  BOT_TOKEN_ISSUER: z.string().min(1).optional(),
  BOT_SEND_RETRIES: z.coerce.number().int().min(0).max(10).default(4),
  BOT_SEND_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(500),
  BOT_SEND_RETRY_MAX_MS: z.coerce.number().int().min(1).max(300_000).default(10_000),
  /** How long a turn waits for an earlier turn of the same conversation before answering "busy" (src/bot/state/conversationLock.ts). */
  TURN_LOCK_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(5_000),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(256 * 1024),
  /**
   * Origins (scheme://host:port, port ranges and `*` allowed; src/bot/http/serviceUrlPolicy.ts) a server
   * without Bot Framework auth may send to. Default: loopback on the dynamic ports clients listening on
   * port 0 get (the terminal chat, the Emulator), never the fixed ports services listen on.
   */
  SERVICE_URL_ALLOWLIST: csv.default(['http://127.0.0.1:32768-65535', 'http://localhost:32768-65535', 'http://[::1]:32768-65535']),
  /** Where Teams file links (file.download.info) may be downloaded from (src/bot/files/inbound.ts); host patterns need a public address, exact origins may be private. */
  TEAMS_FILE_HOSTS: csv.optional(),
  /** Browser origins allowed to POST to /api/messages and Direct Line besides the web chat's own (src/bot/http/edgeChecks.ts). */
  ALLOWED_ORIGINS: csv.default([]),
  TRACE_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  TRACE_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
  TRACE_BUFFER_MAX: z.coerce.number().int().min(10).max(1_000_000).default(50_000),
  /** Days of turn_traces kept; older daily partitions are dropped by the worker role (0: keep all). */
  TRACE_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  /** all (default): one process does everything; web: HTTP turns only; worker: jobs, outbox, trace maintenance (src/roles.ts). */
  ROLE: z.enum(['all', 'web', 'worker']).default('all'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Admission control on the turn routes (src/bot/http/admission.ts; defaults measured in docs/notes/overload.md). */
  ADMISSION_MAX_INFLIGHT: z.coerce.number().int().min(1).max(10_000).default(32),
  ADMISSION_QUEUE_MAX: z.coerce.number().int().min(0).max(100_000).default(64),
  ADMISSION_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(0).max(14_000).default(500),
  ADMISSION_MIN_INFLIGHT: z.coerce.number().int().min(1).max(10_000).default(2),
  ADMISSION_TARGET_MS: z.coerce.number().int().min(0).max(14_000).default(500),
  ADMISSION_RETRY_AFTER_S: z.coerce.number().int().min(1).max(3600).default(2),
  TURN_DEADLINE_MS: z.coerce.number().int().min(100).max(14_000).default(10_000),
  /** Longest wait for a database connection from the pool: shorter than the reply budget. */
  DB_ACQUIRE_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(3_000),
  MODEL_DIR: z.string().min(1).default('./models/intent-gpt2'),
  NLU_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).optional(),
  NLU_MARGIN: z.coerce.number().min(0).max(1).optional(),
  NLU_ENABLED: bool.default(true),
  INFERENCE_PROVIDER: z.enum(['cpu', 'cuda', 'webgpu', 'auto']).default('cpu'),
  INFERENCE_WORKERS: bool.default(true),
  INFERENCE_SESSIONS: z.coerce.number().int().min(1).max(64).default(1),
  INFERENCE_INTRA_THREADS: z.coerce.number().int().min(0).max(256).default(1),
  INFERENCE_INTER_THREADS: z.coerce.number().int().min(0).max(256).default(1),
  INFERENCE_MAX_BATCH: z.coerce.number().int().min(1).max(1024).default(16),
  INFERENCE_MAX_BATCH_TOKENS: z.coerce.number().int().min(1).max(1_000_000).optional(),
  INFERENCE_MIN_FILL: z.coerce.number().min(0).max(1).default(0.9),
  INFERENCE_MAX_PASS_OVER: z.coerce.number().int().min(0).max(1000).default(0),
  INFERENCE_MAX_DELAY_MS: z.coerce.number().min(0).max(1000).default(0),
  INFERENCE_QUEUE_MAX: z.coerce.number().int().min(1).max(100_000).default(512),
  INFERENCE_TIMEOUT_MS: z.coerce.number().int().min(10).max(120_000).default(2000),
  /** Prediction cache: model answers kept for repeated inputs (LRU entries); 0 = off. */
  INFERENCE_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(0),
  /** `remote`: batches go to an Open Inference Protocol (KServe v2) server at INFERENCE_URL. */
  INFERENCE_BACKEND: z.enum(['local', 'remote']).default('local'),
  INFERENCE_URL: z.url({ protocol: /^https?$/ }).optional(),
  INFERENCE_MODEL_NAME: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('intent-gpt2'),
  WEBCHAT_ENABLED: bool.optional(),
  WEBCHAT_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  DIRECTLINE_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  SEED_DEMO_DATA: bool.optional(),
  AUTOMATION_CONNECTOR: z.enum(['simulator', 'webhook']).default('simulator'),
  WEBHOOK_URL: z.string().url().optional(),
  WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  PUBLIC_BASE_URL: z.string().url().optional(),
  SIMULATOR_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(3_000),
  SIMULATOR_OUTCOME: z.enum(['confirm', 'reject', 'error']).default('confirm'),
  CUSTOMS_REVIEW_MS: z.coerce.number().int().min(0).max(86_400_000).default(10_000),
  CUSTOMS_INSPECTION_THRESHOLD: z.coerce.number().min(0).default(25_000),
  CUSTOMS_RESTRICTED_ORIGINS: csv
    .pipe(z.array(z.string().regex(/^[A-Za-z]{2}$/, 'ISO 3166 alpha-2 country codes, comma separated')))
    .transform((codes) => codes.map((c) => c.toUpperCase()))
    .default([]),
  JOB_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(3),
  JOB_RETRY_DELAY_S: z.coerce.number().int().min(0).max(3600).default(5),
  JOB_RETRY_BACKOFF: bool.default(true),
  JOB_POLL_INTERVAL_S: z.coerce.number().min(0.5).max(60).default(2),
  JOB_WORKERS: z.coerce.number().int().min(1).max(256).optional(),
  JOB_CONCURRENCY: z.coerce.number().int().min(1).max(256).optional(),
  JOB_STILL_WORKING_S: z.coerce.number().int().min(0).max(86_400).default(30),
  JOB_RESULT_TIMEOUT_S: z.coerce.number().int().min(0).max(7 * 86_400).default(3_600),
  APPROVAL_THRESHOLD: z.coerce.number().min(0).default(10_000),
  USER_ROLES: z.string().default(''),
  DEFAULT_ROLES: csv.default(['buyer']),
  SLACK_SIGNING_SECRET: z.string().min(8, 'must be at least 8 characters').optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-\S+$/, 'must be a bot token (xoxb-…)').optional(),
  SLACK_API_URL: z.string().url().optional(),
  SLACK_BOT_USER_ID: z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id (U…)').optional(),
});

export type Env = z.infer<typeof envSchema>;

/** Every variable the app reads (a test checks .env.example documents each one). */
export const ENV_KEYS = Object.keys(envSchema.shape);

export interface AppConfig {
  port: number;
  host: string;
  /**
   * `sessionUrl` (DATABASE_SESSION_URL): where the connections that must stay one PostgreSQL session
   * go (advisory turn locks, LISTEN, the migration lock) when `url` is a transaction-mode pooler
   * (PgBouncer); unset: `url`.
   */
  database: { mode: 'embedded'; dataDir: string } | { mode: 'postgres'; url: string; sessionUrl?: string };
  bot: {
    appId?: string;
    appPassword?: string;
    appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
    tenantId?: string;
    /** True when MicrosoftAppId is set: JWT validation on every inbound activity. */
    authEnabled: boolean;
    /** OpenID metadata for inbound tokens (sovereign clouds, tests); the SDK default otherwise. */
    openIdMetadataUrl?: string;
    tokenIssuer?: string;
    /** Retries of connector calls (replies, proactive sends, card updates) on 429/412/502/504. */
    sendRetry?: { retries: number; baseDelayMs: number; maxDelayMs: number };
    /** Longest wait for the conversation's turn lock (earlier turns of the same conversation). */
    turnLockTimeoutMs?: number;
  };
  /** Bearer token for operator endpoints (traces) when the server is not on loopback. */
  adminToken?: string;
  logLevel: Env['LOG_LEVEL'];
  maxBodyBytes: number;
  serviceUrlAllowlist: string[];
  /** Inbound file downloads: where Teams download links may point (unset: the Teams/SharePoint/OneDrive defaults). */
  inboundFiles?: { teamsFileHosts?: string[] };
  /** Origins (scheme://host[:port]) whose browser requests the HTTP edge accepts; channels send no Origin. */
  allowedOrigins: string[];
  tracing: { flushMs: number; batchSize: number; bufferMax: number };
  /** Days of traces kept (daily partitions of turn_traces older than this are dropped; 0 keeps all). */
  traceRetentionDays: number;
  /** What this process runs (ROLE): everything, the HTTP turns, or the background work (src/roles.ts). */
  processRole: 'all' | 'web' | 'worker';
  shutdownTimeoutMs: number;
  /** Turns in flight, queue and reply deadline on the turn routes (src/bot/http/admission.ts). */
  admission: { maxInFlight: number; minInFlight: number; targetMs: number; maxQueue: number; queueTimeoutMs: number; retryAfterS: number; deadlineMs: number };
  /** Longest wait for a pooled database connection (pg-pool connectionTimeoutMillis). */
  dbAcquireTimeoutMs: number;
  nlu: { enabled: boolean; modelDir: string; confidenceThreshold?: number; margin?: number };
  /** The batching inference pool serving the NLU model (src/inference/pool). */
  inference: InferenceConfig;
  /** Load the demo master data and orders at start-up (idempotent). Default: on for the embedded database. */
  seedDemoData: boolean;
  automation: AutomationConfig;
  procurement: { approvalThreshold: number };
  roles: RolesConfig;
  /** The local web chat (GET /) and its Direct Line 3.0 subset (/v3/directline). */
  webchat: WebchatConfig;
  /** Native Slack (POST /api/slack/events and /api/slack/interactivity); absent → off. */
  slack?: SlackConfig;
}

export interface SlackConfig {
  /** Verifies every request from Slack (x-slack-signature). */
  signingSecret: string;
  /** The bot token (xoxb-…) for the Web API. */
  botToken: string;
  /** Web API base URL (tests point it at a fake); the client's default https://slack.com/api/ otherwise. */
  apiUrl?: string;
  /** The bot's own user id; asked from auth.test at start when unset. */
  botUserId?: string;
}

export interface WebchatConfig {
  enabled: boolean;
  /** Shared secret a client must present to start a conversation; unset on an open loopback server. */
  token?: string;
  /**
   * Direct Line secret for server-side clients (botframework-directlinejs `secret`): starts
   * conversations and, like the service's secret, acts on any of them. Never give it to a browser.
   */
  secret?: string;
}

export const ROLES = ['buyer', 'approver', 'admin', 'clerk', 'broker'] as const;
export type Role = (typeof ROLES)[number];

export interface RolesConfig {
  /** Channel user id → roles (USER_ROLES). */
  byUser: Record<string, Role[]>;
  /** Roles of everyone not listed (DEFAULT_ROLES). */
  defaults: Role[];
}

export interface AutomationConfig {
  /** Where automation jobs are executed: the built-in supplier simulator or a signed webhook. */
  connector: 'simulator' | 'webhook';
  webhook?: { url: string; secret: string; timeoutMs: number };
  /** HMAC secret for POST /api/automations/:id/callback (the webhook secret); unset → the route answers 404. */
  callbackSecret?: string;
  /** Base URL the RPA side calls back on; default the server's own URL. */
  publicBaseUrl?: string;
  simulator: {
    delayMs: number;
    outcome: 'confirm' | 'reject' | 'error';
    /** The simulated customs authority: review time, inspection threshold (USD), refused origins. */
    customs: { reviewMs: number; inspectionThreshold: number; restrictedOrigins: string[] };
  };
  retry: { limit: number; delaySeconds: number; backoff: boolean };
  pollIntervalSeconds: number;
  /** Job steps (and notifications, simulator replies) carried out at once per process (JOB_CONCURRENCY; JOB_WORKERS is the old name). */
  concurrency: number;
  /** A job still running after this long tells its requester so, once (0: never). */
  stillWorkingSeconds: number;
  /** A dispatched step whose result has not arrived after this long fails (0: wait forever). */
  resultTimeoutSeconds: number;
}

export interface InferenceConfig {
  provider: 'cpu' | 'cuda' | 'webgpu' | 'auto';
  /** Sessions in worker threads (true) or on the main thread. */
  workers: boolean;
  sessions: number;
  /** ORT threads per session; undefined = ORT's default (all cores). */
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  maxBatchSize: number;
  maxBatchTokens?: number;
  /** Least share of real (non-padding) tokens in a batch: groups messages by length. */
  minFill: number;
  /** With a queue: batches may skip the oldest request this many times for less padding (0: oldest first). */
  maxPassOver: number;
  maxDelayMs: number;
  queueMax: number;
  timeoutMs: number;
  /** Prediction-cache entries (0: off): src/inference/pool/predictionCache.ts. */
  predictionCacheSize: number;
  /** `remote`: sessions are HTTP clients of an Open Inference Protocol server (src/inference/remote). */
  backend: 'local' | 'remote';
  /** Set when backend is `remote`. */
  remote?: { url: string; modelName: string };
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Parses an environment (process.env by default) into the app configuration, or throws ConfigError. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  // Empty strings (e.g. `MicrosoftAppId=` copied from .env.example) mean "unset".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const env = parsed.data;
  const authEnabled = Boolean(env.MicrosoftAppId);
  if (authEnabled && env.MicrosoftAppType !== 'UserAssignedMSI' && !env.MicrosoftAppPassword) {
    throw new ConfigError(['MicrosoftAppPassword: required when MicrosoftAppId is set']);
  }
  if (env.MicrosoftAppType === 'SingleTenant' && authEnabled && !env.MicrosoftAppTenantId) {
    throw new ConfigError(['MicrosoftAppTenantId: required when MicrosoftAppType is SingleTenant']);
  }
  // No open relay: without credentials anyone could make us POST to any serviceUrl.
  if (!authEnabled && !isLoopbackHost(env.HOST)) {
    throw new ConfigError([
      `HOST: refusing to bind to ${env.HOST} without MicrosoftAppId (unauthenticated server must bind to loopback)`,
    ]);
  }
  if (env.AUTOMATION_CONNECTOR === 'webhook' && (!env.WEBHOOK_URL || !env.WEBHOOK_SECRET)) {
    throw new ConfigError([
      `${env.WEBHOOK_URL ? 'WEBHOOK_SECRET' : 'WEBHOOK_URL'}: required when AUTOMATION_CONNECTOR is webhook`,
    ]);
  }
  // Slack needs both: the secret to trust what arrives, the token to answer.
  if (Boolean(env.SLACK_SIGNING_SECRET) !== Boolean(env.SLACK_BOT_TOKEN)) {
    const missing = env.SLACK_SIGNING_SECRET ? 'SLACK_BOT_TOKEN' : 'SLACK_SIGNING_SECRET';
    const present = env.SLACK_SIGNING_SECRET ? 'SLACK_SIGNING_SECRET' : 'SLACK_BOT_TOKEN';
    throw new ConfigError([`${missing}: required when ${present} is set (Slack needs both)`]);
  }
  if (env.INFERENCE_BACKEND === 'remote' && !env.INFERENCE_URL) {
    throw new ConfigError(['INFERENCE_URL: required when INFERENCE_BACKEND is remote']);
  }
  if (env.DATABASE_SESSION_URL && !env.DATABASE_URL) {
    throw new ConfigError(['DATABASE_SESSION_URL: needs DATABASE_URL (it only moves the session-bound connections of a PostgreSQL server)']);
  }
  // The embedded database lives inside one process: a split web/worker pair needs a server.
  if (env.ROLE !== 'all' && !env.DATABASE_URL) {
    throw new ConfigError([`ROLE: ${env.ROLE} needs DATABASE_URL (the embedded database serves one process; use ROLE=all)`]);
  }
  const roles = parseRoles(env.USER_ROLES, env.DEFAULT_ROLES);
  // Web chat: on by default on loopback; elsewhere only with a WEBCHAT_TOKEN (no anonymous public chat).
  const webchatEnabled = env.WEBCHAT_ENABLED ?? (isLoopbackHost(env.HOST) || Boolean(env.WEBCHAT_TOKEN || env.DIRECTLINE_SECRET));
  if (webchatEnabled && !isLoopbackHost(env.HOST) && !env.WEBCHAT_TOKEN && !env.DIRECTLINE_SECRET) {
    throw new ConfigError([`WEBCHAT_TOKEN: required (or DIRECTLINE_SECRET) when WEBCHAT_ENABLED is true and HOST (${env.HOST}) is not loopback`]);
  }
  return {
    port: env.PORT,
    host: env.HOST,
    database: env.DATABASE_URL
      ? { mode: 'postgres', url: env.DATABASE_URL, ...(env.DATABASE_SESSION_URL ? { sessionUrl: env.DATABASE_SESSION_URL } : {}) }
      : { mode: 'embedded', dataDir: env.DATA_DIR },
    bot: {
      appId: env.MicrosoftAppId,
      appPassword: env.MicrosoftAppPassword,
      appType: env.MicrosoftAppType,
      tenantId: env.MicrosoftAppTenantId,
      authEnabled,
      openIdMetadataUrl: env.BOT_OPENID_METADATA_URL,
      tokenIssuer: env.BOT_TOKEN_ISSUER,
      sendRetry: { retries: env.BOT_SEND_RETRIES, baseDelayMs: env.BOT_SEND_RETRY_BASE_MS, maxDelayMs: env.BOT_SEND_RETRY_MAX_MS },
      turnLockTimeoutMs: env.TURN_LOCK_TIMEOUT_MS,
    },
    adminToken: env.ADMIN_TOKEN,
    logLevel: env.LOG_LEVEL,
    maxBodyBytes: env.MAX_BODY_BYTES,
    serviceUrlAllowlist: env.SERVICE_URL_ALLOWLIST,
    inboundFiles: { teamsFileHosts: env.TEAMS_FILE_HOSTS },
    allowedOrigins: env.ALLOWED_ORIGINS,
    tracing: { flushMs: env.TRACE_FLUSH_MS, batchSize: env.TRACE_BATCH_SIZE, bufferMax: env.TRACE_BUFFER_MAX },
    traceRetentionDays: env.TRACE_RETENTION_DAYS,
    processRole: env.ROLE,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    admission: {
      maxInFlight: env.ADMISSION_MAX_INFLIGHT,
      minInFlight: env.ADMISSION_MIN_INFLIGHT,
      targetMs: env.ADMISSION_TARGET_MS,
      maxQueue: env.ADMISSION_QUEUE_MAX,
      queueTimeoutMs: env.ADMISSION_QUEUE_TIMEOUT_MS,
      retryAfterS: env.ADMISSION_RETRY_AFTER_S,
      deadlineMs: env.TURN_DEADLINE_MS,
    },
    dbAcquireTimeoutMs: env.DB_ACQUIRE_TIMEOUT_MS,
    nlu: {
      enabled: env.NLU_ENABLED,
      modelDir: env.MODEL_DIR,
      confidenceThreshold: env.NLU_CONFIDENCE_THRESHOLD,
      margin: env.NLU_MARGIN,
    },
    inference: {
      provider: env.INFERENCE_PROVIDER,
      workers: env.INFERENCE_WORKERS,
      sessions: env.INFERENCE_SESSIONS,
      intraOpNumThreads: env.INFERENCE_INTRA_THREADS || undefined,
      interOpNumThreads: env.INFERENCE_INTER_THREADS || undefined,
      maxBatchSize: env.INFERENCE_MAX_BATCH,
      maxBatchTokens: env.INFERENCE_MAX_BATCH_TOKENS,
      minFill: env.INFERENCE_MIN_FILL,
      maxPassOver: env.INFERENCE_MAX_PASS_OVER,
      maxDelayMs: env.INFERENCE_MAX_DELAY_MS,
      queueMax: env.INFERENCE_QUEUE_MAX,
      timeoutMs: env.INFERENCE_TIMEOUT_MS,
      predictionCacheSize: env.INFERENCE_CACHE_SIZE,
      backend: env.INFERENCE_BACKEND,
      ...(env.INFERENCE_BACKEND === 'remote' && env.INFERENCE_URL ? { remote: { url: env.INFERENCE_URL, modelName: env.INFERENCE_MODEL_NAME } } : {}),
    },
    seedDemoData: env.SEED_DEMO_DATA ?? !env.DATABASE_URL,
    automation: {
      connector: env.AUTOMATION_CONNECTOR,
      webhook:
        env.WEBHOOK_URL && env.WEBHOOK_SECRET
          ? { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET, timeoutMs: env.WEBHOOK_TIMEOUT_MS }
          : undefined,
      callbackSecret: env.WEBHOOK_SECRET,
      publicBaseUrl: env.PUBLIC_BASE_URL?.replace(/\/+$/, ''),
      simulator: {
        delayMs: env.SIMULATOR_DELAY_MS,
        outcome: env.SIMULATOR_OUTCOME,
        customs: {
          reviewMs: env.CUSTOMS_REVIEW_MS,
          inspectionThreshold: env.CUSTOMS_INSPECTION_THRESHOLD,
          restrictedOrigins: env.CUSTOMS_RESTRICTED_ORIGINS,
        },
      },
      retry: { limit: env.JOB_RETRY_LIMIT, delaySeconds: env.JOB_RETRY_DELAY_S, backoff: env.JOB_RETRY_BACKOFF },
      pollIntervalSeconds: env.JOB_POLL_INTERVAL_S,
      concurrency: env.JOB_CONCURRENCY ?? env.JOB_WORKERS ?? 10,
      stillWorkingSeconds: env.JOB_STILL_WORKING_S,
      resultTimeoutSeconds: env.JOB_RESULT_TIMEOUT_S,
    },
    procurement: { approvalThreshold: env.APPROVAL_THRESHOLD },
    roles,
    webchat: { enabled: webchatEnabled, token: env.WEBCHAT_TOKEN, secret: env.DIRECTLINE_SECRET },
    slack:
      env.SLACK_SIGNING_SECRET && env.SLACK_BOT_TOKEN
        ? {
            signingSecret: env.SLACK_SIGNING_SECRET,
            botToken: env.SLACK_BOT_TOKEN,
            apiUrl: env.SLACK_API_URL?.replace(/\/*$/, '/'),
            botUserId: env.SLACK_BOT_USER_ID,
          }
        : undefined,
  };
}

/** `USER_ROLES="29:1abc=approver,alice=buyer+approver"` → { '29:1abc': ['approver'], alice: ['buyer', 'approver'] }. */
function parseRoles(raw: string, defaults: string[]): RolesConfig {
  const issues: string[] = [];
  const asRoles = (names: string[], where: string): Role[] => {
    const out: Role[] = [];
    for (const name of names) {
      if ((ROLES as readonly string[]).includes(name)) out.push(name as Role);
      else issues.push(`${where}: unknown role "${name}" (known: ${ROLES.join(', ')})`);
    }
    return out;
  };
  const byUser: Record<string, Role[]> = {};
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.lastIndexOf('=');
    const user = eq > 0 ? entry.slice(0, eq).trim() : '';
    const roles = eq > 0 ? entry.slice(eq + 1).split('+').map((s) => s.trim()).filter(Boolean) : [];
    if (!user || roles.length === 0) {
      issues.push(`USER_ROLES: "${entry}" is not userId=role[+role]`);
      continue;
    }
    byUser[user] = asRoles(roles, 'USER_ROLES');
  }
  const defaultRoles = asRoles(defaults, 'DEFAULT_ROLES');
  if (issues.length > 0) throw new ConfigError(issues);
  return { byUser, defaults: defaultRoles };
}

/** What `npm run teams:package` reads from the environment (the bot's app id); nothing else is validated. */
export function readTeamsPackageEnv(source: NodeJS.ProcessEnv = process.env): { appId?: string } {
  const appId = source.MicrosoftAppId?.trim();
  return { appId: appId ? appId : undefined };
}
