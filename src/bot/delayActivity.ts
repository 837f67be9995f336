import type { Activity } from 'botbuilder';

/** The longest pause a bot's `delay` activity may ask of an adapter that sends by itself. */
const MAX_DELAY_MS = 10_000;

/**
 * Adapters that deliver without the Bot Framework connector (Slack, the web chat store) honour a
 * `delay` activity themselves, as CloudAdapter does: its value in ms (1 s when absent), at most 10 s.
 */
export function waitForDelayActivity(activity: Partial<Activity>): Promise<void> {
  const ms = Math.min(typeof activity.value === 'number' ? activity.value : 1000, MAX_DELAY_MS);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
