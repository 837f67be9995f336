import { errorMessage, isPoolTimeout, sqlState } from './errors.js';

/**
 * The database named by DATABASE_URL could not be opened at start. Its message is one line an
 * operator can act on — what failed, where (the URL without its password), and what to do — so
 * `npm start` prints that instead of a driver stack trace (src/main.ts).
 */
export class DatabaseStartError extends Error {
  /** The driver's error, where errors.ts looks for it: callers still classify it as before. */
  readonly driverError: unknown;

  constructor(
    readonly displayUrl: string,
    cause: unknown,
  ) {
    super(`cannot open the database at ${displayUrl}: ${explain(cause, displayUrl)}`, { cause });
    this.name = 'DatabaseStartError';
    this.driverError = cause;
  }
}

function explain(err: unknown, displayUrl: string): string {
  const code = err && typeof err === 'object' && 'code' in err ? String(err.code) : '';
  const state = sqlState(err);
  const fixUrl = 'fix DATABASE_URL (or unset it to use the embedded database in DATA_DIR)';
  if (code === 'ECONNREFUSED') return `connection refused. Start PostgreSQL there, or ${fixUrl}.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found. ${capitalise(fixUrl)}.`;
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || isPoolTimeout(err))
    return `no answer (${errorMessage(err)}). Check that PostgreSQL runs there and is reachable, or ${fixUrl}.`;
  if (state === '3D000') {
    const name = new URL(displayUrl).pathname.slice(1) || '(none)';
    return `database "${decodeURIComponent(name)}" does not exist. Create it (createdb ${decodeURIComponent(name)}), or ${fixUrl}.`;
  }
  if (state?.startsWith('28')) return `${errorMessage(err)}. Check the user and password in DATABASE_URL.`;
  return `${errorMessage(err)}. Check that PostgreSQL runs there, or ${fixUrl}.`;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
