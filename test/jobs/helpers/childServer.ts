/** Starts test/jobs/helpers/jobServer.ts as a child process and knows how to kill it. */
import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildServer {
  url: string;
  pid: number;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
  /** Its stderr so far (for failure messages). */
  stderr(): string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export async function startChildServer(env: Record<string, string>, timeoutMs = 90_000): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/jobs/helpers/jobServer.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString()).slice(-8000);
  });
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`child server not ready after ${timeoutMs} ms:\n${err}`)), timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const ready = /READY (\S+)/.exec(out);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child server exited (${code ?? signal}) before it was ready:\n${err}`));
    });
  }).catch(async (e: unknown) => {
    await kill();
    throw e;
  });
  return { url, pid: child.pid!, kill, stderr: () => err };
}
