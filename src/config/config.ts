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
  DATA_DIR: z.string().min(1).default('./data'),
  MicrosoftAppId: z.string().optional(),
  MicrosoftAppPassword: z.string().optional(),
  MicrosoftAppType: z.enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI']).default('MultiTenant'),
  MicrosoftAppTenantId: z.string().optional(),
  BOT_OPENID_METADATA_URL: z.string().url().optional(),
  BOT_TOKEN_ISSUER: z.string().min(1).optional(),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(50 * 1024 * 1024).default(256 * 1024),
  SERVICE_URL_ALLOWLIST: csv.default(['localhost', '127.0.0.1', '[::1]', '::1']),
  TRACE_FLUSH_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  TRACE_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(200),
  TRACE_BUFFER_MAX: z.coerce.number().int().min(10).max(1_000_000).default(50_000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  MODEL_DIR: z.string().min(1).default('./models/intent-gpt2'),
  NLU_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).optional(),
  NLU_MARGIN: z.coerce.number().min(0).max(1).optional(),
  NLU_ENABLED: bool.default(true),
});

export type Env = z.infer<typeof envSchema>;

/** Every variable the app reads (a test checks .env.example documents each one). */
export const ENV_KEYS = Object.keys(envSchema.shape);

export interface AppConfig {
  port: number;
  host: string;
  database: { mode: 'embedded'; dataDir: string } | { mode: 'postgres'; url: string };
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
  };
  /** Bearer token for operator endpoints (traces) when the server is not on loopback. */
  adminToken?: string;
  logLevel: Env['LOG_LEVEL'];
  maxBodyBytes: number;
  serviceUrlAllowlist: string[];
  tracing: { flushMs: number; batchSize: number; bufferMax: number };
  shutdownTimeoutMs: number;
  nlu: { enabled: boolean; modelDir: string; confidenceThreshold?: number; margin?: number };
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
  return {
    port: env.PORT,
    host: env.HOST,
    database: env.DATABASE_URL ? { mode: 'postgres', url: env.DATABASE_URL } : { mode: 'embedded', dataDir: env.DATA_DIR },
    bot: {
      appId: env.MicrosoftAppId,
      appPassword: env.MicrosoftAppPassword,
      appType: env.MicrosoftAppType,
      tenantId: env.MicrosoftAppTenantId,
      authEnabled,
      openIdMetadataUrl: env.BOT_OPENID_METADATA_URL,
      tokenIssuer: env.BOT_TOKEN_ISSUER,
    },
    adminToken: env.ADMIN_TOKEN,
    logLevel: env.LOG_LEVEL,
    maxBodyBytes: env.MAX_BODY_BYTES,
    serviceUrlAllowlist: env.SERVICE_URL_ALLOWLIST,
    tracing: { flushMs: env.TRACE_FLUSH_MS, batchSize: env.TRACE_BATCH_SIZE, bufferMax: env.TRACE_BUFFER_MAX },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    nlu: {
      enabled: env.NLU_ENABLED,
      modelDir: env.MODEL_DIR,
      confidenceThreshold: env.NLU_CONFIDENCE_THRESHOLD,
      margin: env.NLU_MARGIN,
    },
  };
}
