import { TurnContext, type Activity, type ChannelAccount } from 'botbuilder';

/** Microsoft Teams' channel id in Bot Framework activities. */
export const TEAMS_CHANNEL_ID = 'msteams';

export const isTeams = (activity: Partial<Activity>): boolean => activity.channelId === TEAMS_CHANNEL_ID;

/** A Teams channel (or a thread in one) or a group chat: places where others read along. */
export function isSharedConversation(activity: Partial<Activity>): boolean {
  const type = activity.conversation?.conversationType;
  if (type === 'channel' || type === 'groupChat') return true;
  return type === undefined && activity.conversation?.isGroup === true;
}

interface MentionEntity {
  type: string;
  mentioned: { id: string; name?: string };
  text?: string;
}

/** The message's well-formed `mention` entities of the bot (a malformed entity is ignored, never thrown on). */
export function botMentions(activity: Partial<Activity>): MentionEntity[] {
  const botId = activity.recipient?.id;
  if (!botId || !Array.isArray(activity.entities)) return [];
  return activity.entities.filter((e): e is MentionEntity => {
    const m = e as Partial<MentionEntity> | null;
    return typeof m?.type === 'string' && m.type.toLowerCase() === 'mention' && typeof m.mentioned?.id === 'string' && m.mentioned.id === botId;
  });
}

/** Is the bot (the activity's recipient) @mentioned in the message? */
export const mentionsRecipient = (activity: Partial<Activity>): boolean => botMentions(activity).length > 0;

/** A card button click (`Action.Submit` posts a message whose `value` is the button's data). */
export function isCardClick(activity: Partial<Activity>): boolean {
  return typeof activity.value === 'object' && activity.value !== null;
}

/**
 * Whether the bot should answer a Teams message. In channels and group chats it answers only
 * when @mentioned (a card click needs no mention: it is an answer to the bot's own card); in a
 * personal chat it answers everything.
 */
export function addressedToBot(activity: Partial<Activity>): boolean {
  if (!isSharedConversation(activity) || isCardClick(activity)) return true;
  return mentionsRecipient(activity);
}

/**
 * Removes the bot's `<at>Bot</at>` mention from the text (what NLU should read), in place, with
 * the SDK's `TurnContext.removeMentionText` (given only well-formed entities: it throws on others),
 * then any repeat of it and what Teams leaves around it (non-breaking spaces, a leading comma).
 */
export function stripBotMention(activity: Partial<Activity>): void {
  const botId = activity.recipient?.id;
  const mentions = botMentions(activity).filter((m) => typeof m.text === 'string' && m.text.length > 0);
  if (!activity.text || !botId || mentions.length === 0) return;
  let text = TurnContext.removeMentionText({ text: activity.text, entities: mentions } as unknown as Activity, botId) ?? '';
  for (const m of mentions) text = text.split(m.text as string).join(' ');
  activity.text = text
    .replace(/\u00a0/g, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/^[\s,:;-]+/, '')
    .trim();
}

/**
 * Who gets the welcome text when a conversationUpdate adds members. In Teams the bot introduces
 * itself once, when it is added (installed in a personal chat, added to a team or group chat), and
 * says nothing when people join a team it is already in; elsewhere every new member is welcomed.
 */
export function membersToWelcome(activity: Partial<Activity>): ChannelAccount[] {
  const botId = activity.recipient?.id;
  const added = activity.membersAdded ?? [];
  if (isTeams(activity)) return added.some((m) => m.id === botId) && activity.from ? [activity.from] : [];
  return added.filter((m) => m.id !== botId);
}

/** The bot itself was removed (uninstalled, taken out of a team or chat): stop sending there. */
export function botWasRemoved(activity: Partial<Activity>): boolean {
  if (activity.type === 'installationUpdate') return activity.action === 'remove';
  const botId = activity.recipient?.id;
  return activity.type === 'conversationUpdate' && (activity.membersRemoved ?? []).some((m) => m.id === botId);
}
