import type { IncomingMessage } from 'node:http';
import { HttpError } from './httpErrors.js';

/**
 * Reads and parses a JSON request body with a hard size limit. restify's bodyParser has no
 * limit by default and answers parse errors with the parser's message; this keeps both in our hands.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const raw = await readRawBody(req, maxBytes);
  if (raw.length === 0) throw new HttpError(400, 'empty_body', 'Request body is empty.');
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'Request body is not valid JSON.');
  }
}

export async function readRawBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume(); // drain so the socket can answer
    throw new HttpError(413, 'payload_too_large', `Request body exceeds ${maxBytes} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) {
      req.resume();
      throw new HttpError(413, 'payload_too_large', `Request body exceeds ${maxBytes} bytes.`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}
