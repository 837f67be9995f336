import type { SkillReply } from '../skills/types.js';
import type { JobRecord } from './types.js';

/**
 * The one proactive "still working" message of a slow job: what it is doing now (its latest step
 * event), so the user who heard "On it" is not left wondering.
 */
export function stillWorkingNotice(job: JobRecord, progress: string | null): SkillReply {
  const what = job.action.split('.').pop()!.replace(/_/g, ' ');
  const subject = job.subjectId ? ` · ${job.subjectId}` : '';
  const detail = progress ? `: ${progress.replace(/[.\s]+$/, '')}` : '';
  return {
    text: `⏳ Still working on job ${job.id} (${what}${subject})${detail}. It is taking longer than usual; I'll tell you here when it's done.`,
  };
}
