/**
 * How Slack places map onto Bot Framework conversations.
 *
 * A conversation id is the Slack channel id, plus `:{thread_ts}` when the conversation is a
 * thread: a top-level DM is `D0123`, a mention in a channel starts (or continues) a thread and is
 * `C0123:1700000000.000100`. Everything the bot sends to a conversation goes to that channel and
 * thread, so replies stay in the thread the user wrote in, and dialog state is per thread.
 */
export const SLACK_CHANNEL_ID = 'slack';

export interface SlackPlace {
  channel: string;
  threadTs?: string;
}

const CHANNEL = /^[A-Z0-9]{2,64}$/;
const TS = /^\d{1,12}\.\d{1,9}$/;

export function slackConversationId(channel: string, threadTs?: string): string {
  return threadTs ? `${channel}:${threadTs}` : channel;
}

export function parseSlackConversationId(id: string | undefined): SlackPlace {
  const [channel, threadTs, extra] = (id ?? '').split(':');
  if (!channel || !CHANNEL.test(channel) || extra !== undefined || (threadTs !== undefined && !TS.test(threadTs))) {
    throw new Error(`not a Slack conversation id: ${JSON.stringify(id)}`);
  }
  return threadTs ? { channel, threadTs } : { channel };
}

/** A DM channel (D…): no mention needed, replies top-level. */
export const isDirectChannel = (channel: string): boolean => channel.startsWith('D');

/** Looks like a Slack user id (U… or W… for Enterprise Grid). */
export const isSlackUserId = (id: string): boolean => /^[UW][A-Z0-9]{2,}$/.test(id);

/**
 * Slack message text → what the NLU reads: our own mention removed, other mentions and links
 * reduced to their labels, the three escaped characters decoded
 * (https://api.slack.com/reference/surfaces/formatting#escaping).
 */
export function slackTextToPlain(text: string, botUserId: string | undefined): string {
  let out = text;
  if (botUserId) out = out.replace(new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, 'g'), ' ');
  out = out
    .replace(/<#[A-Z0-9]+\|([^>]*)>/g, '#$1')
    .replace(/<@([UW][A-Z0-9]+)(?:\|([^>]*))?>/g, (_m, id: string, label?: string) => `@${label || id}`)
    .replace(/<!(here|channel|everyone)(?:\|[^>]*)?>/g, '@$1')
    .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/g, (_m, label?: string) => label ?? '@group')
    .replace(/<((?:https?|mailto):[^|>]+)\|([^>]+)>/g, '$2')
    .replace(/<((?:https?|mailto):[^>]+)>/g, '$1')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
  return out.replace(/[ \t]+/g, ' ').replace(/ ([,.;:!?])/g, '$1').replace(/ *\n */g, '\n').trim();
}
