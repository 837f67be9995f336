import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';

/** Files in the terminal chat: a path in a message is sent as an attachment; files the bot sends are saved. */

const SPREADSHEET = /\.(xlsx|xlsm|xls|csv)$/i;
const CONTENT_TYPES: Record<string, string> = {
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.xlsm': 'application/vnd.ms-excel.sheet.macroEnabled.12',
  '.xls': 'application/vnd.ms-excel',
  '.csv': 'text/csv',
};

export interface FileInLine {
  path: string;
  name: string;
  contentType: string;
  /** The message without the path ("import" in "import ./orders.xlsx"). */
  rest: string;
}

/** The first spreadsheet path in the line ("quoted paths" may hold spaces; ~ is the home folder) that exists. */
export function findFileInLine(line: string, cwd = process.cwd()): FileInLine | undefined {
  const tokens = /"([^"]+)"|'([^']+)'|(\S+)/g;
  for (let m = tokens.exec(line); m; m = tokens.exec(line)) {
    const written = m[1] ?? m[2] ?? m[3] ?? '';
    if (!SPREADSHEET.test(written)) continue;
    const path = resolve(cwd, written.startsWith('~/') ? join(homedir(), written.slice(2)) : written);
    if (!existsSync(path) || !statSync(path).isFile()) continue;
    const rest = `${line.slice(0, m.index)} ${line.slice(m.index + m[0].length)}`.replace(/\s+/g, ' ').trim();
    return { path, name: basename(path), contentType: CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream', rest };
  }
  return undefined;
}

/** Downloads a file the bot sent into `dir` (never over an existing file); returns where it went. */
export async function saveReceivedFile(url: string, name: string, dir: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`the server answered ${response.status}`);
  const bytes = Buffer.from(await response.arrayBuffer());
  mkdirSync(dir, { recursive: true });
  // eslint-disable-next-line no-control-regex
  const safe = basename(name).replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_') || 'file';
  const ext = extname(safe);
  let target = join(dir, safe);
  for (let i = 1; existsSync(target); i++) target = join(dir, `${safe.slice(0, safe.length - ext.length)} (${i})${ext}`);
  writeFileSync(target, bytes, { flag: 'wx' });
  return target;
}

/** The files (not cards) in a bot activity that can be downloaded. */
export function downloadableFiles(attachments: readonly unknown[] | undefined): { name: string; url: string }[] {
  const out: { name: string; url: string }[] = [];
  for (const a of attachments ?? []) {
    const { contentType, contentUrl, name } = (a ?? {}) as { contentType?: unknown; contentUrl?: unknown; name?: unknown };
    if (typeof contentType !== 'string' || contentType.startsWith('application/vnd.microsoft.card.')) continue;
    if (typeof contentUrl === 'string' && /^https?:\/\//i.test(contentUrl)) out.push({ name: typeof name === 'string' ? name : 'file', url: contentUrl });
  }
  return out;
}
