import { describe, expect, it } from 'vitest';
import { ephemeralRangeStart, freePort } from '../../src/util/freePort.js';

describe('freePort (ports for child processes)', () => {
  it('never hands out a port of the ephemeral range, where outgoing connections and listen(0) may take it', async () => {
    const top = ephemeralRangeStart();
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    for (const port of ports) expect(port).toBeLessThan(top);
    expect(new Set(ports).size).toBe(ports.length);
  });

});
