import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppPackageError, SCHEMA_PATH, buildAppPackage, validateManifest } from '../../../src/bot/teams/appPackage.js';
import { checkIcon, renderColorIcon } from '../../../src/bot/teams/icons.js';

const APP_ID = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';

describe('Teams app package', () => {
  let dir: string;
  let zipPath: string;
  let zip: JSZip;
  let manifest: Record<string, unknown>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rpa-teams-'));
    const built = await buildAppPackage({ appId: APP_ID, outFile: join(dir, 'app.zip') });
    zipPath = built.zipPath;
    zip = await JSZip.loadAsync(readFileSync(zipPath));
    manifest = JSON.parse(await zip.file('manifest.json')!.async('string')) as Record<string, unknown>;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('zips exactly manifest.json and the two icons, flat at the root', () => {
    expect(Object.keys(zip.files).sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    expect(Object.values(zip.files).every((f) => !f.dir && !f.name.includes('/'))).toBe(true);
  });

  it('has a 192×192 colour icon and a 32×32 white-on-transparent outline icon', async () => {
    const color = PNG.sync.read(await zip.file('color.png')!.async('nodebuffer'));
    expect([color.width, color.height]).toEqual([192, 192]);
    const outlineBytes = await zip.file('outline.png')!.async('nodebuffer');
    const outline = PNG.sync.read(outlineBytes);
    expect([outline.width, outline.height]).toEqual([32, 32]);
    let transparent = 0;
    let drawn = 0;
    for (let i = 0; i < outline.data.length; i += 4) {
      if (outline.data[i + 3] === 0) {
        transparent++;
        continue;
      }
      drawn++;
      expect([outline.data[i], outline.data[i + 1], outline.data[i + 2]]).toEqual([255, 255, 255]);
    }
    expect(transparent).toBeGreaterThan(0);
    expect(drawn).toBeGreaterThan(0);
    expect(checkIcon(outlineBytes, 'outline').problems).toEqual([]);
  });

  it('has a v1.30 manifest for a bot in personal, team and group chat scopes that supports files', () => {
    expect(manifest.$schema).toBe('https://developer.microsoft.com/en-us/json-schemas/teams/v1.30/MicrosoftTeams.schema.json');
    expect(manifest.manifestVersion).toBe('1.30');
    expect(manifest.id).toBe(APP_ID);
    expect(manifest.version).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(manifest.icons).toEqual({ color: 'color.png', outline: 'outline.png' });
    const [bot] = manifest.bots as { botId: string; scopes: string[]; supportsFiles: boolean }[];
    expect(bot?.botId).toBe(APP_ID);
    expect([...(bot?.scopes ?? [])].sort()).toEqual(['groupChat', 'personal', 'team']);
    expect(bot?.supportsFiles).toBe(true);
  });

  it('validates against the shipped v1.30 JSON schema', () => {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { $schema: string; properties: { manifestVersion: { const: string } } };
    expect(schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(schema.properties.manifestVersion.const).toBe('1.30');
    expect(validateManifest(manifest)).toEqual([]);
  });

  it.each([
    ['a missing required field', (m: Record<string, unknown>) => delete m.developer, /required property 'developer'/],
    ['another manifest version', (m: Record<string, unknown>) => (m.manifestVersion = '1.17'), /manifestVersion/],
    ['a bot id that is not a GUID', (m: Record<string, unknown>) => ((m.bots as { botId: string }[])[0]!.botId = 'my-bot'), /botId/],
    ['an unknown scope', (m: Record<string, unknown>) => ((m.bots as { scopes: string[] }[])[0]!.scopes = ['everywhere']), /scopes/],
    ['an unknown property', (m: Record<string, unknown>) => (m.colour = 'red'), /additional properties \(colour\)/],
    ['a short name over 30 characters', (m: Record<string, unknown>) => ((m.name as { short: string }).short = 'x'.repeat(31)), /name\/short/],
  ])('fails validation with %s', (_what, breakIt, message) => {
    const broken = structuredClone(manifest);
    breakIt(broken);
    const problems = validateManifest(broken);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(message);
  });

  it('builds the same bytes from the same inputs', async () => {
    const again = await buildAppPackage({ appId: APP_ID, outFile: join(dir, 'again.zip') });
    const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
    expect(hash(again.zipPath)).toBe(hash(zipPath));
  });

  it('refuses a missing or malformed app id with a clear message', async () => {
    await expect(buildAppPackage({ appId: undefined, outFile: join(dir, 'x.zip') })).rejects.toThrowError(AppPackageError);
    await expect(buildAppPackage({ appId: '', outFile: join(dir, 'x.zip') })).rejects.toThrowError(/MicrosoftAppId.*--app-id/);
    await expect(buildAppPackage({ appId: 'not-a-guid', outFile: join(dir, 'x.zip') })).rejects.toThrowError(/not a GUID/);
    await expect(buildAppPackage({ appId: APP_ID, version: '1.0', outFile: join(dir, 'x.zip') })).rejects.toThrowError(/MAJOR\.MINOR\.PATCH/);
  });

  it('icon checks catch a wrong size and a coloured outline', () => {
    expect(checkIcon(renderColorIcon(), 'outline').problems.join('\n')).toMatch(/32×32.*192×192[\s\S]*white/);
    expect(checkIcon(Buffer.from('not a png'), 'color').problems[0]).toMatch(/not a readable PNG/);
  });
});

describe('npm run teams:package (CLI)', () => {
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const { MicrosoftAppId: _drop, ...base } = process.env;
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/teamsPackage.ts', ...args], { env: { ...base, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('takes the app id from MicrosoftAppId or --app-id, and fails clearly without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpa-teams-cli-'));
    try {
      const fromEnv = await run(['--out', join(dir, 'env.zip')], { MicrosoftAppId: APP_ID });
      expect(fromEnv.code, fromEnv.stderr).toBe(0);
      expect(fromEnv.stdout).toMatch(/env\.zip.*manifest valid against schema v1\.30/);
      const fromFlag = await run(['--app-id', APP_ID, '--out', join(dir, 'flag.zip')], {});
      expect(fromFlag.code, fromFlag.stderr).toBe(0);
      const missing = await run(['--out', join(dir, 'none.zip')], {});
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/No app id: set MicrosoftAppId .* or pass --app-id <GUID>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
