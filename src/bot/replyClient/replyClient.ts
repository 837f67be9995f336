import type { HttpHeaders, PipelineRequest } from '@azure/core-rest-pipeline';
import { ConnectorMappers } from 'botframework-connector/lib/connectorApi/connectorClient.js';
import type { ConnectorClient } from 'botframework-connector';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createGunzip, createInflate } from 'node:zlib';
import { CONNECTOR_RETRY_POLICY, type PipelinePolicyLike } from '../teams/connectorRetry.js';
import { ipv6LiteralAgent } from '../http/serviceUrlPolicy.js';
import { compileActivityJson, type ActivityJson } from './activityJson.js';

/**
 * A thin Bot Framework reply client: the two calls a turn makes for every reply —
 * `POST {serviceUrl}/v3/conversations/{id}/activities/{replyToId}` (replyToActivity) and
 * `POST {serviceUrl}/v3/conversations/{id}/activities` (sendToConversation) — sent straight with
 * node:http instead of through @azure/core-client's operation machinery and the 16-policy
 * @azure/core-rest-pipeline (≈ 10 % of the main thread's busy time per turn in the profile:
 * mapper-tree serialisation, header copies, URL templating, tracing spans, response
 * deserialisation).
 *
 * The channel sees the same request: same URL (the SDK's encoding and path joining), same body
 * (activityJson.ts: the SDK's mappers, compiled), same headers in the same order (User-Agent taken
 * from the client's own userAgentPolicy, a fresh x-ms-client-request-id, Authorization from the
 * client's own credentials — the SDK's token cache and acquisition), the same keep-alive
 * connection reuse, and the same retries (the client's own rpaConnectorRetryPolicy object, so
 * 412/429/502/504 back off exactly as before). Answers come back the same way: 200/201/202 → the
 * ResourceResponse the SDK returns (deserialised with the SDK's mappers); anything else → the
 * RestError core-client throws (message, code, statusCode, response.parsedBody).
 *
 * Whatever it does not copy goes to the SDK's own method, unchanged: other operations, calls with
 * options or a callback, activities the compiled serializer is not sure about (the SDK then throws
 * its own error), ids that URL path normalisation would change, a proxy in the environment, a
 * client whose pipeline is not the one this was written against, and a redirect answer (the SDK
 * then repeats the POST and follows the redirect itself).
 */

/**
 * Position 12 is the retry policy: ours (connectorRetry.ts), on every client the adapter's
 * authentication builds (turn replies and proactive sends). A client with another (the SDK's
 * `defaultRetryPolicy`) is not the pipeline this was written against: it keeps the SDK's methods.
 */
const RETRY_POLICY_SLOT = 'retryPolicy';

// The CommonJS copies the SDK itself loads (an ESM import would load a second copy, whose RestError
// is another class: `instanceof RestError` must hold for our errors as for the SDK's).
const require = createRequire(import.meta.url);
const { createSerializer } = require('@azure/core-client') as typeof import('@azure/core-client');
const { createHttpHeaders, createPipelineRequest, RestError } = require('@azure/core-rest-pipeline') as typeof import('@azure/core-rest-pipeline');
type RestError = import('@azure/core-rest-pipeline').RestError;

/** The pipeline this was written against (botframework-connector 4.23 + connectorRetry.ts + serviceUrlPolicy.ts). */
export const EXPECTED_POLICIES = [
  'serializationPolicy',
  'proxyPolicy',
  'decompressResponsePolicy',
  'wrapAbortSignalLikePolicy',
  'formDataPolicy',
  'userAgentPolicy',
  'setClientRequestIdPolicy',
  'ServiceClientContext_RequestPolicyFactories',
  'ServiceClientContext_Credentials_SignRequest',
  'rpaIpv6LiteralPolicy',
  'deserializationPolicy',
  'multipartPolicy',
  RETRY_POLICY_SLOT,
  'tracingPolicy',
  'redirectPolicy',
  'logPolicy',
] as const;

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy'];
const JSON_CONTENT_TYPES = ['application/json', 'text/json'];
const SUCCESS = new Set([200, 201, 202]);
/** Statuses core-rest-pipeline's redirectPolicy follows for a POST (when a Location comes with them). */
const POST_REDIRECTS = new Set([300, 303, 307]);

interface SignableResource {
  url: string;
  method: string;
  headers: { set(name: string, value: string): void; get(name: string): string | undefined };
}
interface ClientInternals {
  client?: { pipeline?: { getOrderedPolicies(): PipelinePolicyLike[] } };
  credentials?: { signRequest?(resource: SignableResource): Promise<unknown> };
  conversations?: object;
}
type Conversations = ConnectorClient['conversations'];

const serializer = createSerializer(ConnectorMappers as never);
let compiled: ActivityJson | null | undefined;

/** The compiled Activity serializer, or null when the SDK's mappers use something it does not implement. */
function activityJson(): ActivityJson | null {
  if (compiled === undefined) {
    try {
      compiled = compileActivityJson();
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** How many replies went the thin way vs to the SDK (tests and bench notes). */
export const replyClientStats = { thin: 0, sdk: 0 };

/**
 * Gives `client` (built for `serviceUrl`) the thin reply path; false, and the client untouched,
 * when anything about it or the environment is not what the thin path copies.
 */
export async function installThinReplies(client: ConnectorClient, serviceUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const internals = client as unknown as ClientInternals;
  const toJson = activityJson();
  if (!toJson) return false;
  if (PROXY_VARIABLES.some((name) => env[name])) return false;
  const policies = internals.client?.pipeline?.getOrderedPolicies();
  if (!policies || policies.length !== EXPECTED_POLICIES.length) return false;
  if (policies.some((p, i) => p.name !== (EXPECTED_POLICIES[i] === RETRY_POLICY_SLOT ? CONNECTOR_RETRY_POLICY : EXPECTED_POLICIES[i]))) return false;
  const credentials = internals.credentials;
  if (!credentials || typeof credentials.signRequest !== 'function') return false;
  const original = internals.conversations as Conversations | undefined;
  if (!original || typeof original.replyToActivity !== 'function' || typeof original.sendToConversation !== 'function') return false;
  const prefix = urlPrefix(serviceUrl);
  if (!prefix) return false;
  const userAgent = await userAgentOf(policies.find((p) => p.name === 'userAgentPolicy')!);
  if (!userAgent) return false;
  const retry = policies[EXPECTED_POLICIES.indexOf(RETRY_POLICY_SLOT)]!;
  // The SDK's own method, unchanged: for whatever the thin path does not copy, and for a redirect
  // (the SDK then repeats the POST and follows the Location itself).
  const viaSdk = (name: 'replyToActivity' | 'sendToConversation', args: unknown[]): Promise<unknown> =>
    (original[name] as (...a: unknown[]) => Promise<unknown>).apply(original, args);
  const sender = new ThinSender(prefix, userAgent, retry, internals, toJson, (conversationId, activityId, activity) =>
    activityId === undefined ? viaSdk('sendToConversation', [conversationId, activity]) : viaSdk('replyToActivity', [conversationId, activityId, activity]),
  );

  const thin = Object.create(original) as Conversations;
  thin.replyToActivity = function (this: Conversations, conversationId: unknown, activityId: unknown, activity: unknown, ...rest: unknown[]) {
    const sent = rest.length === 0 ? sender.send(conversationId, activityId, activity) : undefined;
    if (sent) return sent as never;
    replyClientStats.sdk++;
    return viaSdk('replyToActivity', [conversationId, activityId, activity, ...rest]) as never;
  } as Conversations['replyToActivity'];
  thin.sendToConversation = function (this: Conversations, conversationId: unknown, activity: unknown, ...rest: unknown[]) {
    const sent = rest.length === 0 ? sender.send(conversationId, undefined, activity) : undefined;
    if (sent) return sent as never;
    replyClientStats.sdk++;
    return viaSdk('sendToConversation', [conversationId, activity, ...rest]) as never;
  } as Conversations['sendToConversation'];
  (client as unknown as { conversations: Conversations }).conversations = thin;
  return true;
}

/** The URL the SDK builds for a path under `serviceUrl` is this prefix + the path (core-client's appendPath), or undefined. */
export function urlPrefix(serviceUrl: string): string | undefined {
  if (typeof serviceUrl !== 'string' || serviceUrl.includes('{')) return undefined;
  let url: URL;
  try {
    url = new URL(serviceUrl);
  } catch {
    return undefined;
  }
  if (url.search || url.hash || (url.protocol !== 'http:' && url.protocol !== 'https:')) return undefined;
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  Object.assign(url, { pathname: path });
  const text = url.toString();
  return text.endsWith(path) ? text : undefined;
}

/** The SDK's User-Agent for this client: its own userAgentPolicy run on a probe request (nothing is sent). */
async function userAgentOf(policy: PipelinePolicyLike): Promise<string | undefined> {
  let agent: string | undefined;
  const probe = createPipelineRequest({ url: 'http://127.0.0.1/', method: 'POST' });
  try {
    await (policy as unknown as { sendRequest(r: PipelineRequest, next: (r: PipelineRequest) => Promise<unknown>): Promise<unknown> }).sendRequest(probe, async (r) => {
      agent = r.headers.get('User-Agent');
      return { status: 200, headers: createHttpHeaders(), request: r };
    });
  } catch {
    return undefined;
  }
  return agent;
}

/** A path segment that URL parsing would rewrite (dot segments), or that encodeURIComponent refuses. */
function segment(id: string): string | undefined {
  if (id === '.' || id === '..') return undefined;
  try {
    return encodeURIComponent(id);
  } catch {
    return undefined;
  }
}

interface Answer {
  status: number;
  headers: HttpHeaders;
  bodyAsText: string;
  request: PipelineRequest;
}

class ThinSender {
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true });

  constructor(
    private readonly prefix: string,
    private readonly userAgent: string,
    private readonly retry: PipelinePolicyLike,
    /** The client: its `credentials` are read at each call, as the SDK's sign policy does. */
    private readonly client: ClientInternals,
    private readonly toJson: ActivityJson,
    /** Sends the same call through the SDK, which follows a redirect answer itself. */
    private readonly onRedirect: (conversationId: string, activityId: string | undefined, activity: unknown) => Promise<unknown>,
  ) {}

  /** The reply as the SDK would send it, or undefined (not sent) when the SDK must do it. */
  send(conversationId: unknown, activityId: unknown, activity: unknown): Promise<unknown> | undefined {
    if (typeof conversationId !== 'string' || (activityId !== undefined && typeof activityId !== 'string')) return undefined;
    const conversation = segment(conversationId);
    const replyTo = activityId === undefined ? '' : segment(activityId);
    if (conversation === undefined || replyTo === undefined) return undefined;
    const body = this.toJson(activity); // never throws: undefined for anything it is not sure of
    if (body === undefined) return undefined;
    replyClientStats.thin++;
    const url = `${this.prefix}v3/conversations/${conversation}/activities${activityId === undefined ? '' : `/${replyTo}`}`;
    // Header order as the SDK's pipeline writes them (serialization, decompress, user agent, request id, sign).
    const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' };
    if (activityId !== undefined) headers['x-ms-conversation-id'] = conversationId;
    headers['Accept-Encoding'] = 'gzip,deflate';
    headers['User-Agent'] = this.userAgent;
    headers['x-ms-client-request-id'] = randomUUID();
    headers['accept'] = '*/*';
    return this.sign(url, headers).then(async () => {
      headers['Content-Length'] = String(Buffer.byteLength(body));
      const answer = await this.withRetries(url, headers, body);
      if (POST_REDIRECTS.has(answer.status) && answer.headers.get('location')) return this.onRedirect(conversationId, activityId as string | undefined, activity);
      return this.result(answer);
    });
  }

  /** The client's credentials sign the request (the SDK's token cache: a cached token, or one fetched now). */
  private async sign(url: string, headers: Record<string, string>): Promise<void> {
    const added: [string, string][] = [];
    const resource: SignableResource = {
      url,
      method: 'POST',
      headers: {
        set: (name, value) => {
          added.push([name, String(value)]);
        },
        get: (name) => added.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1] ?? Object.entries(headers).find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1],
      },
    };
    await this.client.credentials!.signRequest!(resource);
    for (const [name, value] of added) {
      const same = Object.keys(headers).find((n) => n.toLowerCase() === name.toLowerCase());
      if (same && same !== name) delete headers[same];
      headers[name] = value;
    }
  }

  /** The client's own retry policy object around the attempts (it may wait, retry, or rewrite request.url). */
  private withRetries(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
    const request = createPipelineRequest({ url, method: 'POST', headers: createHttpHeaders(headers) });
    const policy = this.retry as unknown as { sendRequest(r: PipelineRequest, next: (r: PipelineRequest) => Promise<Answer>): Promise<Answer> };
    return policy.sendRequest(request, (r) => this.post(r.url, headers, body, r));
  }

  private post(url: string, headers: Record<string, string>, body: string, request: PipelineRequest): Promise<Answer & { request: PipelineRequest }> {
    const parsed = new URL(url);
    const secure = parsed.protocol === 'https:';
    const agent = ipv6LiteralAgent(url) ?? (secure ? this.httpsAgent : this.httpAgent);
    const options = { agent, hostname: parsed.hostname, path: `${parsed.pathname}${parsed.search}`, port: parsed.port, method: 'POST', headers };
    return new Promise((resolve, reject) => {
      const onResponse = (res: IncomingMessage) => {
        const responseHeaders = createHttpHeaders();
        for (const name of Object.keys(res.headers)) {
          const value = res.headers[name];
          if (Array.isArray(value)) {
            if (value.length > 0) responseHeaders.set(name, value[0]!);
          } else if (value) responseHeaders.set(name, value);
        }
        const encoding = responseHeaders.get('Content-Encoding');
        const stream = encoding === 'gzip' ? res.pipe(createGunzip()) : encoding === 'deflate' ? res.pipe(createInflate()) : res;
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer | string) => chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)));
        stream.on('end', () => resolve({ status: res.statusCode ?? 0, headers: responseHeaders, bodyAsText: Buffer.concat(chunks).toString('utf8'), request }));
        stream.on('error', (e: Error) =>
          reject(e?.name === 'AbortError' ? e : new RestError(`Error reading response as text: ${e.message}`, { code: RestError.PARSE_ERROR })),
        );
      };
      const req = secure ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
      req.once('error', (err: NodeJS.ErrnoException) => {
        reject(new RestError(err.message, { code: err.code ?? RestError.REQUEST_SEND_ERROR, request }));
      });
      req.end(body);
    });
  }

  /** What core-client's deserializationPolicy and flattenResponse make of the answer (the SDK's mappers). */
  private result(answer: Answer): unknown {
    const request = answer.request;
    const response: { status: number; headers: HttpHeaders; bodyAsText: string; request: PipelineRequest; parsedBody?: unknown } = { ...answer };
    if (answer.bodyAsText) {
      const contentType = answer.headers.get('Content-Type') || '';
      const components = contentType ? contentType.split(';').map((c) => c.toLowerCase()) : [];
      if (components.length === 0 || components.some((c) => JSON_CONTENT_TYPES.includes(c))) {
        try {
          response.parsedBody = JSON.parse(answer.bodyAsText);
        } catch (err) {
          throw new RestError(`Error "${String(err)}" occurred while parsing the response body - ${answer.bodyAsText}.`, {
            code: (err as { code?: string }).code || RestError.PARSE_ERROR,
            statusCode: answer.status,
            request,
            response: response as never,
          });
        }
      }
    }
    if (!SUCCESS.has(answer.status)) throw errorOf(response);
    let body: unknown;
    const parsed = response.parsedBody as { id?: unknown } | undefined;
    try {
      // The usual answer, {"id": "…"}, deserialises to {id} (the ResourceResponse mapper's one
      // String property, nothing to drop); anything else through the SDK's serializer.
      body = isIdOnly(parsed) ? { id: parsed.id } : serializer.deserialize(ConnectorMappers.ResourceResponse as never, response.parsedBody, 'operationRes.parsedBody');
    } catch (deserializeError) {
      throw new RestError(`Error ${String(deserializeError)} occurred in deserializing the responseBody - ${answer.bodyAsText}`, { statusCode: answer.status, request, response: response as never });
    }
    response.parsedBody = body;
    const result = { ...(body as object) };
    Object.defineProperty(result, '_response', { value: response });
    return result;
  }
}

function isIdOnly(value: unknown): value is { id: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'id' && typeof (value as { id: unknown }).id === 'string';
}

/** core-client's handleErrorResponse for an answer outside the operation's responses (default: ErrorResponse). */
function errorOf(response: { status: number; headers: HttpHeaders; bodyAsText: string; request: PipelineRequest; parsedBody?: unknown }): RestError {
  const error = new RestError(response.bodyAsText, { statusCode: response.status, request: response.request, response: response as never });
  try {
    const parsedBody = response.parsedBody as { error?: { code?: string; message?: string } } | undefined;
    if (parsedBody) {
      const deserialized = serializer.deserialize(ConnectorMappers.ErrorResponse as never, parsedBody, 'error.response.parsedBody') as { code?: string; message?: string } | undefined;
      const internal = (parsedBody.error || deserialized || parsedBody) as { code?: string; message?: string };
      error.code = internal.code;
      if (internal.message) error.message = internal.message;
      (error.response as unknown as { parsedBody: unknown }).parsedBody = deserialized;
    }
  } catch (defaultError) {
    error.message = `Error "${(defaultError as Error).message}" occurred in deserializing the responseBody - "${response.bodyAsText}" for the default response.`;
  }
  return error;
}
