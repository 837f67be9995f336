import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { HELP_TEXT, WELCOME_TEXT } from '../../../src/bot/bots/replies.js';
import { formatForTeams, teamsMarkdown } from '../../../src/bot/teams/formatting.js';
import { ConnectorReceiver } from '../../../src/chat/connectorReceiver.js';
import { freshPgliteDataDir } from '../../helpers/databases.js';
import { personalChat, TeamsUser } from '../../helpers/teamsUser.js';
import { makeActivity, post, startTestApp } from '../../helpers/testApp.js';

/**
 * Teams reads message text as Markdown, where a single newline is a space: the welcome and help
 * (one "•" item per line) showed as one paragraph. Outgoing Teams messages get a Markdown list for
 * bullet runs and a paragraph per other line; other channels get the text as written.
 */

/** Lines that Markdown would join into one paragraph: a newline with text on both sides, outside a list. */
function joinedLines(markdown: string): string[] {
  const lines = markdown.split('\n');
  return lines.filter((line, i) => i > 0 && line.trim() !== '' && lines[i - 1]!.trim() !== '' && !(line.startsWith('- ') && lines[i - 1]!.startsWith('- ')));
}

describe('teamsMarkdown', () => {
  it('turns "•" lines into a Markdown list and every other line into its own paragraph', () => {
    const md = teamsMarkdown(WELCOME_TEXT);
    expect(joinedLines(md)).toEqual([]);
    expect(md.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(HELP_TEXT.split('\n').filter((l) => l.startsWith('•')).length);
    expect(md).toContain('\n\n- Procurement — "order 500 units of SKU-1002 from Acme Corp"');
    expect(md.endsWith('\n\nType "help" at any time.')).toBe(true);
    // Nothing said is lost: the same words in the same order.
    const words = (s: string) => s.replace(/^\s*(?:•|-)\s+/gm, '').split(/\s+/).filter(Boolean);
    expect(words(md)).toEqual(words(WELCOME_TEXT));
  });

  it('leaves single lines, code blocks and tables as they are; collapses blank lines', () => {
    expect(teamsMarkdown('one line')).toBe('one line');
    const code = 'Run:\n```\na\nb\n```';
    expect(teamsMarkdown(code)).toBe(code);
    expect(teamsMarkdown('Stock:\n| SKU | Qty |\n|---|---|\n| A | 1 |\nDone')).toBe('Stock:\n\n| SKU | Qty |\n|---|---|\n| A | 1 |\n\nDone');
    expect(teamsMarkdown('a\n\n\nb\r\nc')).toBe('a\n\nb\n\nc');
  });

  it('touches Teams messages only, and not plain or XML text', () => {
    const text = 'a\nb';
    const teams = { type: 'message', channelId: 'msteams', text };
    formatForTeams(teams, undefined);
    expect(teams.text).toBe('a\n\nb');
    for (const [activity, channel] of [
      [{ type: 'message', channelId: 'webchat', text }, 'webchat'],
      [{ type: 'message', text }, 'slack'],
      [{ type: 'message', channelId: 'msteams', text, textFormat: 'plain' }, 'msteams'],
      [{ type: 'message', channelId: 'msteams', text, textFormat: 'xml' }, 'msteams'],
      [{ type: 'typing', channelId: 'msteams', text }, 'msteams'],
    ] as const) {
      const copy = { ...activity };
      formatForTeams(copy, channel);
      expect(copy.text).toBe(text);
    }
  });
});

describe('Teams messages from the running bot', () => {
  let app: RunningApp;
  let dataDir: string;
  const teams = new ConnectorReceiver();

  beforeAll(async () => {
    dataDir = await freshPgliteDataDir();
    await teams.start();
    app = await startTestApp({ DATA_DIR: dataDir });
  });

  afterAll(async () => {
    await app?.close();
    await teams.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('the welcome on install and the help reply arrive as a list with paragraphs; another channel gets the text as written', async () => {
    const alice = new TeamsUser(() => app.url, teams, '29:alice-format', 'Alice', personalChat());
    const [, added] = await alice.install();
    const welcome = added!.replies[0]!.text;
    expect(welcome).toBe(teamsMarkdown(WELCOME_TEXT));
    expect(joinedLines(welcome)).toEqual([]);

    const help = await alice.say('help');
    expect(help.replies.map((r) => r.text)).toEqual([teamsMarkdown(HELP_TEXT)]);

    const elsewhere = await post(`${app.url}/api/messages`, makeActivity({ serviceUrl: teams.serviceUrl, text: 'help', deliveryMode: 'expectReplies' }));
    const replies = (elsewhere.json as { activities: { text?: string }[] }).activities;
    expect(replies.map((r) => r.text)).toEqual([HELP_TEXT]);
  });
});
