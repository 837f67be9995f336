import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { startApp, type RunningApp, type StartOptions } from '../../src/app.js';

/**
 * The overload protections (admission, lock wait, pool wait, reply deadline) adapt to how busy the
 * machine is; the full suite runs in parallel forks on 2 cores, where a turn can take seconds. Tests
 * of other behaviour get roomy limits so that a slow CI machine sheds nothing; the tests of those
 * protections set their own values (`env` wins).
 */
export const ROOMY_LIMITS: Record<string, string> = {
  ADMISSION_TARGET_MS: '0',
  ADMISSION_MAX_INFLIGHT: '256',
  ADMISSION_QUEUE_MAX: '1024',
  ADMISSION_QUEUE_TIMEOUT_MS: '14000',
  TURN_LOCK_TIMEOUT_MS: '30000',
  TURN_DEADLINE_MS: '14000',
  DB_ACQUIRE_TIMEOUT_MS: '10000',
};

/** Starts the real server on a free loopback port; `dbEnv` picks the database (DATA_DIR or DATABASE_URL). */
export async function startTestApp(
  dbEnv: Record<string, string>,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<RunningApp> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', TRACE_FLUSH_MS: '20', ...ROOMY_LIMITS, ...dbEnv, ...env });
  return startApp(config, { recognizer: null, logger: createLogger('silent'), ...options });
}

export interface ActivityOptions {
  serviceUrl: string;
  conversationId?: string;
  userId?: string;
  text?: string;
  type?: string;
  [key: string]: unknown;
}

/** A message activity as a Bot Framework channel sends it. */
export function makeActivity({ serviceUrl, conversationId, userId, text, type, ...rest }: ActivityOptions) {
  return {
    type: type ?? 'message',
    id: randomUUID(),
    channelId: 'test',
    serviceUrl,
    conversation: { id: conversationId ?? `conv-${randomUUID()}` },
    from: { id: userId ?? 'user-1', name: 'Test User' },
    recipient: { id: 'bot', name: 'RPA Assistant' },
    text,
    timestamp: new Date().toISOString(),
    ...rest,
  };
}

export async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, text, json };
}
