import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { renderActivity } from '../../../src/chat/renderActivity.js';
import { startTestApp } from '../../helpers/testApp.js';

function runChat(url: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/chat.ts', '--url', url, '--wait', '300'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('npm run chat (terminal channel)', () => {
  let app: RunningApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rpa-chat-'));
    app = await startTestApp({ DATA_DIR: dataDir });
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('joins, sends each line and prints the replies that arrive on its serviceUrl', async () => {
    const { code, stdout } = await runChat(app.url, 'hello\nhelp\n');
    expect(code).toBe(0);
    // The welcome (conversationUpdate) and one reply per line, in order.
    const botLines = stdout.split('\n').filter((l) => l.startsWith('bot> '));
    expect(botLines[0]).toMatch(/^bot> Hello! I'm the operations assistant/);
    expect(botLines).toHaveLength(3);
    expect(stdout.indexOf('you> hello')).toBeLessThan(stdout.indexOf('you> help'));
  }, 60_000);

  it('says clearly when the server is not reachable', async () => {
    const { code, stderr } = await runChat('http://127.0.0.1:9', 'hi\n');
    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot reach the assistant at http:\/\/127\.0\.0\.1:9/);
  }, 60_000);
});

describe('renderActivity', () => {
  it('turns an Adaptive Card into lines and numbered choices', () => {
    const { lines, choices } = renderActivity({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          content: {
            type: 'AdaptiveCard',
            body: [
              { type: 'TextBlock', text: 'Create purchase order?' },
              { type: 'FactSet', facts: [{ title: 'Supplier', value: 'Acme Corp' }] },
            ],
            actions: [
              { type: 'Action.Submit', title: 'Confirm', data: { verb: 'confirm', nonce: 'n1' } },
              { type: 'Action.Submit', title: 'Cancel', data: { verb: 'cancel', nonce: 'n1' } },
              { type: 'Action.OpenUrl', title: 'Open', url: 'http://127.0.0.1/x' },
            ],
          },
        },
      ],
    });
    expect(lines).toEqual(['Create purchase order?', '  Supplier: Acme Corp', '  Open: http://127.0.0.1/x']);
    expect(choices).toEqual([
      { title: 'Confirm', value: { verb: 'confirm', nonce: 'n1' } },
      { title: 'Cancel', value: { verb: 'cancel', nonce: 'n1' } },
    ]);
  });

  it('offers suggested actions as text choices and ignores typing indicators', () => {
    expect(renderActivity({ type: 'typing' })).toEqual({ lines: [], choices: [] });
    const { choices } = renderActivity({
      type: 'message',
      text: 'Confirm?',
      suggestedActions: { actions: [{ type: 'imBack', title: 'Yes', value: 'yes' }] },
    });
    expect(choices).toEqual([{ title: 'Yes', text: 'yes' }]);
  });
});
