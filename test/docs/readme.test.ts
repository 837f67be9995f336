/**
 * The README and docs/ stay honest: the quick-start transcript is replayed against the demo data
 * with the real model and the terminal chat, and every relative link in them points at a file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { loadNlu, type NluPipeline } from '../../src/nlu/NluPipeline.js';
import { startTestApp } from '../helpers/testApp.js';

const README = readFileSync('README.md', 'utf8');

/** The ```text block after the quick-start marker. */
function quickStartTranscript(): string[] {
  const start = README.indexOf('<!-- quick-start transcript');
  const open = README.indexOf('```text\n', start);
  const close = README.indexOf('\n```', open + 8);
  expect(start, 'quick-start transcript marker').toBeGreaterThan(0);
  return README.slice(open + 8, close).split('\n');
}

function runChat(url: string, input: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/chat.ts', '--url', url, '--user', 'dana', '--name', 'Dana', '--wait', '8000'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolvePromise(stdout));
    child.stdin.end(input);
  });
}

describe('README quick start', () => {
  let app: RunningApp;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rpa-readme-'));
    // The shipped model and the embedded database with its demo data, as `npm start` has them.
    app = await startTestApp({ DATA_DIR: dataDir }, {}, { recognizer: undefined });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the transcript happens as written on the demo data', async () => {
    const lines = quickStartTranscript();
    const typed = lines.filter((l) => l.startsWith('you> ')).map((l) => l.slice(5));
    expect(typed.length).toBeGreaterThan(2);
    const out = (await runChat(app.url, typed.join('\n') + '\n')).split('\n');
    // Every bot line and button of the README is the start of a line of the real output, in the
    // README's order; the last line is the proactive notification, which may come at any point after "yes".
    const expected = lines.filter((l) => l.startsWith('bot> ') || l.trimStart().startsWith('['));
    const proactive = expected.pop()!;
    let at = 0;
    for (const line of expected) {
      const found = out.findIndex((o, i) => i >= at && o.startsWith(line));
      expect(found, `"${line}" in order in:\n${out.join('\n')}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
    expect(out.some((o) => o.startsWith(proactive)), `"${proactive}" in:\n${out.join('\n')}`).toBe(true);
  }, 120_000);
});

describe('README "What it can do" examples', () => {
  const SKILL_PREFIX: Record<string, string> = {
    Procurement: 'procurement.',
    Customs: 'customs.',
    Storage: 'storage.',
    Automations: 'automation.',
  };
  const rows = README.split('\n').filter((l) => /^\| (Procurement|Customs|Storage|Automations) \|/.test(l));
  const examples = rows.flatMap((row) => {
    const skill = /^\| (\w+)/.exec(row)![1]!;
    return [...row.matchAll(/"([^"]+)"/g)].map((m) => [skill, m[1]!] as const);
  });
  let nlu: NluPipeline;
  beforeAll(async () => {
    nlu = await loadNlu('models/intent-gpt2');
  });
  afterAll(async () => {
    await nlu?.close();
  });

  it('lists examples for every skill', () => {
    expect(new Set(examples.map(([skill]) => skill))).toEqual(new Set(Object.keys(SKILL_PREFIX)));
  });

  it.each(examples)('%s: "%s" is understood as that skill', async (skill, text) => {
    const [result] = await nlu.recognizeBatch([text]);
    expect(result!.intent.startsWith(SKILL_PREFIX[skill]!), `${text} → ${result!.intent}`).toBe(true);
  });
});

describe('links in README.md and docs/', () => {
  const files = ['README.md', ...listMarkdown('docs')];
  it.each(files)('%s: every relative link points at a file', (file) => {
    const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
    const broken: string[] = [];
    for (const [, target = ''] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
      const path = resolve(dirname(file), decodeURI(target.split('#')[0] ?? ''));
      if (!existsSync(path)) broken.push(target);
    }
    expect(broken).toEqual([]);
  });
});

function listMarkdown(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'notes' ? [] : listMarkdown(path);
    return name.endsWith('.md') ? [path] : [];
  });
}
