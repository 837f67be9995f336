/**
 * docs/configuration.md and .env.example stay complete and current: every variable of the env
 * schema (src/config/config.ts) and the one read elsewhere (LOG_FORMAT, src/logger.ts) has a row in
 * the docs' tables and a line in .env.example, and neither names a variable the app does not read.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_KEYS } from '../../src/config/config.js';

/** Read outside the config schema. */
const OTHER_KEYS = ['LOG_FORMAT'];
const ALL = [...ENV_KEYS, ...OTHER_KEYS];

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** Variables named in the first column of the docs' tables (`A`, `B` … in one cell). */
function documentedInTables(markdown: string): Set<string> {
  const names = new Set<string>();
  for (const line of markdown.split('\n')) {
    const cell = /^\|([^|]+)\|/.exec(line)?.[1];
    if (!cell) continue;
    for (const m of cell.matchAll(/`([A-Za-z][A-Za-z0-9_]*)`/g)) names.add(m[1]!);
  }
  return names;
}

describe('configuration docs', () => {
  it('docs/configuration.md has a table row for every variable the app reads', () => {
    const documented = documentedInTables(read('docs/configuration.md'));
    expect(ALL.filter((key) => !documented.has(key))).toEqual([]);
  });

  it('docs/configuration.md names no variable the app does not read', () => {
    const documented = [...documentedInTables(read('docs/configuration.md'))].filter((n) => (/^[A-Z][A-Za-z0-9_]+$/.test(n) && n.includes('_')) || n.startsWith('Microsoft'));
    expect(documented.filter((name) => !ALL.includes(name))).toEqual([]);
  });

  it('.env.example has a line for every variable, and none the app does not read', () => {
    const example = read('.env.example');
    const lines = new Set([...example.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!));
    expect(ALL.filter((key) => !lines.has(key))).toEqual([]);
    expect([...lines].filter((key) => !ALL.includes(key))).toEqual([]);
  });
});
