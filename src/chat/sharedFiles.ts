import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Files the terminal chat sends the bot. Like a real channel, the client keeps the file and puts
 * its URL in the attachment (`contentUrl`); the bot downloads it from there. The URL is on this
 * client's own serviceUrl (loopback), which the bot accepts as the sending channel's file store,
 * under a random token, and only for a while.
 */
export class SharedFiles {
  private readonly files = new Map<string, { bytes: Buffer; contentType: string; until: number }>();

  constructor(
    private readonly baseUrl: () => string,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  /** Makes `bytes` downloadable; returns the URL to put in the attachment. */
  add(bytes: Buffer, contentType: string): string {
    const token = randomBytes(24).toString('base64url');
    this.files.set(token, { bytes, contentType, until: Date.now() + this.ttlMs });
    return `${this.baseUrl()}/files/${token}`;
  }

  /** Answers GET /files/<token>; false for any other request. */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const match = /^\/files\/([A-Za-z0-9_-]{32})$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !match) return false;
    const file = this.files.get(match[1]!);
    if (!file || file.until < Date.now()) {
      res.writeHead(404).end();
      return true;
    }
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.length });
    res.end(file.bytes);
    return true;
  }
}
