import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';

/**
 * A loopback stand-in for the Bot Framework token service's OpenID metadata and signing keys,
 * so auth tests exercise the SDK's real JWT validation with tokens we can sign (or forge).
 */
export class LocalTokenIssuer {
  readonly kid = 'test-key-1';
  private readonly keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private readonly otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const base = this.baseUrl;
      if (req.url === '/openid') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ issuer: BOT_FRAMEWORK_ISSUER, jwks_uri: `${base}/keys`, id_token_signing_alg_values_supported: ['RS256'] }));
      } else if (req.url === '/keys') {
        const jwk = this.keys.publicKey.export({ format: 'jwk' });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [{ ...jwk, kid: this.kid, use: 'sig', endorsements: ['msteams', 'terminal', 'test'] }] }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `${this.baseUrl}/openid`;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** A token as the channel would send it; `overrides` tamper with claims, key or algorithm. */
  sign(
    claims: { aud: string; serviceurl: string },
    overrides: { expiresInSec?: number; key?: 'valid' | 'forged'; iss?: string } = {},
  ): string {
    const key: KeyObject = overrides.key === 'forged' ? this.otherKeys.privateKey : this.keys.privateKey;
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (overrides.expiresInSec ?? 3600);
    return jwt.sign({ ...claims, iss: overrides.iss ?? BOT_FRAMEWORK_ISSUER, nbf: now - 600, iat: now - 600, exp }, key, {
      algorithm: 'RS256',
      keyid: this.kid,
    });
  }

  /** An HS256 token "signed" with the public key as secret: the classic algorithm-confusion attack. */
  signWithWrongAlgorithm(claims: { aud: string; serviceurl: string }): string {
    const secret = this.keys.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    return jwt.sign({ ...claims, iss: BOT_FRAMEWORK_ISSUER }, secret, { algorithm: 'HS256', keyid: this.kid, expiresIn: 3600 });
  }
}
