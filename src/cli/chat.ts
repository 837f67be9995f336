/**
 * Terminal chat: a minimal Bot Framework channel. It POSTs activities to the server's
 * /api/messages and listens on its own loopback serviceUrl, so replies sent later
 * (proactive notifications) are printed as they arrive.
 *   npm run chat -- [--url http://127.0.0.1:3978] [--user alice] [--name Alice] [--downloads ./downloads]
 * A message with the path of a spreadsheet in it ("import ./orders.xlsx") is sent with that file
 * attached; files the bot sends (exports) are saved into --downloads and their path printed.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConnectorReceiver, type WireActivity } from '../chat/connectorReceiver.js';
import { renderActivity, type Choice } from '../chat/renderActivity.js';
import { downloadableFiles, findFileInLine, saveReceivedFile } from '../chat/fileMessages.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3978' },
    user: { type: 'string', default: 'local-user' },
    name: { type: 'string', default: 'Local User' },
    wait: { type: 'string', default: '1500' },
    downloads: { type: 'string', default: 'downloads' },
  },
});
const serverUrl = (values.url ?? 'http://127.0.0.1:3978').replace(/\/$/, '');
const user = { id: values.user ?? 'local-user', name: values.name ?? 'Local User' };
const bot = { id: 'rpa-assistant', name: 'RPA Assistant' };
const conversation = { id: `chat-${randomUUID()}` };
const interactive = process.stdin.isTTY === true;
let choices: Choice[] = [];
/** The activity whose buttons `choices` are: a click names it, so the bot can replace that card. */
let choicesOf: string | undefined;
/** Set once the prompt is up on a terminal: replies that arrive later are drawn above it. */
let prompt: Interface | undefined;

const receiver = new ConnectorReceiver();
receiver.onActivity(({ method, activity }) => {
  print(activity, method === 'PUT');
  for (const file of downloadableFiles(activity.attachments)) saving.push(save(file));
});

/** Downloads in flight (awaited before exiting). */
const saving: Promise<void>[] = [];
async function save(file: { name: string; url: string }): Promise<void> {
  try {
    const path = await saveReceivedFile(file.url, file.name, values.downloads ?? 'downloads');
    process.stdout.write(`     saved ${file.name} to ${path}\n`);
  } catch (err) {
    process.stdout.write(`! could not save ${file.name}: ${(err as Error).message}\n`);
  }
}

function print(activity: WireActivity, updated: boolean): void {
  const rendered = renderActivity(activity);
  if (rendered.lines.length === 0 && rendered.choices.length === 0) return;
  const prefix = updated ? 'bot (updated)> ' : 'bot> ';
  // On a terminal a reply can arrive while the user is typing: clear the prompt line, print, redraw it.
  if (prompt) {
    clearLine(process.stdout, 0);
    cursorTo(process.stdout, 0);
  }
  process.stdout.write(rendered.lines.map((l, i) => (i === 0 ? prefix : '     ') + l).join('\n') + '\n');
  if (rendered.choices.length > 0) {
    choices = rendered.choices;
    choicesOf = activity.id;
    choices.forEach((c, i) => process.stdout.write(`     [${i + 1}] ${c.title}\n`));
  }
  prompt?.prompt(true);
}

async function send(partial: Partial<WireActivity>): Promise<void> {
  const activity = {
    type: 'message',
    id: randomUUID(),
    channelId: 'terminal',
    serviceUrl: receiver.serviceUrl,
    conversation,
    from: user,
    recipient: bot,
    timestamp: new Date().toISOString(),
    locale: 'en-US',
    ...partial,
  };
  const response = await fetch(`${serverUrl}/api/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(activity),
  });
  if (!response.ok) {
    process.stdout.write(`! server answered ${response.status}: ${await response.text()}\n`);
  }
}

/** A number picks one of the last buttons; anything else is sent as text. */
function toActivity(line: string): Partial<WireActivity> {
  const n = Number(line);
  const choice = Number.isInteger(n) ? choices[n - 1] : undefined;
  if (!choice) return withFile(line);
  if (choice.text !== undefined) return { text: choice.text };
  return { text: '', value: choice.value, ...(choicesOf ? { replyToId: choicesOf } : {}) };
}

/** A path to a spreadsheet in the message: the file goes as an attachment, the rest as the text. */
function withFile(line: string): Partial<WireActivity> {
  const found = findFileInLine(line);
  if (!found) return { text: line };
  const url = receiver.sharedFiles.add(readFileSync(found.path), found.contentType);
  const attachment = { contentType: found.contentType, name: found.name, contentUrl: url };
  return { text: found.rest, attachments: [attachment] };
}

async function main(): Promise<void> {
  await receiver.start();
  try {
    await send({ type: 'conversationUpdate', membersAdded: [user], text: undefined });
  } catch (err) {
    process.stderr.write(`Cannot reach the assistant at ${serverUrl} (${(err as Error).message}). Is \`npm start\` running?\n`);
    await receiver.stop();
    process.exit(1);
  }
  // With `output` on a terminal, readline echoes, edits the line and keeps a history (↑/↓).
  const rl = interactive
    ? createInterface({ input: process.stdin, output: process.stdout, terminal: true, historySize: 200, prompt: 'you> ' })
    : createInterface({ input: process.stdin, terminal: false });
  if (interactive) {
    process.stdout.write(`Connected to ${serverUrl} as ${user.name}. Type a message, a number to pick a button, or /quit.\n`);
    prompt = rl;
    rl.prompt();
  }
  for await (const raw of rl) {
    const line = raw.trim();
    // While a line is being sent its replies print plainly; the prompt comes back after them.
    prompt = undefined;
    if (line === '/quit' || line === '/exit') break;
    if (line) {
      if (!interactive) process.stdout.write(`you> ${line}\n`);
      try {
        await send(toActivity(line));
      } catch (err) {
        process.stdout.write(`! could not send: ${(err as Error).message}\n`);
      }
    }
    if (interactive) {
      prompt = rl;
      rl.prompt();
    }
  }
  // Piped input: stay a little longer for replies that arrive after the turn (proactive ones).
  if (!interactive) await new Promise((r) => setTimeout(r, Number(values.wait)));
  await Promise.all(saving);
  await receiver.stop();
  process.exit(0);
}

void main();
