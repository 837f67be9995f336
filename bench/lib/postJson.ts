/**
 * The open-loop generator's HTTP client: one POST of a JSON body over a keep-alive node:http(s)
 * agent, the response read to its end. The generator shares the box with the server it measures,
 * so its own CPU is load on the measurement: node:http costs about half of what global fetch
 * (undici, streams, WHATWG objects) costs per request on Node 20 — see docs/performance.md.
 */
import http from 'node:http';
import https from 'node:https';

const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/** A request that ran past its time limit (the same name as fetch's AbortSignal.timeout error). */
export class PostTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** POSTs `body` (JSON text) to `url`; resolves with the status once the response has ended. */
export function postJson(url: URL, body: string, headers: Record<string, string>, timeoutMs: number): Promise<number> {
  const lib = url.protocol === 'https:' ? https : http;
  const agent = agents[url.protocol as keyof typeof agents];
  if (!agent) return Promise.reject(new Error(`unsupported protocol ${url.protocol}`));
  return new Promise<number>((resolve, reject) => {
    const req = lib.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          resolve(res.statusCode ?? 0);
        });
        res.resume();
      },
    );
    const timer = setTimeout(() => req.destroy(new PostTimeoutError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
}
