/**
 * A free loopback port for a child process to listen on.
 *
 * Why not `listen(0)`: that port comes from the kernel's ephemeral range, the same range every
 * outgoing connection and every other `listen(0)` draws from. Between closing the probe and the
 * child's own `listen` (seconds for a server that loads a model), any of them may take it — CI
 * saw a replica die with EADDRINUSE that way. A random port below the ephemeral range is only
 * ever handed out by this function, so the window is harmless unless two callers draw the same
 * number out of ~20,000.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';

const LOWEST = 10_000;

/** The first port of the kernel's ephemeral range (Linux), 32768 where it cannot be read. */
export function ephemeralRangeStart(): number {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > LOWEST + 1000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

const bindable = (port: number, host: string) =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });

/** Ports this process has handed out, never handed out twice (a child may not be listening yet). */
const handedOut = new Set<number>();

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const top = ephemeralRangeStart();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (top - LOWEST));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port, host)) return port;
  }
  throw new Error(`no free port in ${LOWEST}–${top - 1} after 200 tries`);
}
