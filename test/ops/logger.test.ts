import { describe, expect, it } from 'vitest';
import { logFormat } from '../../src/logger.js';

describe('log format', () => {
  it.each([
    [{}, true, 'pretty'],
    [{}, false, 'json'],
    [{ NODE_ENV: 'production' }, true, 'json'],
    [{ LOG_FORMAT: 'json' }, true, 'json'],
    [{ LOG_FORMAT: 'pretty' }, false, 'pretty'],
  ] as const)('env %j, stderr a TTY: %s → %s', (env, tty, expected) => {
    expect(logFormat(env, tty)).toBe(expected);
  });
});
