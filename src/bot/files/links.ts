import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { execute } from '../../db/sql.js';
import { cleanText } from '../../db/text.js';
import type { SkillFile } from '../../skills/types.js';
import { HttpError } from '../http/httpErrors.js';
import type { RouteInstaller } from '../server.js';

/**
 * Files handed out by link: GET /files/:token serves an export for a short while.
 *
 * Why a link: Bot Framework channels carry no bytes from bot to user. Teams can receive a file from
 * a bot only through its file-consent flow (FileConsentCard → the user accepts → the bot uploads to
 * the user's OneDrive), which needs a real tenant, the app's `supportsFiles` and Graph permissions;
 * Web Chat and the terminal chat have no upload path from the bot at all. A short-lived, unguessable
 * link on this server works in all of them. The token is 256 random bits; only its SHA-256 is kept,
 * so the table (or a backup of it) gives away no working link. Expired or unknown → 404.
 */

export const FILE_LINK_TTL_MS = 60 * 60_000;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export interface FileLink {
  url: string;
  expiresAt: Date;
}

const sha256 = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export class FileLinks {
  constructor(
    private readonly db: DataSource,
    private readonly options: { baseUrl: () => string; ttlMs?: number },
  ) {}

  get ttlMs(): number {
    return this.options.ttlMs ?? FILE_LINK_TTL_MS;
  }

  async create(file: SkillFile, conversationId?: string): Promise<FileLink> {
    const token = randomBytes(32).toString('base64url');
    // Expired files are dropped in passing (indexed on expires_at).
    await execute(this.db, 'DELETE FROM file_downloads WHERE expires_at < now()');
    const { rows } = await execute<{ expires_at: Date }>(
      this.db,
      `INSERT INTO file_downloads (token_sha256, file_name, content_type, bytes, conversation_id, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + $6 * interval '1 millisecond') RETURNING expires_at`,
      [sha256(token), cleanText(file.name), file.contentType, file.bytes, conversationId ?? null, this.ttlMs],
    );
    return { url: `${this.options.baseUrl().replace(/\/+$/, '')}/files/${token}`, expiresAt: new Date(rows[0]!.expires_at) };
  }

  async find(token: string): Promise<SkillFile | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const { rows } = await execute<{ file_name: string; content_type: string; bytes: Buffer }>(
      this.db,
      'SELECT file_name, content_type, bytes FROM file_downloads WHERE token_sha256 = $1 AND expires_at > now()',
      [sha256(token)],
    );
    const row = rows[0];
    return row ? { name: row.file_name, contentType: row.content_type, bytes: Buffer.from(row.bytes) } : undefined;
  }

  readonly install: RouteInstaller = (server, { safe }) => {
    server.get(
      '/files/:token',
      safe(async (req, res) => {
        const file = await this.find((req as { params?: Record<string, string> }).params?.token ?? '');
        if (!file) throw new HttpError(404, 'not_found', 'This download link is unknown or has expired.');
        res.writeHead(200, {
          // Never rendered by a browser: downloaded, not sniffed, and sandboxed if opened anyway.
          'content-type': file.contentType,
          'content-length': file.bytes.length,
          'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
          'cache-control': 'private, no-store',
          'x-content-type-options': 'nosniff',
          'content-security-policy': "sandbox; default-src 'none'",
          'referrer-policy': 'no-referrer',
        });
        res.end(file.bytes);
      }),
    );
  };
}

/** http://host:port of a listening server (0.0.0.0 / :: → loopback), for links when PUBLIC_BASE_URL is unset. */
export function serverOrigin(address: AddressInfo | string | null): string {
  if (!address || typeof address === 'string') return '';
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::' || host === '::ffff:0.0.0.0') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
