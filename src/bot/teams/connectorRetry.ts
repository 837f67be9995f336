import { type Activity, ConfigurationBotFrameworkAuthentication, type ConfigurationBotFrameworkAuthenticationOptions } from 'botbuilder';
import {
  ConnectorFactory,
  type AuthenticateRequestResult,
  type ClaimsIdentity,
  type ConnectorClient,
  type ServiceClientCredentialsFactory,
} from 'botframework-connector';
import type { Logger } from '../../logger.js';
import { installIpv6LiteralPolicy } from '../http/serviceUrlPolicy.js';

/**
 * Retries of the bot's calls to the channel's connector (replies, proactive sends, card updates):
 * what Teams asks for — 429 (throttled), 412 (precondition failed: concurrent update), 502 and
 * 504 (gateway) are transient — with exponential backoff and jitter, never sooner than the
 * channel's Retry-After. Anything else (403 uninstalled/blocked, 404, 400…) fails at once.
 *
 * The SDK's ConnectorClient comes with @azure/core-rest-pipeline's default retry policy (5xx and
 * throttling, fixed settings, no 412). It is replaced by this one, so there is exactly one retry
 * layer, with our settings and our logs.
 */

export interface ConnectorRetryOptions {
  /** Retries after the first attempt (0 = none). */
  retries: number;
  /** First backoff; doubles per retry. */
  baseDelayMs: number;
  /** Longest single wait; a Retry-After asking for more ends the retries (the caller's outbox retries later). */
  maxDelayMs: number;
  /** Jitter source (tests pin it). */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([412, 429, 502, 504]);

/** What the pipeline hands a policy (the subset of @azure/core-rest-pipeline's types used here). */
interface PipelineRequestLike {
  method: string;
  url: string;
  abortSignal?: AbortSignal;
}
interface PipelineResponseLike {
  status: number;
  headers: { get(name: string): string | undefined };
}
export interface PipelinePolicyLike {
  name: string;
  sendRequest(request: PipelineRequestLike, next: (request: PipelineRequestLike) => Promise<PipelineResponseLike>): Promise<PipelineResponseLike>;
}
interface PipelineLike {
  addPolicy(policy: PipelinePolicyLike, options?: { phase?: 'Retry' }): void;
  removePolicy(options: { name: string }): unknown[];
  getOrderedPolicies(): { name: string }[];
}

export const CONNECTOR_RETRY_POLICY = 'rpaConnectorRetryPolicy';
const SDK_RETRY_POLICY = 'defaultRetryPolicy';

/** Retry-After as seconds or an HTTP date → milliseconds (undefined when absent or unreadable). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The wait before retry number `retry` (0-based): exponential backoff with "equal jitter" (half
 * fixed, half random), capped at maxDelayMs; at least the Retry-After, plus a little jitter so
 * throttled senders do not come back in lockstep. Undefined: the channel asks for longer than we wait.
 */
export function retryDelay(retry: number, retryAfterMs: number | undefined, options: ConnectorRetryOptions): number | undefined {
  const random = options.random ?? Math.random;
  const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry);
  if (retryAfterMs !== undefined) {
    if (retryAfterMs > options.maxDelayMs) return undefined;
    return retryAfterMs + Math.round(random() * Math.min(options.baseDelayMs, retryAfterMs * 0.1 + 1));
  }
  return Math.round(backoff / 2 + random() * (backoff / 2));
}

/** The retry policy for one ConnectorClient pipeline. */
export function connectorRetryPolicy(options: ConnectorRetryOptions, logger: Logger): PipelinePolicyLike {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return {
    name: CONNECTOR_RETRY_POLICY,
    async sendRequest(request, next) {
      for (let attempt = 1; ; attempt++) {
        const response = await next(request);
        if (!RETRYABLE_STATUSES.has(response.status)) return response;
        const where = { method: request.method, path: safePath(request.url), status: response.status, attempt };
        if (attempt > options.retries) {
          logger.error(where, 'connector call failed: giving up after retries');
          return response;
        }
        const wait = retryDelay(attempt - 1, parseRetryAfter(response.headers.get('retry-after')), options);
        if (wait === undefined) {
          logger.error({ ...where, retryAfter: response.headers.get('retry-after') }, 'connector call failed: Retry-After is longer than we wait');
          return response;
        }
        if (request.abortSignal?.aborted) return response;
        logger.warn({ ...where, waitMs: wait }, 'connector call failed: retrying');
        await sleep(wait);
      }
    },
  };
}

/** Swaps the SDK's retry policy of a ConnectorClient for ours (the pipeline is not public API). */
export function installRetryPolicy(client: ConnectorClient, policy: PipelinePolicyLike): boolean {
  const pipeline = (client as unknown as { client?: { pipeline?: PipelineLike } }).client?.pipeline;
  if (!pipeline || typeof pipeline.removePolicy !== 'function' || typeof pipeline.addPolicy !== 'function') return false;
  if (pipeline.getOrderedPolicies().some((p) => p.name === CONNECTOR_RETRY_POLICY)) return true;
  pipeline.removePolicy({ name: SDK_RETRY_POLICY });
  pipeline.addPolicy(policy, { phase: 'Retry' });
  return true;
}

/** A ConnectorFactory whose clients carry our retry policy. */
class RetryingConnectorFactory extends ConnectorFactory {
  constructor(
    private readonly inner: ConnectorFactory,
    private readonly policy: PipelinePolicyLike,
    private readonly onUnsupported: () => void,
  ) {
    super();
  }

  async create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    const client = await this.inner.create(serviceUrl, audience);
    if (!installRetryPolicy(client, this.policy)) this.onUnsupported();
    installIpv6LiteralPolicy(client); // http://[::1]:port serviceUrls (http/serviceUrlPolicy.ts)
    return client;
  }
}

/** Bot Framework authentication whose connector clients retry the way Teams asks for. */
export class RetryingBotFrameworkAuthentication extends ConfigurationBotFrameworkAuthentication {
  private readonly policy: PipelinePolicyLike;
  private warned = false;

  constructor(
    settings: ConfigurationBotFrameworkAuthenticationOptions,
    credentials: ServiceClientCredentialsFactory,
    retry: ConnectorRetryOptions,
    private readonly logger: Logger,
  ) {
    super(settings, credentials);
    this.policy = connectorRetryPolicy(retry, logger);
  }

  /**
   * Replies within a turn use the factory of the authenticated request: its clients get the same
   * retry policy as proactive sends (a reply answered 412 is retried, as Teams asks) and reach
   * IPv6-literal serviceUrls too.
   */
  override async authenticateRequest(activity: Activity, authHeader: string): Promise<AuthenticateRequestResult> {
    const result = await super.authenticateRequest(activity, authHeader);
    return result.connectorFactory ? { ...result, connectorFactory: this.retrying(result.connectorFactory) } : result;
  }

  override createConnectorFactory(claimsIdentity: ClaimsIdentity): ConnectorFactory {
    return this.retrying(super.createConnectorFactory(claimsIdentity));
  }

  private retrying(inner: ConnectorFactory): ConnectorFactory {
    return new RetryingConnectorFactory(inner, this.policy, () => {
      if (this.warned) return;
      this.warned = true;
      this.logger.warn('connector client pipeline not found: the SDK default retry policy stays in place');
    });
  }
}

/** The path of a connector URL without query string (logs never carry tokens or full URLs). */
function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(unparsable url)';
  }
}
