import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, ENV_KEYS, loadConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('defaults to a local trial: port 3978, loopback, embedded database, auth off', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3978);
    expect(config.host).toBe('127.0.0.1');
    expect(config.database).toEqual({ mode: 'embedded', dataDir: './data' });
    expect(config.bot.authEnabled).toBe(false);
    expect(config.maxBodyBytes).toBe(256 * 1024);
  });

  it('batches oldest-first unless INFERENCE_MAX_PASS_OVER lets the pool pick rows of similar length', () => {
    expect(loadConfig({}).inference.maxPassOver).toBe(0);
    expect(loadConfig({ INFERENCE_MAX_PASS_OVER: '16' }).inference.maxPassOver).toBe(16);
  });

  it('uses DATABASE_URL for production Postgres', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u@db:5432/rpa' });
    expect(config.database).toEqual({ mode: 'postgres', url: 'postgres://u@db:5432/rpa' });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ MAX_BODY_BYTES: '-5' }, 'MAX_BODY_BYTES'],
    [{ MicrosoftAppId: 'abc' }, 'MicrosoftAppPassword'],
    [{ MicrosoftAppId: 'abc', MicrosoftAppPassword: 'x', MicrosoftAppType: 'SingleTenant' }, 'MicrosoftAppTenantId'],
    [{ HOST: '0.0.0.0' }, 'HOST'],
    [{ INFERENCE_MAX_PASS_OVER: '-1' }, 'INFERENCE_MAX_PASS_OVER'],
    [{ INFERENCE_MAX_PASS_OVER: '2.5' }, 'INFERENCE_MAX_PASS_OVER'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrowError(ConfigError);
    expect(() => loadConfig(env)).toThrowError(new RegExp(variable));
  });

  it('allows a public bind address only with Bot Framework credentials (no open relay)', () => {
    const config = loadConfig({ HOST: '0.0.0.0', MicrosoftAppId: 'app', MicrosoftAppPassword: 'secret' });
    expect(config.bot.authEnabled).toBe(true);
    expect(config.host).toBe('0.0.0.0');
  });

  it('treats empty strings (copied from .env.example) as unset', () => {
    const config = loadConfig({ MicrosoftAppId: '', DATABASE_URL: '', PORT: '' });
    expect(config.bot.authEnabled).toBe(false);
    expect(config.database.mode).toBe('embedded');
    expect(config.port).toBe(3978);
  });

  it('.env.example documents every variable the app reads', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]));
    const missing = ENV_KEYS.filter((key) => !documented.has(key));
    expect(missing).toEqual([]);
  });
});
