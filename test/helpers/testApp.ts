import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/logger.js';
import { startApp, type RunningApp, type StartOptions } from '../../src/app.js';
import { ROOMY_LIMITS } from './roomyLimits.js';

export { ROOMY_LIMITS };

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
