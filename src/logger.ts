import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * `LOG_FORMAT` wins; otherwise a person at a terminal (stderr is a TTY) gets readable lines and
 * everything else (files, pipes, containers, log shippers) gets JSON.
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTty = process.stderr.isTTY === true): LogFormat {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') return env.LOG_FORMAT;
  return isTty && env.NODE_ENV !== 'production' ? 'pretty' : 'json';
}

/** One logger for the process, on stderr so stdout stays free for CLIs. */
export function createLogger(level: string, name = 'rpa-assistant', format: LogFormat = logFormat()): Logger {
  if (format === 'pretty') {
    // Synchronous, in-process pretty printing: no transport worker thread, nothing lost at exit.
    return pino({ name, level }, PinoPretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname' }));
  }
  return pino({ name, level }, pino.destination(2));
}
