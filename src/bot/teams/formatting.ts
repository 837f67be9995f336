import type { Activity, MiddlewareHandler, TurnContext } from 'botbuilder';

/**
 * Outgoing text for Microsoft Teams. The bot writes one item per line ("•" bullets, as in the
 * welcome and help), but Teams reads message text as Markdown, where a single newline is a space:
 * the whole help became one paragraph. Here, for channel `msteams` only, bullet runs become a
 * Markdown list and every other line its own paragraph. Text with a code block, or sent as plain
 * text or XML, is left alone.
 */

const BULLET = /^\s*(?:[•▪◦‣∙]|[-*+])\s+(.*)$/;
/** Lines kept together as they are (a table, a list the bot already wrote as Markdown). */
const TABLE_ROW = /^\s*\|/;

export function teamsMarkdown(text: string): string {
  if (!text.includes('\n') || text.includes('```')) return text;
  const blocks: string[] = [];
  let run: string[] = [];
  const flush = () => {
    if (run.length > 0) blocks.push(run.join('\n'));
    run = [];
  };
  let runKind: 'list' | 'table' | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const item = BULLET.exec(line);
    const kind = item ? 'list' : TABLE_ROW.test(line) ? 'table' : undefined;
    if (kind !== runKind) flush();
    runKind = kind;
    if (item) run.push(`- ${item[1]}`);
    else if (kind === 'table') run.push(line);
    else if (line.trim() !== '') blocks.push(line);
  }
  flush();
  return blocks.join('\n\n');
}

/** Rewrites a Teams message's text in place (other channels and activity types untouched). */
export function formatForTeams(activity: Partial<Activity>, channelId: string | undefined): void {
  if ((activity.channelId ?? channelId) !== 'msteams') return;
  if (activity.type !== undefined && activity.type !== 'message') return;
  if (typeof activity.text !== 'string' || activity.textFormat === 'plain' || activity.textFormat === 'xml') return;
  activity.text = teamsMarkdown(activity.text);
}

/** Adapter middleware: formats every message the bot sends or updates in a Teams conversation. */
export const teamsFormatting: MiddlewareHandler = async (context: TurnContext, next) => {
  const channelId = context.activity.channelId;
  context.onSendActivities(async (_ctx, activities, sendNext) => {
    for (const activity of activities) formatForTeams(activity, channelId);
    return sendNext();
  });
  context.onUpdateActivity(async (_ctx, activity, updateNext) => {
    formatForTeams(activity, channelId);
    return updateNext();
  });
  await next();
};
