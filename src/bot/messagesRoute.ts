import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AuthenticationError } from 'botframework-connector';
import type { Activity, ActivityHandler } from 'botbuilder';
import type { AssistantAdapter } from './adapter.js';
import type { Logger } from '../logger.js';
import { runWithTrace, type TurnIds, type TurnTrace } from '../tracing/turnTrace.js';
import { HttpError, errorBody } from './http/httpErrors.js';
import { parseActivity } from './http/activitySchema.js';
import { OriginPolicy, requireJsonContentType } from './http/edgeChecks.js';
import { readJsonBody } from './http/readJsonBody.js';
import { sendJson } from './http/respond.js';
import type { ServiceUrlPolicy } from './http/serviceUrlPolicy.js';

export interface TurnTracer {
  startTurn(ids: TurnIds): TurnTrace;
}

export interface MessagesRouteDeps {
  /** The Bot Framework adapter, or a channel's own (native Slack) with the same inbound entry point. */
  adapter: Pick<AssistantAdapter, 'processInbound'>;
  bot: ActivityHandler;
  tracer: TurnTracer;
  logger: Logger;
  maxBodyBytes: number;
  /** Set when auth is off: replies may only go to allow-listed serviceUrl hosts. */
  serviceUrlPolicy?: Pick<ServiceUrlPolicy, 'isAllowed'>;
  /** Browser origins accepted on POST /api/messages (none by default: channels send no Origin). */
  origins?: OriginPolicy;
}

/** What one inbound activity came to: the HTTP status and body to answer with. */
export interface TurnResult {
  status: number;
  body?: unknown;
}

/**
 * One inbound activity through validation, tracing and the adapter — everything /api/messages
 * does except reading and writing HTTP. `readBody` is timed as the `receive` stage; the local web
 * channel builds its activities itself and hands them in here, so both paths are the same code.
 */
export function createTurnRunner(deps: MessagesRouteDeps) {
  return async (readBody: () => Promise<unknown>, authHeader: string): Promise<TurnResult> => {
    const trace = deps.tracer.startTurn({});
    const receiveStart = performance.now();
    let activity;
    try {
      activity = parseActivity(await readBody());
      Object.assign(trace.ids, {
        conversationId: activity.conversation.id,
        channelId: activity.channelId,
        activityId: activity.id,
        userId: activity.from.id,
      });
      if (deps.serviceUrlPolicy && !deps.serviceUrlPolicy.isAllowed(activity.serviceUrl)) {
        throw new HttpError(403, 'service_url_not_allowed', 'serviceUrl host is not on the allow-list.');
      }
    } catch (err) {
      trace.record('receive', performance.now() - receiveStart);
      const httpError = err instanceof HttpError ? err : new HttpError(400, 'bad_request', 'Bad request.');
      trace.fail(httpError);
      trace.end('rejected');
      return { status: httpError.status, body: errorBody(httpError.code, httpError.publicMessage) };
    }
    trace.record('receive', performance.now() - receiveStart);

    let logicStarted = false;
    try {
      const invokeResponse = await runWithTrace(trace, () =>
        deps.adapter.processInbound(authHeader, activity as unknown as Activity, async (context) => {
          logicStarted = true;
          await deps.bot.run(context);
        }),
      );
      trace.end();
      return { status: invokeResponse?.status ?? 200, body: invokeResponse?.body };
    } catch (err) {
      trace.fail(err);
      if (err instanceof AuthenticationError || !logicStarted) {
        // Everything before the bot logic is authentication; the reason stays in our logs only.
        deps.logger.info({ reason: (err as Error).message }, 'rejected unauthenticated activity');
        trace.end('rejected');
        return { status: 401, body: errorBody('unauthorized', 'Unauthorized.') };
      }
      deps.logger.error({ err }, 'turn failed outside the bot error handler');
      trace.end('error');
      return { status: 500, body: errorBody('internal_error', 'Internal error.') };
    }
  };
}

/**
 * POST /api/messages. Validates before the SDK sees the request, then calls CloudAdapter's
 * processActivity directly: its own `process()` answers auth failures with 500 and the error text.
 */
export function createMessagesHandler(deps: MessagesRouteDeps) {
  const runTurn = createTurnRunner(deps);
  const origins = deps.origins ?? new OriginPolicy();
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Only what a channel sends: no cross-site browser request, a JSON body (http/edgeChecks.ts).
    origins.check(req);
    requireJsonContentType(req);
    const authHeader = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
    const result = await runTurn(() => readJsonBody(req, deps.maxBodyBytes), authHeader);
    sendJson(res, result.status, result.body);
  };
}
