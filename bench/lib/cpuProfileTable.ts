/**
 * `tsx bench/lib/cpuProfileTable.ts [--skip-ms N] [--title T] main.cpuprofile [worker.cpuprofile …]`:
 * self time of a `node --cpu-prof` profile (e.g. of the server under `bench:e2e --node-arg=--cpu-prof`)
 * aggregated by package / source folder and by function, as Markdown. `--skip-ms` drops the first
 * N ms of samples (start-up, model load, warm-up). The first file is the main thread; the others
 * (inference worker threads) are summed into one line each.
 *
 * The profiler samples wall-clock time while the thread is not idle: on a loaded machine a thread
 * descheduled inside a system call (a socket write) is charged to that call, so system calls look
 * bigger than their CPU cost there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/**
 * Stages of a turn, by the source of the nearest frame on the sample's (synchronous) stack that
 * belongs to one: a socket write under the pg driver is the database's, under the HTTP client the send's.
 */
const STAGES: [string, RegExp][] = [
  ['database (pg, typeorm, src/db, state, lock)', /\/node_modules\/(pg|pg-protocol|pg-pool|typeorm)\/|\/src\/db\/|\/src\/bot\/state\//],
  ['reply send (Bot Framework connector client)', /\/node_modules\/(@typespec|@azure|botframework-connector)\//],
  ['NLU inference (dispatch, tokenizer)', /\/src\/inference\/|\/src\/nlu\/(NluPipeline|intents)|tokenizers/],
  ['NLU entities and guards', /chrono-node|\/src\/nlu\/(entities|guards|context)|recognizers-text/],
  ['HTTP in/out (restify, node http, edge checks, schema)', /\/node_modules\/restify|_http_|\/src\/bot\/http\/|\/node_modules\/zod\/|\/src\/bot\/messagesRoute/],
  ['bot, dialogs, skills (botbuilder)', /\/node_modules\/botbuilder|\/src\/bot\/(bots|dialogs|cards|teams|proactive|adapter|connectorClientCache)|\/src\/skills\//],
  ['trace (src/tracing)', /\/src\/tracing\//],
];

function moduleOf(frame: CallFrame): string {
  if (SPECIAL.has(frame.functionName)) return frame.functionName;
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const own = /\/(src|bench)\/(.*)$/.exec(url);
  if (own) return `${own[1]}/${path.dirname(own[2]!) === '.' ? own[2] : path.dirname(own[2]!)}`;
  return url;
}

/** Self time (µs) per module and per function, after `skipUs` of samples. */
function selfTimes(profile: Profile, skipUs: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stages = new Map<string, number>();
  const stageOf = (id: number): string => {
    if (byId.get(id)!.functionName === '(garbage collector)') return 'GC';
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const url = byId.get(x)!.url;
      const hit = url ? STAGES.find(([, re]) => re.test(url)) : undefined;
      if (hit) return hit[0];
    }
    return 'other (timers, event loop, start-up leftovers)';
  };
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  let t = 0;
  let idle = 0;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t < skipUs) return;
    const frame = byId.get(id)!;
    if (frame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    busy += dt;
    const stage = stageOf(id);
    stages.set(stage, (stages.get(stage) ?? 0) + dt);
    const mod = moduleOf(frame);
    modules.set(mod, (modules.get(mod) ?? 0) + dt);
    const fn = `${frame.functionName || '(anonymous)'} · ${mod}${frame.lineNumber >= 0 && !SPECIAL.has(frame.functionName) ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + dt);
  });
  return { modules, functions, stages, idle, busy };
}

const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
const ms = (us: number) => (us / 1000).toFixed(0);
const pct = (us: number, of: number) => ((100 * us) / of).toFixed(1);

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'skip-ms': { type: 'string', default: '0' }, title: { type: 'string', default: 'CPU profile' }, top: { type: 'string', default: '25' } } });
const skipUs = Number(values['skip-ms']) * 1000;
const n = Number(values.top);
const [main, ...workers] = positionals;
if (!main) throw new Error('usage: cpuProfileTable.ts [--skip-ms N] main.cpuprofile [worker.cpuprofile …]');
const m = selfTimes(JSON.parse(readFileSync(main, 'utf8')) as Profile, skipUs);
const out: string[] = [`## ${values.title}`, '', `Main thread after the first ${values['skip-ms']} ms: busy ${ms(m.busy)} ms, idle ${ms(m.idle)} ms.`];
for (const w of workers) {
  const s = selfTimes(JSON.parse(readFileSync(w, 'utf8')) as Profile, skipUs);
  out.push(`Worker thread ${path.basename(w)}: busy ${ms(s.busy)} ms (${top(s.modules, 3).map(([k, v]) => `${k} ${ms(v)}`).join(', ')}).`);
}
out.push('', '| stage (nearest frame on the stack) | ms | % of main-thread busy |', '|---|---:|---:|');
for (const [k, v] of top(m.stages, n)) out.push(`| ${k} | ${ms(v)} | ${pct(v, m.busy)} |`);
out.push('', '| self time by package / folder | ms | % of main-thread busy |', '|---|---:|---:|');
for (const [k, v] of top(m.modules, n)) out.push(`| ${k} | ${ms(v)} | ${pct(v, m.busy)} |`);
out.push('', '| self time by function | ms | % of main-thread busy |', '|---|---:|---:|');
for (const [k, v] of top(m.functions, n)) out.push(`| ${k.replace(/\|/g, '\\|')} | ${ms(v)} | ${pct(v, m.busy)} |`);
process.stdout.write(`${out.join('\n')}\n`);
