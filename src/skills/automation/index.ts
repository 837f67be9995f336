import { z } from 'zod';
import { listEvents, listJobs } from '../../jobs/store.js';
import { ACTIVE_STATUSES, type JobRecord, type JobStatus } from '../../jobs/types.js';
import { ago, statusLabel } from '../format.js';
import type { ReadAction, Skill, SkillReply } from '../types.js';

/** Answers "what's still running?" for the jobs of every skill. */

export const listJobsSchema = z.object({
  scope: z.enum(['mine', 'all']).describe('Only my jobs, or everyone’s'),
  state: z.enum(['active', 'failed', 'any']).describe('Still running, failed (incl. dead-lettered), or any'),
});
export type ListJobsSlots = z.infer<typeof listJobsSchema>;

const FAILED: readonly JobStatus[] = ['failed', 'dead_letter'];

function actionLabel(job: JobRecord): string {
  const [, verb] = job.action.split('.');
  return (verb ?? job.action).replace(/_/g, ' ');
}

export function listJobsAction(): ReadAction<ListJobsSlots> {
  return {
    kind: 'read',
    name: 'automation.list_jobs',
    description: 'List automation jobs (any skill): mine or everyone’s, still running, failed, or all; with their latest event.',
    schema: listJobsSchema,
    help: 'Ask "what\'s still running?", "my failed jobs" or "all jobs".',
    extract(input, draft) {
      const d = { ...draft };
      if (/\b(running|still|in progress|pending|active|queued|waiting|open)\b/i.test(input.text)) d.state = 'active';
      if (/\b(fail(?:ed|ures?)?|errors?|dead|stuck)\b/i.test(input.text)) d.state = 'failed';
      if (/\b(all|every(?:one|body)'?s?|team|everybody)\b/i.test(input.text)) d.scope = 'all';
      if (/\b(my|mine)\b/i.test(input.text)) d.scope = 'mine';
      return d;
    },
    async check(draft) {
      const slots = listJobsSchema.parse({
        scope: draft.scope === 'all' ? 'all' : 'mine',
        state: draft.state === 'active' || draft.state === 'failed' ? draft.state : 'any',
      });
      return { status: 'ready', slots };
    },
    async answer(slots, ctx): Promise<SkillReply> {
      const jobs = await listJobs(ctx.env.db, {
        requestedBy: slots.scope === 'mine' ? ctx.actor.id : undefined,
        statuses: slots.state === 'active' ? ACTIVE_STATUSES : slots.state === 'failed' ? FAILED : undefined,
        limit: 10,
      });
      const jobWord = jobs.length === 1 ? 'job' : 'jobs';
      const what = `${slots.state === 'active' ? 'running ' : slots.state === 'failed' ? 'failed ' : ''}automation ${jobWord}${slots.scope === 'mine' ? ' of yours' : ''}`;
      if (jobs.length === 0) {
        return {
          text: slots.state === 'active' ? `Nothing is running${slots.scope === 'mine' ? ' for you' : ''} right now.` : `No ${what.replace(/ job /, ' jobs ')} yet.`,
        };
      }
      const now = ctx.env.now();
      const rows = [];
      for (const job of jobs) {
        const last = (await listEvents(ctx.env.db, job.id)).filter((e) => e.kind !== 'notified' && e.kind !== 'not_notified').pop();
        rows.push({ job, last: last?.message ?? '' });
      }
      const header = `${jobs.length === 10 ? 'The 10 most recent' : jobs.length} ${what}:`;
      const lines = rows.map(
        ({ job, last }) =>
          `• job ${job.id} · ${actionLabel(job)}${job.subjectId ? ` ${job.subjectId}` : ''} · ${statusLabel(job.status)} · ${ago(job.updatedAt, now)}${last ? ` — ${last}` : ''}`,
      );
      return {
        text: [header, ...lines].join('\n'),
        cardText: header,
        card: {
          title: 'Automation jobs',
          table: {
            columns: ['Job', 'Action', 'Subject', 'Status', 'Updated', 'Latest'],
            rows: rows.map(({ job, last }) => [
              String(job.id),
              actionLabel(job),
              job.subjectId ?? '—',
              statusLabel(job.status),
              ago(job.updatedAt, now),
              last,
            ]),
          },
        },
      };
    },
  };
}

export function automationSkill(): Skill {
  return {
    name: 'automation',
    intents: { 'automation.list_jobs': 'automation.list_jobs' },
    actions: [listJobsAction()],
    jobHandlers: [],
  };
}
