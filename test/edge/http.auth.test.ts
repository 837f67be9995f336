import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningApp } from '../../src/app.js';
import { LocalTokenIssuer } from '../helpers/tokenIssuer.js';
import { makeActivity, post, startTestApp } from '../helpers/testApp.js';

const APP_ID = '00000000-0000-0000-0000-00000000b07a';

/**
 * Auth on (MicrosoftAppId set): the SDK's real JWT validation runs against a loopback OpenID
 * issuer whose key we hold, so valid tokens pass and every kind of bad token is a plain 401.
 */
describe('POST /api/messages with Bot Framework auth on', () => {
  let app: RunningApp;
  let issuer: LocalTokenIssuer;
  let dataDir: string;
  let endpoint: string;
  const serviceUrl = 'https://smba.trafficmanager.net/amer/';

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'rpa-auth-'));
    issuer = new LocalTokenIssuer();
    const metadataUrl = await issuer.start();
    app = await startTestApp(
      { DATA_DIR: dataDir },
      { MicrosoftAppId: APP_ID, MicrosoftAppPassword: 'not-used-with-expect-replies', BOT_OPENID_METADATA_URL: metadataUrl },
    );
    endpoint = `${app.url}/api/messages`;
  });

  afterAll(async () => {
    await app?.close();
    await issuer?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // expectReplies keeps the reply in the HTTP body: no outbound call to a real channel.
  const activity = () => makeActivity({ serviceUrl, text: 'hello', deliveryMode: 'expectReplies', channelId: 'msteams' });

  it('accepts a correctly signed token', async () => {
    const token = issuer.sign({ aud: APP_ID, serviceurl: serviceUrl });
    const res = await post(endpoint, activity(), { authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    expect((res.json as { activities: unknown[] }).activities.length).toBeGreaterThan(0);
  });

  it.each([
    ['missing token', () => undefined],
    ['not a JWT', () => 'Bearer abc.def'],
    ['expired token', () => `Bearer ${issuer.sign({ aud: APP_ID, serviceurl: serviceUrl }, { expiresInSec: -3600 })}`],
    ['wrong audience', () => `Bearer ${issuer.sign({ aud: 'someone-else', serviceurl: serviceUrl })}`],
    ['forged signature', () => `Bearer ${issuer.sign({ aud: APP_ID, serviceurl: serviceUrl }, { key: 'forged' })}`],
    ['wrong algorithm (HS256 with the public key)', () => `Bearer ${issuer.signWithWrongAlgorithm({ aud: APP_ID, serviceurl: serviceUrl })}`],
    ['wrong issuer', () => `Bearer ${issuer.sign({ aud: APP_ID, serviceurl: serviceUrl }, { iss: 'https://evil.example' })}`],
    ['serviceUrl claim mismatch', () => `Bearer ${issuer.sign({ aud: APP_ID, serviceurl: 'https://evil.example/' })}`],
  ])('%s → 401 with a generic body', async (_name, header) => {
    const value = header();
    const res = await post(endpoint, activity(), value ? { authorization: value } : {});
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: { code: 'unauthorized', message: 'Unauthorized.' } });
  });
});
