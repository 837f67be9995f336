import type pg from 'pg';

/**
 * Settings for a connection that must stay ONE PostgreSQL session for its whole life: LISTEN
 * (notifications go to the session that listened) and session-level advisory locks (held by the
 * session that took them). Behind a transaction-mode pooler (PgBouncer `pool_mode = transaction`)
 * neither survives — the next statement may run on another server session — so such connections
 * go to `sessionUrl` (DATABASE_SESSION_URL: the server itself, or a session-mode pool) with the
 * pool's other settings; without one, the pool's own settings.
 */
export function sessionClientConfig(pool: pg.ClientConfig, sessionUrl: string | undefined): pg.ClientConfig {
  return sessionUrl ? { ...pool, connectionString: sessionUrl } : pool;
}
