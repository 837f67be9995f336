import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../../src/app.js';
import { startTestApp } from '../../helpers/testApp.js';

/** Runs `npm run chat` in a real pseudo-terminal (util-linux `script`) and types into it. */
function chatInPty(url: string) {
  const command = `${process.execPath} --import tsx src/cli/chat.ts --url ${url}`;
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, TERM: 'xterm' },
  });
  let screen = '';
  child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
  const waitFor = async (pattern: RegExp, from = 0): Promise<number> => {
    for (let i = 0; i < 600; i++) {
      const m = pattern.exec(screen.slice(from));
      if (m) return from + m.index + m[0].length;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${pattern} in:\n${screen}`);
  };
  const type = (keys: string) => child.stdin.write(keys);
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { waitFor, type, closed, screen: () => screen, child };
}

describe('npm run chat on a real terminal', () => {
  let app: RunningApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rpa-chat-tty-'));
    app = await startTestApp({ DATA_DIR: dataDir });
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the you> prompt, echoes what is typed, answers, and keeps a history', async () => {
    const tty = chatInPty(app.url);
    try {
      let at = await tty.waitFor(/you> /);
      tty.type('help\r');
      // The typed text is echoed after the prompt, then the reply comes, then the prompt again.
      at = await tty.waitFor(/help/, at);
      at = await tty.waitFor(/bot> /, at);
      at = await tty.waitFor(/you> /, at);
      // Arrow up recalls the last line (readline history); Enter sends it again.
      tty.type('\x1b[A');
      at = await tty.waitFor(/help/, at);
      tty.type('\r');
      at = await tty.waitFor(/bot> /, at);
      await tty.waitFor(/you> /, at);
      tty.type('/quit\r');
      expect(await tty.closed).toBe(0);
    } finally {
      tty.child.kill('SIGKILL');
    }
  }, 60_000);
});
