import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AuthenticationError } from 'botframework-connector';
import type { Activity, ActivityHandler } from 'botbuilder';
import type { AssistantAdapter } from './adapter.js';
import type { Logger } from '../logger.js';
import { runWithTrace, type TurnIds, type TurnTrace } from '../tracing/turnTrace.js';
import { HttpError } from './http/httpErrors.js';
import { parseActivity } from './http/activitySchema.js';
import { readJsonBody } from './http/readJsonBody.js';
import { sendError, sendJson } from './http/respond.js';
import type { ServiceUrlPolicy } from './http/serviceUrlPolicy.js';

export interface TurnTracer {
  startTurn(ids: TurnIds): TurnTrace;
}

export interface MessagesRouteDeps {
  adapter: AssistantAdapter;
  bot: ActivityHandler;
  tracer: TurnTracer;
  logger: Logger;
  maxBodyBytes: number;
  /** Set when auth is off: replies may only go to allow-listed serviceUrl hosts. */
  serviceUrlPolicy?: ServiceUrlPolicy;
}

/**
 * POST /api/messages. Validates before the SDK sees the request, then calls CloudAdapter's
 * processActivity directly: its own `process()` answers auth failures with 500 and the error text.
 */
export function createMessagesHandler(deps: MessagesRouteDeps) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const trace = deps.tracer.startTurn({});
    const receiveStart = performance.now();
    let activity;
    try {
      activity = parseActivity(await readJsonBody(req, deps.maxBodyBytes));
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
      sendError(res, httpError.status, httpError.code, httpError.publicMessage);
      return;
    }
    trace.record('receive', performance.now() - receiveStart);

    const authHeader = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
    let logicStarted = false;
    try {
      const invokeResponse = await runWithTrace(trace, () =>
        deps.adapter.processInbound(authHeader, activity as unknown as Activity, async (context) => {
          logicStarted = true;
          await deps.bot.run(context);
        }),
      );
      trace.end();
      sendJson(res, invokeResponse?.status ?? 200, invokeResponse?.body);
    } catch (err) {
      trace.fail(err);
      if (err instanceof AuthenticationError || !logicStarted) {
        // Everything before the bot logic is authentication; the reason stays in our logs only.
        deps.logger.info({ reason: (err as Error).message }, 'rejected unauthenticated activity');
        trace.end('rejected');
        sendError(res, 401, 'unauthorized', 'Unauthorized.');
      } else {
        deps.logger.error({ err }, 'turn failed outside the bot error handler');
        trace.end('error');
        sendError(res, 500, 'internal_error', 'Internal error.');
      }
    }
  };
}
