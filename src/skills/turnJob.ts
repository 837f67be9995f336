import type { JobRequest } from '../jobs/types.js';
import type { SkillContext } from './types.js';

/** Who asked and where to answer, for a job a confirmed write starts in this turn. */
export function requestedInTurn(ctx: SkillContext): Pick<JobRequest, 'requestedBy' | 'origin'> {
  return { requestedBy: { id: ctx.actor.id, name: ctx.actor.name }, origin: ctx.origin };
}
