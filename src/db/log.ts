/**
 * The logging surface the database and tracing code needs. A pino logger satisfies it; tests and
 * the CLI can pass `silentLog`.
 */
export interface Log {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

export const silentLog: Log = { debug: noop, info: noop, warn: noop, error: noop };
