import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { silentLog, type Log } from './log.js';

export interface EmbeddedPostgresOptions {
  /** Directory PGlite keeps its files in (created if missing). */
  dataDir: string;
  /** Loopback address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Port to listen on; 0 (default) picks a free one. It stays the same across `restartServer()`. */
  port?: number;
  logger?: Log;
}

/**
 * PGlite (Postgres compiled to WASM, persisted in a directory) served in-process over the
 * Postgres wire protocol on loopback, so `pg`, TypeORM and anything else that speaks Postgres
 * work unchanged against it.
 *
 * Limits that callers must respect:
 * - One PGlite instance per data directory, ever: a second process opening the same directory
 *   corrupts it. `start()` takes a lock file (`<dataDir>.lock`, holding the pid) and refuses if a
 *   live process holds it.
 * - pglite-socket interleaves extended-protocol messages of concurrent connections
 *   (electric-sql/pglite#1046), so clients must use exactly one connection at a time.
 *   `maxConnections` is a little above one only so a reconnect does not bounce off a slot the
 *   previous (already dead) connection has not released yet.
 * - A hard kill can corrupt PGlite's WAL (electric-sql/pglite#327): call `stop()` on shutdown.
 */
export class EmbeddedPostgres {
  readonly dataDir: string;
  readonly host: string;
  private port: number;
  private readonly log: Log;
  private db?: PGlite;
  private server?: PGLiteSocketServer;
  private lockPath?: string;

  constructor(options: EmbeddedPostgresOptions) {
    this.dataDir = resolve(options.dataDir);
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.log = options.logger ?? silentLog;
  }

  /** `postgres://postgres@127.0.0.1:<port>/postgres`; valid once `start()` has resolved. */
  get url(): string {
    if (this.port === 0) throw new Error('EmbeddedPostgres: not started');
    return `postgres://postgres@${this.host}:${this.port}/postgres`;
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  get running(): boolean {
    return this.db !== undefined;
  }

  /** Opens (or initialises) the data directory and starts serving it. */
  async start(): Promise<void> {
    if (this.db) throw new Error('EmbeddedPostgres: already started');
    mkdirSync(dirname(this.dataDir), { recursive: true });
    this.acquireLock();
    try {
      const started = Date.now();
      this.db = await PGlite.create(this.dataDir);
      this.log.debug({ dataDir: this.dataDir, ms: Date.now() - started }, 'pglite opened');
      await this.startServer();
    } catch (err) {
      await this.db?.close().catch(() => {});
      this.db = undefined;
      this.releaseLock();
      throw err;
    }
    this.log.info({ dataDir: this.dataDir, address: `${this.host}:${this.port}` }, 'embedded postgres started');
  }

  /**
   * Starts listening (again) on the same host and port. With `stopServer()`, this lets tests
   * take the database away from clients and bring it back without closing PGlite.
   */
  async startServer(): Promise<void> {
    if (!this.db) throw new Error('EmbeddedPostgres: not started');
    if (this.server) return;
    const server = new PGLiteSocketServer({ db: this.db, host: this.host, port: this.port, maxConnections: 4 });
    await server.start();
    const address = server.getServerConn();
    this.port = Number(address.slice(address.lastIndexOf(':') + 1));
    this.server = server;
  }

  /** Stops listening and drops every client connection; PGlite itself stays open. */
  async stopServer(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await server.stop();
  }

  /** Drops every client connection and listens again on the same port. */
  async restartServer(): Promise<void> {
    await this.stopServer();
    await this.startServer();
  }

  /** Stops the socket server, then closes PGlite cleanly (checkpoint, files flushed). Idempotent. */
  async stop(): Promise<void> {
    await this.stopServer();
    const db = this.db;
    this.db = undefined;
    try {
      if (db && !db.closed) await db.close();
    } finally {
      this.releaseLock();
    }
    this.log.info({ dataDir: this.dataDir }, 'embedded postgres stopped');
  }

  private acquireLock(): void {
    // Beside the directory, not in it: PGlite decides whether to initdb from the directory's contents.
    const path = `${this.dataDir}.lock`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(path, String(process.pid), { flag: 'wx' });
        this.lockPath = path;
        openInThisProcess.add(this.dataDir);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (holder === process.pid && openInThisProcess.has(this.dataDir)) {
        throw new Error(`EmbeddedPostgres: ${this.dataDir} is already open in this process`);
      }
      // Our own pid but not open here: a stale lock from before a container restart (pids repeat).
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(
          `EmbeddedPostgres: ${this.dataDir} is in use by process ${holder} (lock file ${path}); ` +
            'a PGlite directory must never be opened twice. If no such process uses it, delete the lock file.',
        );
      }
      // Stale lock left by a process that died: take it over.
      this.log.warn({ dataDir: this.dataDir, stalePid: holder }, 'removing stale embedded postgres lock');
      rmSync(path, { force: true });
    }
    throw new Error(`EmbeddedPostgres: could not lock ${this.dataDir}`);
  }

  private releaseLock(): void {
    if (!this.lockPath) return;
    rmSync(this.lockPath, { force: true });
    this.lockPath = undefined;
    openInThisProcess.delete(this.dataDir);
  }
}

const openInThisProcess = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
