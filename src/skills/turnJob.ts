import type { JobRequest } from '../jobs/types.js';
import type { SkillContext } from './types.js';

/** Who asked and where to answer, for a job a confirmed write starts in this turn. */
export function requestedInTurn(ctx: SkillContext): Pick<JobRequest, 'requestedBy' | 'origin'> {
  return { requestedBy: { id: ctx.actor.id, name: ctx.actor.name }, origin: ctx.origin };
}

/**
 * Who asked and where, kept (as JSON) for a job that starts later than the turn — e.g. the cancel
 * of an order whose send is still in flight starts once the send has its outcome.
 */
export interface DeferredRequester {
  by: string;
  byName: string | null;
  channelId: string;
  conversationId: string;
  activityId: string | null;
}

export function deferredRequester(ctx: SkillContext): DeferredRequester {
  return {
    by: ctx.actor.id,
    byName: ctx.actor.name ?? null,
    channelId: ctx.origin.channelId,
    conversationId: ctx.origin.conversationId,
    activityId: ctx.origin.activityId ?? null,
  };
}

/** The `requestedBy`/`origin` of a job started later for a `DeferredRequester`. */
export function requestedLater(r: DeferredRequester): Pick<JobRequest, 'requestedBy' | 'origin'> {
  return {
    requestedBy: { id: r.by, name: r.byName ?? undefined },
    origin: { channelId: r.channelId, conversationId: r.conversationId, activityId: r.activityId ?? undefined },
  };
}
