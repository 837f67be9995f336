/**
 * Microsoft 365 Agents Playground (`@microsoft/m365agentsplayground`, a devDependency) as a child
 * process: a local Teams-like client — web page plus a mocked Bot Connector — that runs offline.
 * It posts activities to our /api/messages with `channelId: 'msteams'` and takes our replies on
 * its own connector (the serviceUrl), so the server's SERVICE_URL_ALLOWLIST must name that origin.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { freePort } from '../../src/util/freePort.js';

export interface Playground {
  /** The page, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The mocked connector the bot replies to; its origin goes into SERVICE_URL_ALLOWLIST. */
  serviceUrl: string;
  /** Everything it printed, for failure messages. */
  output(): string;
  close(): Promise<void>;
}

export { freePort };

const require = createRequire(import.meta.url);
const CLI = require.resolve('@microsoft/m365agentsplayground/cli.js');

/**
 * Starts the Playground in Teams mode, pointed at `appEndpoint`, with telemetry off, and waits until
 * it listens. `port` must be known before the bot starts (the allow-list), so the caller picks it.
 */
export async function startPlayground(appEndpoint: string, port: number, timeoutMs = 60_000): Promise<Playground> {
  const serviceUrl = `http://127.0.0.1:${port}/_connector`;
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, '--dt', '-c', 'msteams', '-e', appEndpoint, '-p', String(port), '--su', serviceUrl],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BROWSER: 'none' } },
  );
  let output = '';
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Never outlive the test process, even when it ends without running afterAll.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killTimer);
    }
  };

  try {
    const listening = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Playground did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
      const check = () => {
        const match = /Listening on (\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout?.on('data', check);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Playground exited (${code ?? signal}) before listening:\n${output}`));
      });
    });
    if (listening !== port) throw new Error(`Playground took port ${listening}, not ${port} (taken meanwhile); the bot's allow-list names ${port}`);
  } catch (err) {
    await close();
    throw err;
  }
  return { url: `http://127.0.0.1:${port}`, serviceUrl, output: () => output, close };
}
