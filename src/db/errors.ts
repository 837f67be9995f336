/**
 * Classifies database errors so callers can tell "the database is away / temporarily unable"
 * (retry later, keep the data) from "this statement or row is bad" (retrying will not help).
 */

/** Node socket errors that mean the server could not be reached or the connection broke. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Messages node-postgres / pg-pool / TypeORM use for connection-level failures (they carry no code). */
const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /connection error/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /client was closed/i,
  /cannot use a pool after calling end/i,
  /connection is not (?:yet )?established/i,
  /connection(?: is)? closed/i,
];

/**
 * SQLSTATE classes that describe the server's state, not the statement's data:
 * 08 connection exception, 25 invalid transaction state (e.g. read-only after a failover),
 * 40 transaction rollback (serialization/deadlock), 53 insufficient resources, 55 object not in
 * prerequisite state (lock not available), 57 operator intervention (admin shutdown, cancel,
 * crash recovery), 58 system error, 3D/3F/42P01 missing database/schema/table (mid-migration),
 * 28 authentication. Not XX (internal error, data/index corrupted): retrying will not fix those, and
 * treating them as transient could block a writer on one bad row forever.
 */
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '25', '40', '53', '55', '57', '58', '3D', '3F', '28']);
const TRANSIENT_SQLSTATES = new Set(['42P01']);

/** The error node-postgres produced, unwrapping TypeORM's QueryFailedError (`driverError`). */
function driverError(err: unknown): unknown {
  if (err && typeof err === 'object' && 'driverError' in err && err.driverError) {
    return err.driverError;
  }
  return err;
}

/** The 5-character SQLSTATE of a server error, if the error came from the server. */
export function sqlState(err: unknown): string | undefined {
  const inner = driverError(err);
  if (inner && typeof inner === 'object' && 'code' in inner && typeof inner.code === 'string') {
    return /^[0-9A-Z]{5}$/.test(inner.code) ? inner.code : undefined;
  }
  return undefined;
}

/** True when the connection failed or could not be made (nothing the statement did). */
export function isConnectionError(err: unknown): boolean {
  const inner = driverError(err);
  if (inner && typeof inner === 'object') {
    const code = 'code' in inner ? inner.code : undefined;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    const state = sqlState(inner);
    if (state?.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03') return true;
  }
  const message = inner instanceof Error ? inner.message : typeof inner === 'string' ? inner : '';
  return CONNECTION_MESSAGES.some((re) => re.test(message));
}

/**
 * True when retrying the same statement later may succeed: connection failures and server-state
 * SQLSTATEs. False for data errors (class 22 data exception, 23 integrity violation, 54 limits,
 * …) and client-side errors with no SQLSTATE, which retrying cannot fix.
 */
export function isTransientDbError(err: unknown): boolean {
  if (isConnectionError(err)) return true;
  const state = sqlState(err);
  if (!state) return false;
  return TRANSIENT_SQLSTATES.has(state) || TRANSIENT_SQLSTATE_CLASSES.has(state.slice(0, 2));
}

/** pg-pool gave up waiting for a connection (pool saturated, or connecting took too long). */
export function isPoolTimeout(err: unknown): boolean {
  const inner = driverError(err);
  return inner instanceof Error && /timeout exceeded when trying to connect/i.test(inner.message);
}

export function errorMessage(err: unknown): string {
  const inner = driverError(err);
  if (inner instanceof Error) return inner.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
