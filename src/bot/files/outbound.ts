import type { Activity, TurnContext } from 'botbuilder';
import type { SkillFile } from '../../skills/types.js';
import { supportsCards } from '../cards/adaptiveCard.js';
import type { FileLinks } from './links.js';

/**
 * A reply's file (an export) on its way out:
 * - native Slack: the bytes ride along as an attachment, and the Slack adapter uploads them into
 *   the conversation with files.uploadV2;
 * - every Bot Framework channel (Teams, Web Chat, the terminal chat, the Emulator): a short-lived
 *   link on this server (see links.ts for why), in the text everywhere, and also as a file
 *   attachment (`contentUrl`) where the client shows one as a download (Web Chat, terminal).
 *   Teams gets the link only: it accepts file attachments from bots only through file consent.
 */

const FILE_LINKS = Symbol('rpa.fileLinks');

/** Makes the link store available to this turn's replies (set by the bot at the start of a turn). */
export function useFileLinks(context: TurnContext, links: FileLinks): void {
  context.turnState.set(FILE_LINKS, links);
}

function isNativeSlack(context: TurnContext): boolean {
  return context.activity.channelId === 'slack' && supportsCards('slack', context.activity.serviceUrl);
}

export async function attachFile(context: TurnContext, activity: Partial<Activity>, file: SkillFile): Promise<void> {
  if (isNativeSlack(context)) {
    activity.attachments = [...(activity.attachments ?? []), { contentType: file.contentType, name: file.name, content: file.bytes }];
    return;
  }
  const links = context.turnState.get(FILE_LINKS) as FileLinks | undefined;
  if (!links) {
    activity.text = `${activity.text ?? ''}\n(I couldn't attach ${file.name} in this conversation.)`.trim();
    return;
  }
  const link = await links.create(file, context.activity.conversation?.id);
  const minutes = Math.round(links.ttlMs / 60_000);
  activity.text = `${activity.text ?? ''}\nDownload ${file.name}: ${link.url} (the link works for ${minutes} minutes)`.trim();
  if (context.activity.channelId !== 'msteams') {
    activity.attachments = [...(activity.attachments ?? []), { contentType: file.contentType, name: file.name, contentUrl: link.url }];
  }
}
