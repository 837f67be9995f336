import { pino, type Logger } from 'pino';

export interface CapturedLog {
  level: number;
  msg?: string;
  err?: { type?: string; message?: string; stack?: string };
  [key: string]: unknown;
}

/** A real pino logger whose lines are kept in memory, so a test can assert on what the server logged. */
export function captureLogger(level = 'info'): { logger: Logger; lines: CapturedLog[]; problems: () => CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as CapturedLog) });
  /** Warnings and errors, and any line that carries a TypeError. */
  const problems = () => lines.filter((l) => l.level >= 40 || /TypeError/.test(JSON.stringify(l)));
  return { logger, lines, problems };
}
