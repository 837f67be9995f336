// Entry of inference worker threads. Node cannot start a worker on a .ts file by itself (even
// under `tsx`, whose loader the worker inherits through execArgv, the entry's extension is
// refused), and vitest does not transform worker threads: this plain ESM file registers tsx's
// loader in the worker and then imports worker.ts. A compiled build (worker.js next to this file)
// is imported directly.
import { existsSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const ts = new URL('./worker.ts', import.meta.url);
if (existsSync(fileURLToPath(ts))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(ts.href);
} else {
  await import(new URL('./worker.js', import.meta.url).href);
}
