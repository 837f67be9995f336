import { pino, type Logger } from 'pino';

export type { Logger };

/** One logger for the process; JSON lines on stderr so stdout stays free for CLIs. */
export function createLogger(level: string, name = 'rpa-assistant'): Logger {
  return pino({ name, level }, pino.destination(2));
}
