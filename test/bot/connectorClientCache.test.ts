/**
 * Connector clients are built once per (bot app id from the request's claims, serviceUrl,
 * audience) and reused by later turns (src/bot/connectorClientCache.ts, issue 16); a client is
 * never handed to a request for another app, serviceUrl or audience, and a failed build is retried.
 */
import { AuthenticationConstants, ClaimsIdentity, ConnectorFactory, type ConnectorClient } from 'botframework-connector';
import { describe, expect, it } from 'vitest';
import { ConnectorClientCache } from '../../src/bot/connectorClientCache.js';

class CountingFactory extends ConnectorFactory {
  built: string[] = [];
  failNext = false;
  async create(serviceUrl: string, audience?: string): Promise<ConnectorClient> {
    this.built.push(`${serviceUrl}|${audience}`);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('credentials unavailable');
    }
    return { serviceUrl, audience } as unknown as ConnectorClient;
  }
}

const claimsOf = (appId: string) => new ClaimsIdentity([{ type: AuthenticationConstants.AudienceClaim, value: appId }], true);

describe('connector client cache', () => {
  it('one build per app, serviceUrl and audience; later turns reuse it', async () => {
    const cache = new ConnectorClientCache();
    const inner = new CountingFactory();
    const turn = () => cache.factoryFor(inner, claimsOf('bot-a')).create('https://smba.example/', 'aud');
    const first = await turn();
    for (let i = 0; i < 9; i++) expect(await turn()).toBe(first);
    expect(inner.built).toHaveLength(1);
    expect(cache.stats()).toEqual({ created: 1, reused: 9 });
  });

  it('another app, serviceUrl or audience never gets that client', async () => {
    const cache = new ConnectorClientCache();
    const inner = new CountingFactory();
    const a = await cache.factoryFor(inner, claimsOf('bot-a')).create('https://smba.example/', 'aud');
    const otherApp = await cache.factoryFor(inner, claimsOf('bot-b')).create('https://smba.example/', 'aud');
    const otherUrl = await cache.factoryFor(inner, claimsOf('bot-a')).create('https://other.example/', 'aud');
    const otherAudience = await cache.factoryFor(inner, claimsOf('bot-a')).create('https://smba.example/', 'skill');
    expect(new Set([a, otherApp, otherUrl, otherAudience]).size).toBe(4);
    expect(inner.built).toHaveLength(4);
  });

  it('a failed build is not kept: the next request builds again', async () => {
    const cache = new ConnectorClientCache();
    const inner = new CountingFactory();
    inner.failNext = true;
    await expect(cache.factoryFor(inner, claimsOf('bot-a')).create('https://smba.example/')).rejects.toThrow(/credentials/);
    await expect(cache.factoryFor(inner, claimsOf('bot-a')).create('https://smba.example/')).resolves.toBeDefined();
    expect(inner.built).toHaveLength(2);
  });
});
