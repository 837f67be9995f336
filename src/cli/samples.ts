/**
 * Writes the sample spreadsheets (docs/samples/*.xlsx) from src/skills/excel/samples.ts:
 *   npm run samples [-- --out docs/samples]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sampleWorkbooks } from '../skills/excel/samples.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'docs/samples' } } });
const out = values.out ?? 'docs/samples';
mkdirSync(out, { recursive: true });
for (const [name, bytes] of Object.entries(await sampleWorkbooks())) {
  writeFileSync(join(out, name), bytes);
  process.stdout.write(`wrote ${join(out, name)} (${bytes.length} bytes)\n`);
}
