import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpError } from '../http/httpErrors.js';

/**
 * Static files for the web chat and the dashboard: our own pages under `static/`, and the browser
 * bundles of botframework-webchat and uPlot straight from node_modules — nothing is fetched from a
 * CDN. Only files named in code are served (no path from a URL ever reaches the file system).
 */

export const STATIC_DIR = fileURLToPath(new URL('../../../static/', import.meta.url));

const require = createRequire(import.meta.url);

/** The root folder of an installed package (works for packages whose `exports` hide package.json). */
export function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package root of ${name} not found`);
    dir = parent;
  }
}

export interface StaticFile {
  path: string;
  contentType: string;
  /** Content-Security-Policy for HTML pages. */
  csp?: string;
  /** Long-lived caching for vendored bundles; pages are `no-cache`. */
  immutable?: boolean;
}

export const CONTENT_TYPES = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

/** Headers every page and asset gets. */
export function securityHeaders(res: ServerResponse, csp?: string): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  if (csp) res.setHeader('content-security-policy', csp);
}

export async function sendStaticFile(res: ServerResponse, file: StaticFile, status = 200): Promise<void> {
  let size: number;
  try {
    size = (await stat(file.path)).size;
  } catch {
    throw new HttpError(404, 'not_found', 'Not found.');
  }
  securityHeaders(res, file.csp);
  res.writeHead(status, {
    'content-type': file.contentType,
    'content-length': size,
    'cache-control': file.immutable ? 'public, max-age=86400' : 'no-cache',
  });
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file.path);
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res).on('finish', resolve);
  });
}

/** Writes an HTML string (used to show the dashboard sign-in form with an error). */
export function sendHtml(res: ServerResponse, status: number, html: string, csp: string): void {
  securityHeaders(res, csp);
  res.writeHead(status, {
    'content-type': CONTENT_TYPES.html,
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
  });
  res.end(html);
}

/** CSP for our pages: our own scripts only, no inline script, no other origin. */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // Web Chat and uPlot set inline styles; no script can come in that way.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
